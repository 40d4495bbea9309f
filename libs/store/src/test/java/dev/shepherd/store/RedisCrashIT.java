package dev.shepherd.store;

import static org.assertj.core.api.Assertions.assertThat;

import dev.shepherd.model.JobEvent;
import dev.shepherd.model.JobState;
import dev.shepherd.model.StatusEvent;
import dev.shepherd.testsupport.PrivateRedis;
import dev.shepherd.testsupport.ServiceEndpoints;
import dev.shepherd.testsupport.SettableClock;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.springframework.data.redis.core.StringRedisTemplate;

/**
 * Redis runs with {@code appendfsync everysec}: if the machine under it crashes, up to the last
 * second of acknowledged writes is gone. A claim lost that way must never let a later claim get the
 * same fencing token, or the lost attempt's worker, still running, could report as the new one (ADR
 * 3). This test kills a private Redis and cuts its log back to before the claim.
 */
class RedisCrashIT {

  private static final Duration TTL = Duration.ofSeconds(30);

  @Test
  void aClaimLostWithTheLastSecondOfTheLogIsNeverFollowedByTheSameFencingToken() {
    var clock = new SettableClock(Instant.now());
    try (var redis = PrivateRedis.launch()) {
      var endpoints = ServiceEndpoints.of(redis);
      var factory = endpoints.newRedisConnectionFactory();
      try {
        var store =
            Store.of(
                new StringRedisTemplate(factory),
                new StoreSettings("crash", 2, Duration.ofDays(1)),
                clock,
                new SimpleMeterRegistry());
        String id =
            store
                .submissions()
                .submit(new NewJob("demo.noop", "default", "{}", null, null, 3))
                .jobId();
        int partition = store.keys().partitionOf(id);
        List<DueEntry> due = store.outbox().reserveDue(partition, 10, Duration.ofSeconds(30));
        store.outbox().markDispatched(partition, due);
        redis.restart(); // a clean stop: the queued job is on disk

        long onDisk = redis.appendOnlyLogSize();
        long lostToken =
            ((ClaimResult.Claimed) store.leases().claim(id, 1, "worker-lost", TTL)).fencingToken();
        assertThat(redis.appendOnlyLogSize()).as("the claim reached the log").isGreaterThan(onDisk);
        redis.kill();
        redis.loseAppendOnlyLogAfter(onDisk);
        redis.start();

        var job = store.queries().find(id).orElseThrow();
        assertThat(job.state()).as("the claim was lost").isEqualTo(JobState.QUEUED);
        assertThat(job.history()).noneMatch(h -> h.event() == JobEvent.CLAIM);

        long newToken =
            ((ClaimResult.Claimed) store.leases().claim(id, 1, "worker-new", TTL)).fencingToken();
        assertThat(newToken).isGreaterThan(lostToken);

        var lateReport =
            new StatusEvent.Succeeded(
                id, "demo.noop", 1, lostToken, 1, "worker-lost", clock.instant());
        assertThat(store.reports().report(lateReport, Duration.ZERO).outcome())
            .isEqualTo(ReportResult.Outcome.STALE);
        assertThat(store.queries().find(id).orElseThrow().state()).isEqualTo(JobState.RUNNING);
      } finally {
        factory.destroy();
      }
    }
  }
}
