package dev.shepherd.testsupport;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A TCP proxy between one client and a server, for cutting a single process off the network without
 * touching the server. It listens on a free port of 127.0.0.1 and forwards every connection to the
 * target. Switched to {@link Mode#BLACKHOLE} it drops all bytes both ways while the connections
 * stay open, as a partitioned network or a dead switch does (the client sees time-outs, never a
 * reset); in {@link Mode#DROP_REPLIES} requests still reach the server but its replies are dropped,
 * so the server acts and the client never learns it did.
 *
 * <p>Dropped bytes leave the client's protocol stream out of step with the server's, so {@link
 * #pass()} closes every open connection before traffic flows again: the client reconnects, as it
 * would after a real partition healed.
 *
 * <pre>{@code
 * try (var proxy = TcpProxy.to("127.0.0.1", 6379)) {
 *   var redis = new LettuceConnectionFactory(new RedisStandaloneConfiguration("127.0.0.1", proxy.port()));
 *   ...
 *   proxy.blackhole(); // the client's commands now time out
 *   proxy.pass();      // connections reset; the client reconnects
 * }
 * }</pre>
 */
public final class TcpProxy implements AutoCloseable {

  /** What the proxy does with the bytes it receives. */
  public enum Mode {
    /** Forwards everything both ways. */
    PASS,
    /** Drops everything both ways; connections stay open. */
    BLACKHOLE,
    /** Forwards the client's bytes, drops the server's. */
    DROP_REPLIES
  }

  private final String targetHost;
  private final int targetPort;
  private final ServerSocket server;
  private final Set<Socket> open = ConcurrentHashMap.newKeySet();
  private volatile Mode mode = Mode.PASS;
  private volatile boolean closed;

  private TcpProxy(String targetHost, int targetPort) {
    this.targetHost = targetHost;
    this.targetPort = targetPort;
    try {
      server = new ServerSocket();
      server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    Thread.ofPlatform().name("tcp-proxy-accept-" + port()).daemon().start(this::accept);
  }

  /** Starts a proxy to {@code host:port} in {@link Mode#PASS}. */
  public static TcpProxy to(String host, int port) {
    return new TcpProxy(host, port);
  }

  /** The port clients connect to (on the loopback address). */
  public int port() {
    return server.getLocalPort();
  }

  public Mode mode() {
    return mode;
  }

  /** Drops all traffic both ways from now on; open connections stay open. */
  public void blackhole() {
    mode = Mode.BLACKHOLE;
  }

  /** Drops the server's replies from now on; the client's requests still reach the server. */
  public void dropReplies() {
    mode = Mode.DROP_REPLIES;
  }

  /**
   * Forwards everything again. If bytes were dropped, every open connection is closed first, so no
   * client reads a reply meant for an earlier request.
   */
  public void pass() {
    if (mode != Mode.PASS) {
      closeConnections();
    }
    mode = Mode.PASS;
  }

  /** Closes every open connection (both sides); new ones are accepted. */
  public void closeConnections() {
    for (Socket socket : open) {
      closeQuietly(socket);
    }
  }

  /** How many connections are open right now (client and server sides count one each). */
  public int openConnections() {
    return open.size() / 2;
  }

  private void accept() {
    while (!closed) {
      Socket client;
      try {
        client = server.accept();
      } catch (IOException e) {
        return; // closed
      }
      Socket upstream = new Socket();
      try {
        upstream.connect(new InetSocketAddress(targetHost, targetPort), 5_000);
      } catch (IOException e) {
        closeQuietly(client);
        closeQuietly(upstream);
        continue;
      }
      open.add(client);
      open.add(upstream);
      pump(client, upstream, false);
      pump(upstream, client, true);
    }
  }

  /** Copies {@code from} to {@code to} until either closes, dropping what the mode says. */
  private void pump(Socket from, Socket to, boolean reply) {
    Thread.ofPlatform()
        .name("tcp-proxy-" + port() + (reply ? "-reply" : "-request"))
        .daemon()
        .start(
            () -> {
              byte[] buffer = new byte[16 * 1024];
              try (InputStream in = from.getInputStream();
                  OutputStream out = to.getOutputStream()) {
                int n;
                while ((n = in.read(buffer)) >= 0) {
                  Mode now = mode;
                  boolean drop = now == Mode.BLACKHOLE || (reply && now == Mode.DROP_REPLIES);
                  if (!drop) {
                    out.write(buffer, 0, n);
                    out.flush();
                  }
                }
              } catch (IOException e) {
                // one side closed: close the other
              } finally {
                closeQuietly(from);
                closeQuietly(to);
              }
            });
  }

  private void closeQuietly(Socket socket) {
    open.remove(socket);
    try {
      socket.close();
    } catch (IOException e) {
      // already closed
    }
  }

  /** Stops listening and closes every connection. */
  @Override
  public void close() {
    closed = true;
    try {
      server.close();
    } catch (IOException e) {
      // already closed
    }
    closeConnections();
  }
}
