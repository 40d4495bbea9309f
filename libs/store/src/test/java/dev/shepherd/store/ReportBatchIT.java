package dev.shepherd.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import dev.shepherd.model.JobState;
import dev.shepherd.model.JobTimeouts;
import dev.shepherd.model.MetricNames;
import dev.shepherd.model.StatusEvent;
import dev.shepherd.testsupport.ServiceEndpoints;
import dev.shepherd.testsupport.TestNames;
import dev.shepherd.testsupport.WithRealServices;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@link Reports#reportAll}: a batch of status events applied with one script call per partition,
 * each event answered as if it had been applied on its own (ADR 27).
 */
@WithRealServices
class ReportBatchIT {

  private static final Duration NO_BACKOFF = Duration.ZERO;

  private StoreFixture fixture;
  private SimpleMeterRegistry meters;
  private Store store;

  @BeforeEach
  void connect(ServiceEndpoints endpoints, TestNames names) {
    fixture = new StoreFixture(endpoints, names);
    meters = new SimpleMeterRegistry();
    store = fixture.storeCountingOn(meters);
  }

  @AfterEach
  void cleanUp() {
    fixture.close();
  }

  @Test
  void eachEventOfABatchGetsTheResultItWouldGetAloneInTheBatchsOrder() {
    String a = claimed();
    String b = claimed();
    String c = claimed();
    long tokenA = fixture.token(a);
    long tokenB = fixture.token(b);
    long tokenC = fixture.token(c);
    var now = fixture.clock.instant();
    List<StatusEvent> events =
        List.of(
            new StatusEvent.PhaseStarted(a, "demo.noop", 1, tokenA, 1, "w1", now, "fetch"),
            new StatusEvent.Succeeded(b, "demo.noop", 1, tokenB + 1, 1, "rogue", now),
            new StatusEvent.PhaseEnded(a, "demo.noop", 1, tokenA, 2, "w1", now, "fetch"),
            new StatusEvent.Progress(c, "demo.noop", 1, tokenC, 5, "w1", now, 50, "half"),
            new StatusEvent.Progress(c, "demo.noop", 1, tokenC, 4, "w1", now, 40, "late"),
            new StatusEvent.Succeeded(a, "demo.noop", 1, tokenA, 3, "w1", now),
            new StatusEvent.Succeeded(a, "demo.noop", 1, tokenA, 4, "w1", now),
            new StatusEvent.Failed(c, "demo.noop", 1, tokenC, 6, "w1", now, "boom", false),
            new StatusEvent.Succeeded("no-such-job", "demo.noop", 1, 1, 1, "w1", now));

    List<Reports.Report> applied = new ArrayList<>();
    List<ReportResult> results = new ArrayList<>();
    store
        .reports()
        .reportAll(
            events.stream().map(e -> new Reports.Report(e, NO_BACKOFF)).toList(),
            (report, result) -> {
              applied.add(report);
              results.add(result);
            });

    // every event answered once; a job's events in the order given
    assertThat(applied)
        .extracting(Reports.Report::event)
        .containsExactlyInAnyOrderElementsOf(events);
    assertThat(eventsOf(applied, a)).containsExactlyElementsOf(eventsOf(events, a));
    assertThat(eventsOf(applied, c)).containsExactlyElementsOf(eventsOf(events, c));
    assertThat(IntStream.range(0, applied.size()).mapToObj(i -> resultOf(applied, results, i)))
        .containsExactlyInAnyOrder(
            tuple(a, 1L, ReportResult.Outcome.APPLIED, "RUNNING"),
            tuple(b, 1L, ReportResult.Outcome.STALE, "RUNNING"),
            tuple(a, 2L, ReportResult.Outcome.APPLIED, "RUNNING"),
            tuple(c, 5L, ReportResult.Outcome.APPLIED, "RUNNING"),
            tuple(c, 4L, ReportResult.Outcome.DUPLICATE, "RUNNING"),
            tuple(a, 3L, ReportResult.Outcome.APPLIED, "SUCCEEDED"),
            tuple(a, 4L, ReportResult.Outcome.FINISHED, "SUCCEEDED"),
            tuple(c, 6L, ReportResult.Outcome.APPLIED, "DEAD"),
            tuple("no-such-job", 1L, ReportResult.Outcome.MISSING, null));

    assertThat(fixture.view(a).state()).isEqualTo(JobState.SUCCEEDED);
    assertThat(fixture.view(b).state()).isEqualTo(JobState.RUNNING);
    assertThat(fixture.view(c).state()).isEqualTo(JobState.DEAD);
    assertThat(fixture.view(c).progressPercent()).isEqualTo(50);
  }

  @Test
  void aBatchCostsOneCallPerPartitionItTouches() {
    List<String> jobs = IntStream.range(0, 24).mapToObj(i -> claimed()).toList();
    long partitions = jobs.stream().map(id -> store.keys().partitionOf(id)).distinct().count();
    var now = fixture.clock.instant();
    double before = reportCalls();

    List<ReportResult> results = new ArrayList<>();
    store
        .reports()
        .reportAll(
            jobs.stream()
                .map(
                    id ->
                        new Reports.Report(
                            new StatusEvent.Succeeded(
                                id, "demo.noop", 1, fixture.token(id), 1, "w1", now),
                            NO_BACKOFF))
                .toList(),
            (report, result) -> results.add(result));

    assertThat(results)
        .hasSize(jobs.size())
        .allMatch(
            r -> r.outcome() == ReportResult.Outcome.APPLIED && "SUCCEEDED".equals(r.state()));
    assertThat(reportCalls() - before).isEqualTo(partitions);
    assertThat(partitions).as("the jobs spread over the four partitions").isGreaterThan(1);
  }

  private String claimed() {
    String id = fixture.dispatched(fixture.submitted(JobTimeouts.NONE));
    store.leases().claim(id, 1, "w1", StoreFixture.TTL);
    return id;
  }

  private double reportCalls() {
    var counter = meters.find(MetricNames.REDIS_CALLS).tag("op", "report").counter();
    return counter == null ? 0 : counter.count();
  }

  private static List<StatusEvent> eventsOf(List<?> list, String jobId) {
    return list.stream()
        .map(o -> o instanceof Reports.Report r ? r.event() : (StatusEvent) o)
        .filter(e -> e.jobId().equals(jobId))
        .toList();
  }

  private static org.assertj.core.groups.Tuple resultOf(
      List<Reports.Report> applied, List<ReportResult> results, int i) {
    StatusEvent e = applied.get(i).event();
    return tuple(e.jobId(), e.sequence(), results.get(i).outcome(), results.get(i).state());
  }
}
