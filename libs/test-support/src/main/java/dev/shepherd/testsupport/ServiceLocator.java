package dev.shepherd.testsupport;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * Finds a RabbitMQ and a Redis for the tests, in this order: the {@code SHEPHERD_RABBITMQ_URI} and
 * {@code SHEPHERD_REDIS_URI} environment variables, the local default ports, then containers where
 * a Docker engine runs. When none answers it throws with every address it tried and how to start
 * one; tests never skip for want of a broker.
 */
public final class ServiceLocator {

  public static final URI DEFAULT_RABBITMQ = URI.create("amqp://guest:guest@127.0.0.1:5672");
  public static final URI DEFAULT_REDIS = URI.create("redis://127.0.0.1:6379");

  private final Function<String, String> env;
  private final URI defaultRabbit;
  private final URI defaultRedis;
  private final Supplier<ServiceEndpoints> containers;

  /**
   * @param containers starts containers, or returns null when no Docker engine is there
   */
  public ServiceLocator(
      Function<String, String> env,
      URI defaultRabbit,
      URI defaultRedis,
      Supplier<ServiceEndpoints> containers) {
    this.env = env;
    this.defaultRabbit = defaultRabbit;
    this.defaultRedis = defaultRedis;
    this.containers = containers;
  }

  public static ServiceLocator standard() {
    return new ServiceLocator(
        System::getenv, DEFAULT_RABBITMQ, DEFAULT_REDIS, Containers::startIfDockerRuns);
  }

  /**
   * {@link #locate()}, then, when {@code $SHEPHERD_REDIS_BACKEND} or the system property {@code
   * shepherd.redis.backend} says {@code cluster}, a Redis Cluster of this JVM's own (three masters,
   * three replicas, {@link PrivateRedisCluster}) in place of the located Redis: the same tests run
   * on both backends. It is started once and ends with the JVM.
   */
  public ServiceEndpoints locateForBackend() {
    ServiceEndpoints located = locate();
    String backend =
        System.getProperty("shepherd.redis.backend", env.apply("SHEPHERD_REDIS_BACKEND"));
    if (backend == null || backend.isBlank() || backend.equals("single")) {
      return located;
    }
    if (!backend.equals("cluster")) {
      throw new IllegalStateException(
          "shepherd.redis.backend / SHEPHERD_REDIS_BACKEND is '"
              + backend
              + "'; it may be 'single' (the located Redis) or 'cluster' (a private Redis Cluster)");
    }
    return withOwnRedisCluster(located);
  }

  /**
   * {@code located}'s RabbitMQ with this JVM's own Redis Cluster (three masters, three replicas),
   * started on first use and closed when the JVM ends: for a test class that runs on the cluster
   * whatever the run's backend.
   */
  public static ServiceEndpoints withOwnRedisCluster(ServiceEndpoints located) {
    return located.withRedisCluster(
        OwnCluster.INSTANCE.addresses(), located.source() + ", private Redis Cluster");
  }

  /** This JVM's own Redis Cluster ({@link #withOwnRedisCluster}), started if it was not yet. */
  public static PrivateRedisCluster ownRedisCluster() {
    return OwnCluster.INSTANCE;
  }

  /** The JVM's own Redis Cluster, started on first use, closed when the JVM ends. */
  private static final class OwnCluster {
    static final PrivateRedisCluster INSTANCE = PrivateRedisCluster.launch();

    static {
      Runtime.getRuntime().addShutdownHook(new Thread(INSTANCE::close, "redis-cluster-close"));
    }
  }

  public ServiceEndpoints locate() {
    List<String> tried = new ArrayList<>();
    String rabbitEnv = env.apply("SHEPHERD_RABBITMQ_URI");
    String redisEnv = env.apply("SHEPHERD_REDIS_URI");
    URI rabbit = rabbitEnv == null || rabbitEnv.isBlank() ? defaultRabbit : URI.create(rabbitEnv);
    URI redis = redisEnv == null || redisEnv.isBlank() ? defaultRedis : URI.create(redisEnv);
    String rabbitFrom =
        rabbitEnv == null || rabbitEnv.isBlank() ? "default port" : "SHEPHERD_RABBITMQ_URI";
    String redisFrom =
        redisEnv == null || redisEnv.isBlank() ? "default port" : "SHEPHERD_REDIS_URI";

    String rabbitProblem = probeRabbit(rabbit);
    String redisProblem = probeRedis(redis);
    if (rabbitProblem == null && redisProblem == null) {
      return new ServiceEndpoints(rabbit, redis, rabbitFrom + " / " + redisFrom);
    }
    tried.add(
        "RabbitMQ at "
            + redacted(rabbit)
            + " ("
            + rabbitFrom
            + "): "
            + (rabbitProblem == null ? "ok" : rabbitProblem));
    tried.add(
        "Redis at "
            + redis
            + " ("
            + redisFrom
            + "): "
            + (redisProblem == null ? "ok" : redisProblem));

    boolean explicit =
        rabbitEnv != null && !rabbitEnv.isBlank() || redisEnv != null && !redisEnv.isBlank();
    if (!explicit) {
      ServiceEndpoints fromContainers = containers.get();
      if (fromContainers != null) {
        return fromContainers;
      }
      tried.add("Testcontainers: no Docker engine answers");
    }
    throw new IllegalStateException(message(tried, explicit));
  }

  static String message(List<String> tried, boolean explicit) {
    StringBuilder m = new StringBuilder();
    m.append("Shepherd's tests need a real RabbitMQ and Redis, and found none. Tried:\n");
    tried.forEach(t -> m.append("  - ").append(t).append('\n'));
    if (explicit) {
      m.append("The environment names these addresses explicitly, so nothing else was tried.\n");
    }
    m.append("Start them, for example:\n")
        .append("  rabbitmq-server -detached\n")
        .append("  redis-server --daemonize yes --port 6379 --save \"\"\n")
        .append("or point SHEPHERD_RABBITMQ_URI=amqp://user:pass@host:port/vhost and ")
        .append("SHEPHERD_REDIS_URI=redis://host:port at running ones.");
    return m.toString();
  }

  private static String redacted(URI uri) {
    return uri.getScheme()
        + "://"
        + uri.getHost()
        + ":"
        + (uri.getPort() < 0 ? 5672 : uri.getPort());
  }

  /** Null when an AMQP connection opens, else what went wrong. */
  static String probeRabbit(URI uri) {
    var endpoints = new ServiceEndpoints(uri, DEFAULT_REDIS, "probe");
    var factory = new com.rabbitmq.client.ConnectionFactory();
    factory.setHost(endpoints.rabbitHost());
    factory.setPort(endpoints.rabbitPort());
    factory.setUsername(endpoints.rabbitUsername());
    factory.setPassword(endpoints.rabbitPassword());
    factory.setVirtualHost(endpoints.rabbitVirtualHost());
    factory.setConnectionTimeout(2_000);
    factory.setHandshakeTimeout(3_000);
    try (var connection = factory.newConnection("shepherd-test-probe")) {
      return connection.isOpen() ? null : "connection closed at once";
    } catch (Exception e) {
      return e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage());
    }
  }

  /** Null when Redis answers PING with PONG, else what went wrong. */
  static String probeRedis(URI uri) {
    int port = uri.getPort() < 0 ? 6379 : uri.getPort();
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress(uri.getHost(), port), 2_000);
      socket.setSoTimeout(2_000);
      OutputStream out = socket.getOutputStream();
      out.write("PING\r\n".getBytes(StandardCharsets.US_ASCII));
      out.flush();
      InputStream in = socket.getInputStream();
      byte[] buffer = new byte[64];
      int n = in.read(buffer);
      String reply = n <= 0 ? "" : new String(buffer, 0, n, StandardCharsets.US_ASCII).trim();
      return reply.equals("+PONG") ? null : "answered '" + reply + "' to PING";
    } catch (IOException e) {
      return e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage());
    }
  }
}
