package dev.shepherd.testsupport;

import io.lettuce.core.cluster.ClusterClientOptions;
import io.lettuce.core.cluster.ClusterTopologyRefreshOptions;
import io.lettuce.core.cluster.models.partitions.RedisClusterNode;
import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.resource.DefaultClientResources;
import io.lettuce.core.resource.Delay;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.springframework.amqp.rabbit.connection.CachingConnectionFactory;
import org.springframework.data.redis.connection.RedisClusterConfiguration;
import org.springframework.data.redis.connection.RedisSentinelConfiguration;
import org.springframework.data.redis.connection.RedisStandaloneConfiguration;
import org.springframework.data.redis.connection.lettuce.LettuceClientConfiguration;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;

/**
 * Where the tests' RabbitMQ and Redis are.
 *
 * @param rabbitmq {@code amqp://user:pass@host:port/vhost}
 * @param redis {@code redis://host:port}; with a cluster, one of its nodes
 * @param redisCluster {@code host:port} of every node of a Redis Cluster, or empty for one Redis
 * @param source how they were found (for messages)
 * @param redisSentinels {@code host:port} of every sentinel of a Redis with Sentinel, or empty
 * @param redisSentinelMaster the name the sentinels know the master by, or null
 */
public record ServiceEndpoints(
    URI rabbitmq,
    URI redis,
    List<String> redisCluster,
    String source,
    List<String> redisSentinels,
    String redisSentinelMaster) {

  /** A broker address nothing listens on ({@link #redisOnly}). */
  private static final URI NO_BROKER = URI.create("amqp://127.0.0.1:1/");

  /**
   * A standalone Redis address a cluster's endpoints replace ({@link #of(PrivateRedisCluster)}).
   */
  private static final URI NO_REDIS = URI.create("redis://127.0.0.1:1");

  /** How often a cluster client reads the topology even when nothing told it to. */
  public static final Duration CLUSTER_REFRESH = Duration.ofSeconds(5);

  public ServiceEndpoints {
    redisCluster = List.copyOf(redisCluster);
    redisSentinels = List.copyOf(redisSentinels);
  }

  /** One Redis. */
  public ServiceEndpoints(URI rabbitmq, URI redis, String source) {
    this(rabbitmq, redis, List.of(), source, List.of(), null);
  }

  /** The same RabbitMQ with the Redis Cluster whose nodes are {@code nodes} instead. */
  public ServiceEndpoints withRedisCluster(List<String> nodes, String source) {
    return new ServiceEndpoints(
        rabbitmq, URI.create("redis://" + nodes.getFirst()), nodes, source, List.of(), null);
  }

  /** The same RabbitMQ with the Redis whose master {@code sentinels} know as {@code master}. */
  public ServiceEndpoints withRedisSentinels(String master, List<String> sentinels, String source) {
    return new ServiceEndpoints(
        rabbitmq,
        URI.create("redis://" + sentinels.getFirst()),
        List.of(),
        source,
        sentinels,
        master);
  }

  /** True when Redis is found through sentinels. */
  public boolean redisHasSentinels() {
    return !redisSentinels.isEmpty();
  }

  /** True when Redis is a cluster. */
  public boolean redisIsCluster() {
    return !redisCluster.isEmpty();
  }

  /**
   * A Redis alone, for a test that needs no broker: the broker's address is a port nothing listens
   * on, so any use of it fails at once instead of reaching the shared broker.
   */
  public static ServiceEndpoints redisOnly(URI redis, String source) {
    return new ServiceEndpoints(NO_BROKER, redis, source);
  }

  /** A private Redis started by a test, and no broker ({@link #redisOnly}). */
  public static ServiceEndpoints of(PrivateRedis redis) {
    return redisOnly(URI.create("redis://127.0.0.1:" + redis.port()), "private Redis");
  }

  /** A private Redis Cluster started by a test, and no broker ({@link #redisOnly}). */
  public static ServiceEndpoints of(PrivateRedisCluster cluster) {
    return redisOnly(NO_REDIS, "-").withRedisCluster(cluster.addresses(), "private Redis Cluster");
  }

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

  /**
   * A started Lettuce connection factory; destroy it when done. For a cluster it follows the
   * topology as the services do (StoreConfiguration's {@code redisClusterClientsFollowFailovers}):
   * at once on {@code MOVED}, refused connections or a slot without a node, at most once a second,
   * and every {@link #CLUSTER_REFRESH}; failed nodes left out.
   */
  public LettuceConnectionFactory newRedisConnectionFactory() {
    LettuceConnectionFactory factory;
    if (redisIsCluster()) {
      var refresh =
          ClusterTopologyRefreshOptions.builder()
              .enableAllAdaptiveRefreshTriggers()
              .adaptiveRefreshTriggersTimeout(Duration.ofSeconds(1))
              .enablePeriodicRefresh(CLUSTER_REFRESH)
              .build();
      // as StoreConfiguration's redisReconnectsWithinASecond: a client that tries to reconnect
      // every second keeps triggering topology refreshes while a master is down
      ClientResources resources =
          DefaultClientResources.builder()
              .reconnectDelay(
                  Delay.exponential(
                      Duration.ofMillis(50), Duration.ofSeconds(1), 2, TimeUnit.MILLISECONDS))
              .build();
      var client =
          LettuceClientConfiguration.builder()
              .clientResources(resources)
              .clientOptions(
                  ClusterClientOptions.builder()
                      .topologyRefreshOptions(refresh)
                      // as StoreConfiguration's CLUSTER_NODE_IN_SERVICE (the store depends on
                      // this module, not the other way round)
                      .nodeFilter(
                          node ->
                              !node.is(RedisClusterNode.NodeFlag.FAIL)
                                  && !node.is(RedisClusterNode.NodeFlag.EVENTUAL_FAIL)
                                  && !node.is(RedisClusterNode.NodeFlag.NOADDR))
                      .build())
              .build();
      factory =
          new LettuceConnectionFactory(new RedisClusterConfiguration(redisCluster), client) {
            @Override
            public void destroy() {
              super.destroy();
              resources.shutdown();
            }
          };
    } else if (redisHasSentinels()) {
      var sentinels = new RedisSentinelConfiguration().master(redisSentinelMaster);
      for (String sentinel : redisSentinels) {
        int colon = sentinel.lastIndexOf(':');
        sentinels.sentinel(
            sentinel.substring(0, colon), Integer.parseInt(sentinel.substring(colon + 1)));
      }
      factory = new LettuceConnectionFactory(sentinels);
    } else {
      factory =
          new LettuceConnectionFactory(new RedisStandaloneConfiguration(redisHost(), redisPort()));
    }
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
    if (redisIsCluster()) {
      props.put("spring.data.redis.cluster.nodes", String.join(",", redisCluster));
    } else if (redisHasSentinels()) {
      props.put("spring.data.redis.sentinel.master", redisSentinelMaster);
      props.put("spring.data.redis.sentinel.nodes", String.join(",", redisSentinels));
    } else {
      props.put("spring.data.redis.host", redisHost());
      props.put("spring.data.redis.port", Integer.toString(redisPort()));
    }
    return props;
  }

  private static String decode(String s) {
    return URLDecoder.decode(s, StandardCharsets.UTF_8);
  }
}
