package dev.shepherd.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.shepherd.engine.status.StatusApplier;
import dev.shepherd.model.JobState;
import dev.shepherd.model.MetricNames;
import dev.shepherd.model.PhaseView;
import dev.shepherd.model.RetryPolicy;
import dev.shepherd.model.WorkMessage;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * A worker that writes its attempts' status events into the store itself (ADR 56), against a real
 * broker and Redis with no status-tracker running: its jobs end in the store with their phases, the
 * lease released and counted, and the status queue carries nothing.
 */
class DirectReportsIT extends WorkerRuntimeFixture {

  private WorkerRuntime startDirect(JobHandler<?>... handlers) {
    var applier =
        new StatusApplier(
            store.reports(),
            store.deadJobs(),
            new RetryPolicy(Duration.ofMillis(100), Duration.ofSeconds(1)),
            new SplittableRandom(1),
            meters,
            type -> "default");
    var runtime =
        new WorkerRuntime(
            new WorkerSettings("w-direct", "default", 2, Duration.ofSeconds(5)),
            store.leases(),
            store.deadJobs(),
            topology,
            publisher,
            rabbit,
            List.of(handlers),
            new RemoteReports(),
            registry(),
            Clock.systemUTC(),
            meters,
            applier);
    runtimes.add(runtime);
    runtime.start();
    return runtime;
  }

  @Test
  void jobsEndInTheStoreWithoutTheStatusTracker() {
    startDirect(
        handler(
            "test.phases",
            job -> {
              job.phase("download", () -> {});
              job.progress(50, "half way");
              job.phase("render", () -> {});
            }),
        handler(
            "test.fail",
            job -> {
              throw new PermanentJobException("not this one");
            }));

    WorkMessage ok = dispatch("test.phases", "{}");
    WorkMessage bad = dispatch("test.fail", "{}");

    await()
        .atMost(WAIT)
        .until(
            () ->
                store.queries().find(ok.jobId()).orElseThrow().state() == JobState.SUCCEEDED
                    && store.queries().find(bad.jobId()).orElseThrow().state() == JobState.DEAD);
    var job = store.queries().find(ok.jobId()).orElseThrow();
    assertThat(job.phases()).extracting(PhaseView::name).containsExactly("download", "render");
    assertThat(drain(ok.jobId())).as("nothing went through the status queue").isEmpty();
    assertThat(received).isEmpty();
    // the report released the leases: the worker holds none
    await().atMost(WAIT).until(() -> store.leaseRecovery().leasesOf("w-direct").isEmpty());
    // its outcome hold ends on the refused renewal, which is no lost lease
    assertThat(meters.find(MetricNames.LEASES_LOST).counters())
        .allSatisfy(c -> assertThat(c.count()).isZero());
    // counted where they were applied, as the status-tracker counts what it applies
    assertThat(meters.find(MetricNames.JOBS_SUCCEEDED).tag("type", "test.phases").counter())
        .isNotNull()
        .satisfies(c -> assertThat(c.count()).isEqualTo(1));
    assertThat(meters.find(MetricNames.JOBS_FAILED).tag("type", "test.fail").counter())
        .isNotNull()
        .satisfies(c -> assertThat(c.count()).isEqualTo(1));
  }
}
