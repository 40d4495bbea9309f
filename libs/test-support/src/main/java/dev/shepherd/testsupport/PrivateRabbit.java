package dev.shepherd.testsupport;

import com.rabbitmq.client.ConnectionFactory;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
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

  private final int port = ManagedProcess.freePort();
  private final int distributionPort = ManagedProcess.freePort();
  private final String probeUsername;
  private final String probePassword;

  private PrivateRabbit(String extraConfig, String probeUsername, String probePassword) {
    super("rabbitmq", "SHEPHERD_RABBITMQ_SERVER", "/usr/lib/rabbitmq/bin/rabbitmq-server");
    this.probeUsername = probeUsername;
    this.probePassword = probePassword;
    try {
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

  @Override
  List<String> arguments() {
    return List.of();
  }

  @Override
  Map<String, String> environment() {
    return Map.ofEntries(
        Map.entry("HOME", dir.toString()),
        Map.entry("RABBITMQ_NODENAME", "shepherd-test-" + port + "@localhost"),
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
