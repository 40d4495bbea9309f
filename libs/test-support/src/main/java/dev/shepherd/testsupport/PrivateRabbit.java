package dev.shepherd.testsupport;

import com.rabbitmq.client.ConnectionFactory;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * A RabbitMQ node of a test's own: its own node name, AMQP and distribution ports, data and log
 * directories, and no plugins. {@link #stop()} is a clean shutdown; durable queues and persistent
 * messages survive a {@link #restart()}. The server script is {@code
 * /usr/lib/rabbitmq/bin/rabbitmq-server} (Debian's package), or {@code $SHEPHERD_RABBITMQ_SERVER}.
 */
public final class PrivateRabbit extends PrivateServer {

  private final int port;
  private final int distributionPort;
  private final String probeUsername;
  private final String probePassword;

  private PrivateRabbit(String extraConfig, String probeUsername, String probePassword) {
    this(
        ManagedProcess.freePort(),
        ManagedProcess.freePort(),
        extraConfig,
        probeUsername,
        probePassword,
        null);
  }

  /**
   * A node whose ports are chosen beforehand, so that a {@link PrivateRabbitCluster} can name every
   * member in each member's configuration before any starts.
   *
   * @param erlangCookie written to {@code $HOME/.erlang.cookie} (the node's directory), mode 0400,
   *     so that nodes sharing it may cluster and {@code rabbitmqctl} may reach them; null for a
   *     node of its own, which then makes a cookie up at its first start
   */
  PrivateRabbit(
      int port,
      int distributionPort,
      String extraConfig,
      String probeUsername,
      String probePassword,
      String erlangCookie) {
    super("rabbitmq", "SHEPHERD_RABBITMQ_SERVER", "/usr/lib/rabbitmq/bin/rabbitmq-server");
    this.port = port;
    this.distributionPort = distributionPort;
    this.probeUsername = probeUsername;
    this.probePassword = probePassword;
    try {
      if (erlangCookie != null) {
        Path cookie = dir.resolve(".erlang.cookie");
        Files.writeString(cookie, erlangCookie);
        Files.setPosixFilePermissions(cookie, PosixFilePermissions.fromString("r--------"));
      }
      Files.writeString(
          dir.resolve("rabbitmq.conf"),
          "listeners.tcp.default = 127.0.0.1:" + port + "\nloopback_users = none\n" + extraConfig);
      Files.writeString(dir.resolve("rabbitmq-env.conf"), "");
      Files.writeString(dir.resolve("enabled_plugins"), "[].\n");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Starts one and returns once it accepts an AMQP connection. */
  public static PrivateRabbit launch() {
    return launch("", "guest", "guest");
  }

  /**
   * Starts one with {@code extraConfig} appended to its {@code rabbitmq.conf} (lines such as {@code
   * load_definitions = /path/definitions.json}) and returns once {@code probeUsername} can open an
   * AMQP connection: definitions loaded at boot may leave the node without its default user.
   */
  public static PrivateRabbit launch(
      String extraConfig, String probeUsername, String probePassword) {
    var rabbit = new PrivateRabbit(extraConfig, probeUsername, probePassword);
    try {
      rabbit.start();
      return rabbit;
    } catch (RuntimeException e) {
      rabbit.close();
      throw e;
    }
  }

  public int port() {
    return port;
  }

  /** The Erlang node name, {@code shepherd-test-<port>@localhost}. */
  public String nodeName() {
    return nodeName(port);
  }

  static String nodeName(int port) {
    return "shepherd-test-" + port + "@localhost";
  }

  /** The node's own directory: its {@code HOME}, configuration, data and logs. */
  Path dir() {
    return dir;
  }

  @Override
  List<String> arguments() {
    return List.of();
  }

  @Override
  Map<String, String> environment() {
    return Map.ofEntries(
        Map.entry("HOME", dir.toString()),
        Map.entry("RABBITMQ_NODENAME", nodeName()),
        Map.entry("RABBITMQ_NODE_PORT", Integer.toString(port)),
        Map.entry("RABBITMQ_DIST_PORT", Integer.toString(distributionPort)),
        Map.entry("RABBITMQ_CONFIG_FILE", dir.resolve("rabbitmq.conf").toString()),
        Map.entry("RABBITMQ_CONF_ENV_FILE", dir.resolve("rabbitmq-env.conf").toString()),
        Map.entry("RABBITMQ_ENABLED_PLUGINS_FILE", dir.resolve("enabled_plugins").toString()),
        Map.entry("RABBITMQ_MNESIA_BASE", dir.resolve("mnesia").toString()),
        Map.entry("RABBITMQ_LOG_BASE", dir.resolve("log").toString()),
        Map.entry("ERL_EPMD_ADDRESS", "127.0.0.1"));
  }

  @Override
  boolean answers() {
    return call(
        () -> {
          var factory = new ConnectionFactory();
          factory.setHost("127.0.0.1");
          factory.setPort(port);
          factory.setUsername(probeUsername);
          factory.setPassword(probePassword);
          factory.setConnectionTimeout(2000);
          try (var connection = factory.newConnection("shepherd-private-rabbit-probe")) {
            return connection.isOpen();
          }
        });
  }

  @Override
  Duration startTimeout() {
    return Duration.ofSeconds(90);
  }
}
