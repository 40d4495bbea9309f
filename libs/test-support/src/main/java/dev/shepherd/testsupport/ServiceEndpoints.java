package dev.shepherd.testsupport;

import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import org.springframework.amqp.rabbit.connection.CachingConnectionFactory;
import org.springframework.data.redis.connection.RedisStandaloneConfiguration;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;

/**
 * Where the tests' RabbitMQ and Redis are.
 *
 * @param rabbitmq {@code amqp://user:pass@host:port/vhost}
 * @param redis {@code redis://host:port}
 * @param source how they were found (for messages)
 */
public record ServiceEndpoints(URI rabbitmq, URI redis, String source) {

  /** Endpoints of a private RabbitMQ and a private Redis started by a test. */
  public static ServiceEndpoints of(PrivateRabbit rabbit, PrivateRedis redis) {
    return new ServiceEndpoints(
        URI.create("amqp://guest:guest@127.0.0.1:" + rabbit.port() + "/"),
        URI.create("redis://127.0.0.1:" + redis.port()),
        "private instances");
  }

  public String rabbitHost() {
    return rabbitmq.getHost();
  }

  public int rabbitPort() {
    return rabbitmq.getPort() < 0 ? 5672 : rabbitmq.getPort();
  }

  public String rabbitUsername() {
    String info = rabbitmq.getUserInfo();
    return info == null ? "guest" : decode(info.split(":", 2)[0]);
  }

  public String rabbitPassword() {
    String info = rabbitmq.getUserInfo();
    return info == null || !info.contains(":") ? "guest" : decode(info.split(":", 2)[1]);
  }

  public String rabbitVirtualHost() {
    String path = rabbitmq.getRawPath();
    return path == null || path.length() <= 1 ? "/" : decode(path.substring(1));
  }

  public String redisHost() {
    return redis.getHost();
  }

  public int redisPort() {
    return redis.getPort() < 0 ? 6379 : redis.getPort();
  }

  /** A connection factory with correlated publisher confirms and returns enabled. */
  public CachingConnectionFactory newRabbitConnectionFactory() {
    var factory = new CachingConnectionFactory(rabbitHost(), rabbitPort());
    factory.setUsername(rabbitUsername());
    factory.setPassword(rabbitPassword());
    factory.setVirtualHost(rabbitVirtualHost());
    factory.setPublisherConfirmType(CachingConnectionFactory.ConfirmType.CORRELATED);
    factory.setPublisherReturns(true);
    return factory;
  }

  /** A started Lettuce connection factory; destroy it when done. */
  public LettuceConnectionFactory newRedisConnectionFactory() {
    var factory =
        new LettuceConnectionFactory(new RedisStandaloneConfiguration(redisHost(), redisPort()));
    factory.afterPropertiesSet();
    factory.start();
    return factory;
  }

  /** Spring Boot properties that point a service at these endpoints. */
  public Map<String, String> asSpringProperties() {
    Map<String, String> props = new LinkedHashMap<>();
    props.put("spring.rabbitmq.host", rabbitHost());
    props.put("spring.rabbitmq.port", Integer.toString(rabbitPort()));
    props.put("spring.rabbitmq.username", rabbitUsername());
    props.put("spring.rabbitmq.password", rabbitPassword());
    props.put("spring.rabbitmq.virtual-host", rabbitVirtualHost());
    props.put("spring.data.redis.host", redisHost());
    props.put("spring.data.redis.port", Integer.toString(redisPort()));
    return props;
  }

  private static String decode(String s) {
    return URLDecoder.decode(s, StandardCharsets.UTF_8);
  }
}
