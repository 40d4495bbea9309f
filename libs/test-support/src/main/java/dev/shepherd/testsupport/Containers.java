package dev.shepherd.testsupport;

import java.net.URI;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.rabbitmq.RabbitMQContainer;
import org.testcontainers.utility.DockerImageName;

/** RabbitMQ and Redis in containers, for machines with a Docker engine. Kept for the JVM's life. */
final class Containers {

  private Containers() {}

  static ServiceEndpoints startIfDockerRuns() {
    boolean docker;
    try {
      docker = DockerClientFactory.instance().isDockerAvailable();
    } catch (RuntimeException | LinkageError e) {
      docker = false;
    }
    if (!docker) {
      return null;
    }
    var rabbit = new RabbitMQContainer(DockerImageName.parse("rabbitmq:3.13-management"));
    rabbit.start();
    var redis =
        new GenericContainer<>(DockerImageName.parse("redis:7-alpine")).withExposedPorts(6379);
    redis.start();
    return new ServiceEndpoints(
        URI.create("amqp://guest:guest@" + rabbit.getHost() + ":" + rabbit.getAmqpPort() + "/"),
        URI.create("redis://" + redis.getHost() + ":" + redis.getMappedPort(6379)),
        "Testcontainers");
  }
}
