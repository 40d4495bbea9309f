package dev.shepherd.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.shepherd.engine.recovery.BacklogGauges;
import dev.shepherd.model.MetricNames;
import dev.shepherd.model.WorkerView;
import dev.shepherd.store.StoreSettings;
import dev.shepherd.store.WorkerRegistry;
import dev.shepherd.testsupport.ServiceEndpoints;
import dev.shepherd.testsupport.TestNames;
import dev.shepherd.testsupport.WithRealServices;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.data.redis.core.StringRedisTemplate;

/**
 * Recovery's gauges count the registered workers by pool and state, so an alert can say that a pool
 * with waiting jobs has no active worker while another pool has plenty.
 */
@WithRealServices
class BacklogGaugesIT {

  private EngineFixture fixture;
  private final SimpleMeterRegistry meters = new SimpleMeterRegistry();

  @BeforeEach
  void setUp(ServiceEndpoints endpoints, TestNames names) {
    fixture = new EngineFixture(endpoints, names);
  }

  @AfterEach
  void tearDown() {
    fixture.close();
  }

  private double workers(String pool, String state) {
    return meters
        .get(MetricNames.WORKERS)
        .tag(MetricNames.TAG_POOL, pool)
        .tag("state", state)
        .gauge()
        .value();
  }

  @Test
  void workersAreCountedByPoolAndState() {
    var registry =
        new WorkerRegistry(
            new StringRedisTemplate(fixture.redisConnections),
            new StoreSettings(fixture.prefix, 4, Duration.ofDays(7)),
            fixture.clock,
            Duration.ofSeconds(30));
    for (String id : List.of("w1", "w2")) {
      registry.heartbeat(
          new WorkerView(id, "host", null, "default", 4, "test", "active", null, null, null));
    }
    registry.heartbeat(
        new WorkerView("w3", "host", null, "reports", 4, "test", "draining", null, null, null));
    BacklogGauges.register(
        fixture.store.queries(), registry, List.of("default", "reports"), fixture.clock, meters);

    assertThat(workers("default", "active")).isEqualTo(2);
    assertThat(workers("reports", "active")).as("no active worker in this pool").isZero();
    assertThat(workers("reports", "draining")).isEqualTo(1);
    assertThat(workers("default", "lost")).isZero();
  }
}
