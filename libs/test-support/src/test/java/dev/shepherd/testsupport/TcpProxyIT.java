package dev.shepherd.testsupport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The proxy against a small echo server: it forwards, blackholes, drops replies and heals. */
class TcpProxyIT {

  private ServerSocket echo;
  private final List<String> serverReceived = new CopyOnWriteArrayList<>();
  private TcpProxy proxy;

  @BeforeEach
  void startEchoServer() throws IOException {
    echo = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    Thread.ofPlatform()
        .daemon()
        .start(
            () -> {
              while (!echo.isClosed()) {
                try {
                  Socket s = echo.accept();
                  Thread.ofPlatform().daemon().start(() -> echoLines(s));
                } catch (IOException e) {
                  return;
                }
              }
            });
    proxy = TcpProxy.to("127.0.0.1", echo.getLocalPort());
  }

  @AfterEach
  void stop() throws IOException {
    proxy.close();
    echo.close();
  }

  @Test
  void itForwardsBothWaysWhilePassing() throws IOException {
    try (Socket client = connect()) {
      assertThat(roundTrip(client, "hello")).isEqualTo("hello");
      assertThat(roundTrip(client, "again")).isEqualTo("again");
    }
  }

  @Test
  void aBlackholeDropsEverythingButKeepsTheConnectionOpenAndPassResetsIt() throws IOException {
    try (Socket client = connect()) {
      assertThat(roundTrip(client, "before")).isEqualTo("before");
      proxy.blackhole();

      send(client, "lost");
      assertThatThrownBy(() -> readLine(client)).isInstanceOf(SocketTimeoutException.class);
      assertThat(serverReceived).containsExactly("before"); // the request never arrived either
      assertThat(client.isClosed()).isFalse();
      assertThat(proxy.openConnections()).isEqualTo(1);

      proxy.pass();
      // the old connection is reset, so nothing arrives out of step; a new one works
      await().atMost(Duration.ofSeconds(5)).until(() -> readsEndOfStream(client));
    }
    try (Socket again = connect()) {
      assertThat(roundTrip(again, "after")).isEqualTo("after");
    }
  }

  @Test
  void droppingRepliesLetsTheRequestReachTheServerButNotTheAnswerComeBack() throws IOException {
    try (Socket client = connect()) {
      proxy.dropReplies();
      send(client, "acted upon");
      await().atMost(Duration.ofSeconds(5)).until(() -> serverReceived.contains("acted upon"));
      assertThatThrownBy(() -> readLine(client)).isInstanceOf(SocketTimeoutException.class);
    }
  }

  // ---- fixtures ------------------------------------------------------------------------------

  private void echoLines(Socket s) {
    try (s;
        InputStream in = s.getInputStream()) {
      StringBuilder line = new StringBuilder();
      int c;
      while ((c = in.read()) >= 0) {
        if (c == '\n') {
          serverReceived.add(line.toString());
          s.getOutputStream().write((line + "\n").getBytes(StandardCharsets.UTF_8));
          line.setLength(0);
        } else {
          line.append((char) c);
        }
      }
    } catch (IOException e) {
      // the client or the proxy closed
    }
  }

  private Socket connect() throws IOException {
    Socket client = new Socket(InetAddress.getLoopbackAddress(), proxy.port());
    client.setSoTimeout(500);
    return client;
  }

  private static String roundTrip(Socket client, String text) throws IOException {
    send(client, text);
    return readLine(client);
  }

  private static void send(Socket client, String text) throws IOException {
    client.getOutputStream().write((text + "\n").getBytes(StandardCharsets.UTF_8));
    client.getOutputStream().flush();
  }

  private static String readLine(Socket client) throws IOException {
    StringBuilder line = new StringBuilder();
    int c;
    while ((c = client.getInputStream().read()) >= 0 && c != '\n') {
      line.append((char) c);
    }
    return line.toString();
  }

  private static boolean readsEndOfStream(Socket client) {
    try {
      return client.getInputStream().read() < 0;
    } catch (SocketTimeoutException e) {
      return false;
    } catch (IOException e) {
      return true; // reset
    }
  }
}
