package dev.shepherd.store.config;

import dev.shepherd.model.RetryPolicy;
import dev.shepherd.store.BlockingRedis;
import dev.shepherd.store.Cancels;
import dev.shepherd.store.DeadJobs;
import dev.shepherd.store.Indexes;
import dev.shepherd.store.JobQueries;
import dev.shepherd.store.LeaseRecovery;
import dev.shepherd.store.Leases;
import dev.shepherd.store.Outbox;
import dev.shepherd.store.Reports;
import dev.shepherd.store.Retries;
import dev.shepherd.store.Store;
import dev.shepherd.store.Submissions;
import dev.shepherd.store.WorkerRegistry;
import io.lettuce.core.cluster.ClusterClientOptions;
import io.lettuce.core.cluster.ClusterTopologyRefreshOptions;
import io.lettuce.core.cluster.models.partitions.RedisClusterNode;
import io.lettuce.core.resource.Delay;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Metrics;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.data.redis.autoconfigure.ClientResourcesBuilderCustomizer;
import org.springframework.boot.data.redis.autoconfigure.DataRedisProperties;
import org.springframework.boot.data.redis.autoconfigure.LettuceClientConfigurationBuilderCustomizer;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.data.redis.connection.RedisConnectionFactory;
import org.springframework.data.redis.core.StringRedisTemplate;

/**
 * Each store type as its own bean, so every component asks for the one it uses, plus the worker
 * registry, the clock and the retry policy, for every service. The {@link Store} they come from is
 * a bean only by name: it is not injected by type.
 */
@Configuration(proxyBeanMethods = false)
@EnableConfigurationProperties(StoreProperties.class)
public class StoreConfiguration {

  private static final Logger log = LoggerFactory.getLogger(StoreConfiguration.class);

  private static final String STORE = "shepherdStore";

  /** The longest Lettuce waits between two tries to reconnect to Redis. */
  static final Duration REDIS_RECONNECT_CEILING = Duration.ofSeconds(1);

  /**
   * Reconnects to Redis every second at most while it is away (from 50 ms, doubling). Lettuce's own
   * delay doubles up to 30 s: after a ten-second outage a service came back seven seconds after
   * Redis did, and a worker silent that long was judged lost while its slots held deliveries they
   * could not claim. A try costs one refused TCP connection.
   */
  @Bean
  ClientResourcesBuilderCustomizer redisReconnectsWithinASecond() {
    return resources ->
        resources.reconnectDelay(
            Delay.exponential(
                Duration.ofMillis(50), REDIS_RECONNECT_CEILING, 2, TimeUnit.MILLISECONDS));
  }

  /**
   * Every service's Redis command time-out: {@code spring.data.redis.timeout}, at most a quarter of
   * the lease TTL, which is also what it is when not set (7.5 s by default), where Lettuce's own
   * default is a minute. A worker renews its leases every third of the TTL: a renewal that hung
   * longer would outlive the lease it renews ({@link StoreProperties#redisCommandTimeout}). And a
   * Redis node that stops answering holds every command sent to it until the time-out, a Redis
   * Cluster client's topology reads included, during which the client reads the topology no more:
   * with the minute, a scheduler went on sending to a master its replica had replaced a minute
   * after the failover ({@code RedisClusterFrozenMasterIT}).
   */
  @Bean
  LettuceClientConfigurationBuilderCustomizer redisCommandTimeoutBelowTheLeaseTtl(
      StoreProperties store, ObjectProvider<DataRedisProperties> redis) {
    DataRedisProperties configured = redis.getIfAvailable();
    Duration asked = configured == null ? null : configured.getTimeout();
    Duration timeout = store.redisCommandTimeout(asked);
    if (asked != null && !asked.equals(timeout)) {
      log.warn(
          "spring.data.redis.timeout {} is longer than a quarter of the lease TTL {}; using {}",
          asked,
          store.leaseTtl(),
          timeout);
    }
    return builder -> builder.commandTimeout(timeout);
  }

  /**
   * With Redis Cluster ({@code spring.data.redis.cluster.nodes}), how the client follows the
   * cluster through a failover:
   *
   * <ul>
   *   <li>it leaves out the nodes the cluster marks failed ({@link #CLUSTER_NODE_IN_SERVICE}). A
   *       SIGKILLed master stays listed as {@code master,fail} after its replica took its slots;
   *       while the client counts it a node, the commands queued for it wait for a reconnect that
   *       never comes (60 s, the command time-out). Left out, its connection is closed at the next
   *       topology refresh and Lettuce sends those commands again to the node that serves their
   *       slot now ({@code PrivateRedisClusterIT} waited the whole time-out without this);
   *   <li>it reads the topology again at once when a node answers {@code MOVED}, refuses
   *       connections, or a slot has no node, at most once per {@link #CLUSTER_REFRESH_PAUSE}
   *       (Lettuce's own pause is 30 s: a refresh made while the replica was still being promoted
   *       left its slots without a node for the whole pause), and every {@code
   *       spring.data.redis.lettuce.cluster.refresh.period} (5 s when not set) anyway.
   * </ul>
   */
  @Bean
  LettuceClientConfigurationBuilderCustomizer redisClusterClientsFollowFailovers(
      ObjectProvider<DataRedisProperties> redis) {
    Duration period = clusterRefreshPeriod(redis.getIfAvailable());
    return builder -> {
      var current = builder.build().getClientOptions().orElse(null);
      if (current instanceof ClusterClientOptions cluster) {
        builder.clientOptions(
            cluster
                .mutate()
                .topologyRefreshOptions(
                    ClusterTopologyRefreshOptions.builder()
                        .enableAllAdaptiveRefreshTriggers()
                        .adaptiveRefreshTriggersTimeout(CLUSTER_REFRESH_PAUSE)
                        .enablePeriodicRefresh(period)
                        .build())
                .nodeFilter(CLUSTER_NODE_IN_SERVICE)
                .build());
      }
    };
  }

  /**
   * How often a cluster client, Lettuce's and the blocking one alike, reads the topology when
   * nothing told it to: {@code spring.data.redis.lettuce.cluster.refresh.period}, or {@link
   * BlockingRedis#CLUSTER_REFRESH_PERIOD} when not set.
   */
  static Duration clusterRefreshPeriod(DataRedisProperties properties) {
    Duration configured =
        properties == null ? null : properties.getLettuce().getCluster().getRefresh().getPeriod();
    return configured == null ? BlockingRedis.CLUSTER_REFRESH_PERIOD : configured;
  }

  /** The shortest time between two refreshes that a client's own trouble triggers. */
  static final Duration CLUSTER_REFRESH_PAUSE = Duration.ofSeconds(1);

  /** A node a cluster client should talk to: not failed, not suspected, with an address. */
  public static final Predicate<RedisClusterNode> CLUSTER_NODE_IN_SERVICE =
      node ->
          !node.is(RedisClusterNode.NodeFlag.FAIL)
              && !node.is(RedisClusterNode.NodeFlag.EVENTUAL_FAIL)
              && !node.is(RedisClusterNode.NodeFlag.NOADDR);

  @Bean
  Clock clock() {
    return Clock.systemUTC();
  }

  /**
   * The blocking client of the job path's script calls ({@link BlockingRedis}; ADR 57), unless
   * {@code shepherd.store.blocking-client=false}; closed with the context.
   */
  @Bean(destroyMethod = "close")
  BlockingRedis shepherdBlockingRedis(
      RedisConnectionFactory connections,
      StoreProperties properties,
      ObjectProvider<DataRedisProperties> redis) {
    if (!properties.blockingClient()) {
      log.info("Redis script calls go through Lettuce: shepherd.store.blocking-client=false");
      return BlockingRedis.OFF;
    }
    BlockingRedis blocking =
        BlockingRedis.of(connections, clusterRefreshPeriod(redis.getIfAvailable()));
    log.info("Redis script calls on the calling thread: {}", blocking);
    return blocking;
  }

  /** Script calls count on the application's registry, or the global one when it has none. */
  @Bean(name = STORE, defaultCandidate = false)
  Store shepherdStore(
      RedisConnectionFactory connections,
      BlockingRedis blocking,
      StoreProperties properties,
      Clock clock,
      ObjectProvider<MeterRegistry> meters) {
    return Store.of(
        new StringRedisTemplate(connections),
        blocking,
        properties.settings(),
        clock,
        meters.getIfAvailable(() -> Metrics.globalRegistry));
  }

  @Bean
  Submissions submissions(@Qualifier(STORE) Store store) {
    return store.submissions();
  }

  @Bean
  Outbox outbox(@Qualifier(STORE) Store store) {
    return store.outbox();
  }

  @Bean
  Leases leases(@Qualifier(STORE) Store store) {
    return store.leases();
  }

  @Bean
  Reports reports(@Qualifier(STORE) Store store) {
    return store.reports();
  }

  @Bean
  Cancels cancels(@Qualifier(STORE) Store store) {
    return store.cancels();
  }

  @Bean
  Retries retries(@Qualifier(STORE) Store store) {
    return store.retries();
  }

  @Bean
  LeaseRecovery leaseRecovery(@Qualifier(STORE) Store store) {
    return store.leaseRecovery();
  }

  @Bean
  DeadJobs deadJobs(@Qualifier(STORE) Store store) {
    return store.deadJobs();
  }

  @Bean
  Indexes indexes(@Qualifier(STORE) Store store) {
    return store.indexes();
  }

  @Bean
  JobQueries jobQueries(@Qualifier(STORE) Store store) {
    return store.queries();
  }

  @Bean
  WorkerRegistry workerRegistry(
      RedisConnectionFactory connections, StoreProperties properties, Clock clock) {
    return new WorkerRegistry(
        new StringRedisTemplate(connections),
        properties.settings(),
        clock,
        properties.workerLostAfter());
  }

  @Bean
  RetryPolicy retryPolicy(StoreProperties properties) {
    return properties.retryPolicy();
  }
}
