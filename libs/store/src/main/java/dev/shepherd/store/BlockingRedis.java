package dev.shepherd.store;

import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.dao.DataAccessException;
import org.springframework.dao.QueryTimeoutException;
import org.springframework.data.redis.RedisConnectionFailureException;
import org.springframework.data.redis.RedisSystemException;
import org.springframework.data.redis.connection.RedisClusterConfiguration;
import org.springframework.data.redis.connection.RedisConnectionFactory;
import org.springframework.data.redis.connection.RedisNode;
import org.springframework.data.redis.connection.RedisPassword;
import org.springframework.data.redis.connection.RedisSentinelConfiguration;
import org.springframework.data.redis.connection.RedisStandaloneConfiguration;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;
import org.springframework.data.redis.core.script.RedisScript;
import redis.clients.jedis.AbstractPipeline;
import redis.clients.jedis.ClientSetInfoConfig;
import redis.clients.jedis.ConnectionPoolConfig;
import redis.clients.jedis.DefaultJedisClientConfig;
import redis.clients.jedis.HostAndPort;
import redis.clients.jedis.JedisClientConfig;
import redis.clients.jedis.JedisCluster;
import redis.clients.jedis.JedisPooled;
import redis.clients.jedis.JedisSentineled;
import redis.clients.jedis.Response;
import redis.clients.jedis.UnifiedJedis;
import redis.clients.jedis.exceptions.JedisConnectionException;
import redis.clients.jedis.exceptions.JedisDataException;
import redis.clients.jedis.exceptions.JedisException;

/**
 * The store's calls on a job's path on the calling thread: a pool of blocking Redis connections
 * (Jedis) beside the services' Lettuce connection, built from the same {@code spring.data.redis}
 * settings (one Redis, Sentinel or Cluster; user and password; database; client name) with the same
 * command time-out. A call through Lettuce hands the command to its event loop and waits for that
 * thread to hand the reply back: two thread hand-offs per call, which at a trickle cost the caller
 * about twice the CPU of the call itself (ADR 57, {@code make bench-redis-calls}).
 *
 * <p>Its failures are Spring's, as Lettuce's are once translated: a refused or lost connection is a
 * {@link RedisConnectionFailureException}, a reply that did not come within the time-out a {@link
 * QueryTimeoutException}, an error reply a {@link RedisSystemException} around Jedis's own (its
 * message starts with Redis's code: {@code READONLY}, {@code LOADING}...). A call is never sent
 * twice by this client, except in a cluster, where Jedis follows a moved slot and tries another
 * node after a connection failure, within the time-out.
 *
 * <p>{@link #OFF} stands for no such client: the calls go through Lettuce ({@code
 * shepherd.store.blocking-client=false}, or Redis over TLS, whose trust settings are Lettuce's).
 */
public final class BlockingRedis implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(BlockingRedis.class);

  /** No blocking client: every call goes through Lettuce. */
  public static final BlockingRedis OFF = new BlockingRedis(null, "off");

  /**
   * The most connections one process holds: one per thread calling at once (worker slots, intake
   * and dispatch threads); a caller past it waits for one, at most the command time-out.
   */
  static final int MAX_CONNECTIONS = 64;

  /**
   * How often a cluster client reads the topology when nothing told it to, when its caller gives no
   * period: the services' default ({@code StoreConfiguration}), as Lettuce's.
   */
  public static final Duration CLUSTER_REFRESH_PERIOD = Duration.ofSeconds(5);

  /** Tries of one call in a cluster (a moved slot, a node that refused), within the time-out. */
  private static final int CLUSTER_ATTEMPTS = 5;

  private final UnifiedJedis jedis;
  private final String describe;

  private BlockingRedis(UnifiedJedis jedis, String describe) {
    this.jedis = jedis;
    this.describe = describe;
  }

  /**
   * A blocking client to the Redis that {@code connections} talk to, with their command time-out
   * for connecting and for each reply, or {@link #OFF} when it is not a Lettuce factory or talks
   * TLS. A cluster client reads the topology every {@link #CLUSTER_REFRESH_PERIOD}.
   */
  public static BlockingRedis of(RedisConnectionFactory connections) {
    return of(connections, CLUSTER_REFRESH_PERIOD);
  }

  /**
   * As {@link #of(RedisConnectionFactory)}, a cluster client reading the topology every {@code
   * clusterRefresh} besides when a slot moved: the period the services give Lettuce ({@code
   * spring.data.redis.lettuce.cluster.refresh.period}), so that both clients follow a cluster
   * alike.
   */
  public static BlockingRedis of(RedisConnectionFactory connections, Duration clusterRefresh) {
    if (!(connections instanceof LettuceConnectionFactory lettuce)) {
      log.info("Redis script calls go through {}: not a Lettuce factory", connections.getClass());
      return OFF;
    }
    if (lettuce.isUseSsl()) {
      log.info("Redis script calls go through Lettuce: Redis is reached over TLS");
      return OFF;
    }
    Duration timeout = lettuce.getClientConfiguration().getCommandTimeout();
    int millis = (int) Math.min(Integer.MAX_VALUE, timeout.toMillis());
    ConnectionPoolConfig pool = new ConnectionPoolConfig();
    pool.setMaxTotal(MAX_CONNECTIONS);
    pool.setMaxIdle(MAX_CONNECTIONS);
    pool.setMaxWait(timeout);
    pool.setJmxEnabled(false);
    String clientName = lettuce.getClientName();
    if (lettuce.isClusterAware()) {
      RedisClusterConfiguration cluster = lettuce.getClusterConfiguration();
      JedisClientConfig config =
          client(millis, cluster.getUsername(), cluster.getPassword(), 0, clientName);
      Set<HostAndPort> nodes = hostsAndPorts(cluster.getClusterNodes());
      return new BlockingRedis(
          new JedisCluster(nodes, config, pool, clusterRefresh, CLUSTER_ATTEMPTS, timeout),
          "cluster " + nodes);
    }
    if (lettuce.isRedisSentinelAware()) {
      RedisSentinelConfiguration sentinel = lettuce.getSentinelConfiguration();
      String master = sentinel.getMaster().getName();
      Set<HostAndPort> sentinels = hostsAndPorts(sentinel.getSentinels());
      JedisClientConfig masterConfig =
          client(
              millis,
              sentinel.getUsername(),
              sentinel.getPassword(),
              sentinel.getDatabase(),
              clientName);
      JedisClientConfig sentinelConfig =
          client(millis, sentinel.getSentinelUsername(), sentinel.getSentinelPassword(), 0, null);
      return new BlockingRedis(
          new JedisSentineled(master, masterConfig, pool, sentinels, sentinelConfig),
          "master " + master + " of sentinels " + sentinels);
    }
    RedisStandaloneConfiguration one = lettuce.getStandaloneConfiguration();
    HostAndPort address = new HostAndPort(one.getHostName(), one.getPort());
    return new BlockingRedis(
        new JedisPooled(
            address,
            client(millis, one.getUsername(), one.getPassword(), one.getDatabase(), clientName),
            pool),
        address.toString());
  }

  /**
   * Connection settings: the time-out for connecting and for each reply, the user (Redis ACLs), the
   * database, and no {@code CLIENT SETINFO} on connecting (a command the services' ACL users are
   * not granted, and Redis before 7.2 does not know).
   */
  private static JedisClientConfig client(
      int timeoutMillis, String user, RedisPassword password, int database, String clientName) {
    var config =
        DefaultJedisClientConfig.builder()
            .connectionTimeoutMillis(timeoutMillis)
            .socketTimeoutMillis(timeoutMillis)
            .database(database)
            .clientSetInfoConfig(ClientSetInfoConfig.DISABLED);
    if (user != null && !user.isEmpty()) {
      config.user(user);
    }
    password.toOptional().map(String::new).ifPresent(config::password);
    if (clientName != null) {
      config.clientName(clientName);
    }
    return config.build();
  }

  private static Set<HostAndPort> hostsAndPorts(Iterable<RedisNode> nodes) {
    Set<HostAndPort> all = new LinkedHashSet<>();
    nodes.forEach(n -> all.add(new HostAndPort(n.getHost(), n.getPort())));
    return all;
  }

  /** True when calls go through this client; false for {@link #OFF}. */
  public boolean isOn() {
    return jedis != null;
  }

  /**
   * Runs {@code script} with one key, {@code keysAndArgs[0]}, and the rest as its arguments: by its
   * SHA ({@code sha1}, its bytes), and whole when Redis does not know it (it restarted, or was
   * flushed).
   *
   * @return the script's reply, as bytes
   * @throws DataAccessException what the call failed with, translated (see the class comment)
   */
  byte[] eval(RedisScript<String> script, byte[] sha1, byte[][] keysAndArgs) {
    try {
      try {
        return (byte[]) jedis.evalsha(sha1, 1, keysAndArgs);
      } catch (JedisDataException e) {
        if (e.getMessage() == null || !e.getMessage().startsWith("NOSCRIPT")) {
          throw e;
        }
        return (byte[])
            jedis.eval(script.getScriptAsString().getBytes(StandardCharsets.UTF_8), 1, keysAndArgs);
      }
    } catch (JedisException e) {
      throw translated(e);
    }
  }

  /**
   * Runs {@code script} once per entry of {@code calls} (each as {@link #eval} takes it), the calls
   * written together and their replies read together: one round trip for all of them on one Redis
   * (in a cluster, one per master the calls' slots live on). A call Redis does not know the script
   * of is made again whole, alone.
   *
   * @return each call's reply (bytes) or its failure (a translated {@link DataAccessException}), in
   *     order; a failure of the pipeline itself fails every call
   */
  List<Object> evalEach(RedisScript<String> script, byte[] sha1, List<byte[][]> calls) {
    List<Response<Object>> responses = new ArrayList<>(calls.size());
    try (AbstractPipeline pipeline = jedis.pipelined()) {
      for (byte[][] keysAndArgs : calls) {
        responses.add(pipeline.evalsha(sha1, 1, keysAndArgs));
      }
      pipeline.sync();
    } catch (JedisException e) {
      DataAccessException failure = translated(e);
      return new ArrayList<>(Collections.nCopies(calls.size(), failure));
    }
    List<Object> replies = new ArrayList<>(calls.size());
    for (int i = 0; i < calls.size(); i++) {
      try {
        replies.add(responses.get(i).get());
      } catch (JedisDataException e) {
        if (e.getMessage() != null && e.getMessage().startsWith("NOSCRIPT")) {
          try {
            replies.add(eval(script, sha1, calls.get(i)));
          } catch (DataAccessException again) {
            replies.add(again);
          }
        } else {
          replies.add(translated(e));
        }
      } catch (JedisException e) {
        replies.add(translated(e));
      }
    }
    return replies;
  }

  /** As Spring translates Lettuce's failures: see the class comment. */
  static DataAccessException translated(JedisException e) {
    String message = "Redis (" + e.getClass().getSimpleName() + "): " + e.getMessage();
    return switch (e) {
      case JedisDataException data -> new RedisSystemException(message, data);
      case JedisConnectionException c when c.getCause() instanceof SocketTimeoutException ->
          new QueryTimeoutException(message, e);
      // refused, lost; in a cluster, no node answered for the slot within the time-out; a pool
      // that had no connection to give within it
      default -> new RedisConnectionFailureException(message, e);
    };
  }

  @Override
  public void close() {
    if (jedis != null) {
      jedis.close();
    }
  }

  @Override
  public String toString() {
    return "BlockingRedis[" + describe + "]";
  }
}
