package dev.shepherd.testsupport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.ServerSocket;
import java.net.URI;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class ServiceLocatorTest {

  /** A port that was free a moment ago: nothing answers there. */
  private static int closedPort() throws Exception {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }

  @Test
  void withNothingListeningAndNoDockerItFailsNamingEveryAddressItTried() throws Exception {
    int rabbit = closedPort();
    int redis = closedPort();
    AtomicInteger containerAttempts = new AtomicInteger();
    var locator =
        new ServiceLocator(
            name -> null,
            URI.create("amqp://guest:guest@127.0.0.1:" + rabbit + "/"),
            URI.create("redis://127.0.0.1:" + redis),
            () -> {
              containerAttempts.incrementAndGet();
              return null;
            });
    assertThatThrownBy(locator::locate)
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("127.0.0.1:" + rabbit)
        .hasMessageContaining("127.0.0.1:" + redis)
        .hasMessageContaining("Testcontainers: no Docker engine answers")
        .hasMessageContaining("rabbitmq-server -detached")
        .hasMessageContaining("SHEPHERD_REDIS_URI");
    assertThat(containerAttempts).hasValue(1);
  }

  @Test
  void addressesFromTheEnvironmentAreUsedAndNeverSilentlyReplaced() throws Exception {
    int port = closedPort();
    Map<String, String> env = Map.of("SHEPHERD_REDIS_URI", "redis://127.0.0.1:" + port);
    var locator =
        new ServiceLocator(
            env::get,
            ServiceLocator.DEFAULT_RABBITMQ,
            ServiceLocator.DEFAULT_REDIS,
            () -> {
              throw new AssertionError("must not fall back to containers");
            });
    assertThatThrownBy(locator::locate)
        .hasMessageContaining("SHEPHERD_REDIS_URI")
        .hasMessageContaining("127.0.0.1:" + port)
        .hasMessageContaining("nothing else was tried");
  }

  @Test
  void anAmqpUriIsTakenApart() {
    var endpoints =
        new ServiceEndpoints(
            URI.create("amqp://ann:s%40cret@mq.local:5673/jobs"),
            URI.create("redis://cache.local:6380"),
            "test");
    assertThat(endpoints.rabbitHost()).isEqualTo("mq.local");
    assertThat(endpoints.rabbitPort()).isEqualTo(5673);
    assertThat(endpoints.rabbitUsername()).isEqualTo("ann");
    assertThat(endpoints.rabbitPassword()).isEqualTo("s@cret");
    assertThat(endpoints.rabbitVirtualHost()).isEqualTo("jobs");
    assertThat(endpoints.asSpringProperties())
        .containsEntry("spring.rabbitmq.virtual-host", "jobs")
        .containsEntry("spring.data.redis.host", "cache.local")
        .containsEntry("spring.data.redis.port", "6380");
  }

  @Test
  void theDefaultVirtualHostIsTheRoot() {
    var endpoints =
        new ServiceEndpoints(ServiceLocator.DEFAULT_RABBITMQ, ServiceLocator.DEFAULT_REDIS, "test");
    assertThat(endpoints.rabbitVirtualHost()).isEqualTo("/");
    assertThat(endpoints.rabbitUsername()).isEqualTo("guest");
  }
}
