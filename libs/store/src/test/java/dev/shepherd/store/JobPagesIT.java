package dev.shepherd.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.shepherd.model.JobState;
import dev.shepherd.model.JobSummary;
import dev.shepherd.model.JobTimeouts;
import dev.shepherd.model.StatusEvent;
import dev.shepherd.testsupport.ServiceEndpoints;
import dev.shepherd.testsupport.TestNames;
import dev.shepherd.testsupport.WithRealServices;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The console's reads (ADR 42): pages of jobs by a cursor over the time-ordered indexes, the jobs
 * finished per minute, and each pool's oldest queued job.
 */
@WithRealServices
class JobPagesIT {

  private StoreFixture fixture;
  private Store store;

  @BeforeEach
  void connect(ServiceEndpoints endpoints, TestNames names) {
    fixture = new StoreFixture(endpoints, names);
    store = fixture.store;
  }

  @AfterEach
  void cleanUp() {
    fixture.close();
  }

  private String submit(String type, String pool) {
    return store
        .submissions()
        .submit(new NewJob(type, pool, "{}", null, null, 3, null, JobTimeouts.NONE))
        .jobId();
  }

  private List<JobSummary> all(JobQueries.JobPageRequest first, JobQueries.Visible visible) {
    List<JobSummary> rows = new ArrayList<>();
    String after = null;
    for (int pages = 0; pages < 100; pages++) {
      var q =
          new JobQueries.JobPageRequest(
              first.state(),
              first.type(),
              first.pool(),
              first.from(),
              first.to(),
              after,
              first.limit());
      var page = store.queries().page(q, visible);
      rows.addAll(page.rows());
      if (page.next() == null) {
        return rows;
      }
      after = page.next();
    }
    throw new AssertionError("more than 100 pages");
  }

  private static JobQueries.JobPageRequest request(int limit) {
    return new JobQueries.JobPageRequest(null, null, null, null, null, null, limit);
  }

  @Test
  void pagingByCursorVisitsEveryJobOnceNewestFirstThroughTiesInOneMillisecond() {
    List<String> newestFirst = new ArrayList<>();
    for (int i = 0; i < 40; i++) {
      newestFirst.addFirst(submit("demo.noop", "default"));
      // several jobs share each millisecond: the cursor must order them by id
      if (i % 3 == 0) {
        fixture.clock.advance(Duration.ofMillis(1));
      }
    }

    List<JobSummary> rows = all(request(7), null);

    assertThat(rows).extracting(JobSummary::id).containsExactlyInAnyOrderElementsOf(newestFirst);
    assertThat(rows).extracting(JobSummary::id).doesNotHaveDuplicates();
    assertThat(rows)
        .extracting(JobSummary::submittedAt)
        .isSortedAccordingTo(java.util.Comparator.reverseOrder());
  }

  @Test
  void aPageReadsOnlyTheJobsItShowsWhenTheIndexAnswersTheFilter() {
    for (int i = 0; i < 60; i++) {
      submit("demo.noop", "default");
      fixture.clock.advance(Duration.ofMillis(1));
    }

    var page = store.queries().page(request(10), null);

    assertThat(page.rows()).hasSize(10);
    assertThat(page.read()).isEqualTo(10);
    assertThat(page.next()).isNotNull();
  }

  @Test
  void typePoolAndTimeRangeFilterOnWhatIsStoredOnTheJob() {
    Instant start = fixture.clock.instant();
    List<String> wanted = new ArrayList<>();
    for (int i = 0; i < 30; i++) {
      String id = submit(i % 2 == 0 ? "demo.a" : "demo.b", i % 3 == 0 ? "gpu" : "default");
      if (i % 2 == 0 && i % 3 == 0 && i >= 10 && i < 25) {
        wanted.add(id);
      }
      fixture.clock.advance(Duration.ofSeconds(1));
    }
    Instant from = start.plusSeconds(10);
    Instant to = start.plusSeconds(24);

    var q = new JobQueries.JobPageRequest(null, "demo.a", "gpu", from, to, null, 2);

    assertThat(all(q, null)).extracting(JobSummary::id).containsExactlyInAnyOrderElementsOf(wanted);
    // a state's index is walked for a state filter, with the range checked on submission time
    var submitted =
        new JobQueries.JobPageRequest(JobState.SUBMITTED, "demo.a", "gpu", from, to, null, 2);
    assertThat(all(submitted, null))
        .extracting(JobSummary::id)
        .containsExactlyInAnyOrderElementsOf(wanted);
  }

  @Test
  void queuedJobsOfAPoolAreReadFromThePoolsIndex() {
    String gpu = fixture.dispatched(submit("demo.noop", "gpu"));
    fixture.clock.advance(Duration.ofSeconds(1));
    fixture.dispatched(submit("demo.noop", "default"));
    fixture.clock.advance(Duration.ofSeconds(1));
    String gpu2 = fixture.dispatched(submit("demo.noop", "gpu"));

    var page =
        store
            .queries()
            .page(
                new JobQueries.JobPageRequest(JobState.QUEUED, null, "gpu", null, null, null, 10),
                null);

    assertThat(page.rows()).extracting(JobSummary::id).containsExactly(gpu2, gpu);
    assertThat(page.read()).isEqualTo(2);
    assertThat(page.next()).isNull();
    assertThat(store.queries().oldestQueued("gpu"))
        .contains(new JobQueries.QueuedJob(gpu, Instant.parse("2026-01-01T00:00:00Z")));
    assertThat(store.queries().oldestQueued("nobody")).isEmpty();
  }

  @Test
  void aFilterNoIndexAnswersReadsABoundedWindowAndSaysWhereToGoOn() {
    for (int i = 0; i < JobPages.SCAN_WINDOW + 200; i++) {
      submit("demo.common", "default");
      fixture.clock.advance(Duration.ofMillis(1));
    }
    String rare = null;
    fixture.clock.set(Instant.parse("2025-12-31T00:00:00Z"));
    rare = submit("demo.rare", "default");

    var q = new JobQueries.JobPageRequest(null, "demo.rare", null, null, null, null, 10);
    var first = store.queries().page(q, null);

    assertThat(first.rows()).isEmpty();
    assertThat(first.windowEnded()).isTrue();
    assertThat(first.read()).isLessThanOrEqualTo(JobPages.SCAN_WINDOW);
    assertThat(all(q, null)).extracting(JobSummary::id).containsExactly(rare);
  }

  @Test
  void aVisibilityRuleLeavesOutWhatTheCallerMayNotSee() {
    submit("demo.secret", "default");
    String open = submit("demo.open", "default");

    assertThat(all(request(10), (type, tenant) -> type.equals("demo.open")))
        .extracting(JobSummary::id)
        .containsExactly(open);
  }

  @Test
  void aCursorThatIsNotOneIsRefused() {
    assertThatThrownBy(
            () ->
                store
                    .queries()
                    .page(
                        new JobQueries.JobPageRequest(null, null, null, null, null, "x", 5), null))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void jobsFinishedPerMinuteAreCountedInTheMinuteTheyEndedByHowTheyEnded() {
    Instant t0 = fixture.clock.instant();
    // two succeed and one is cancelled in the first minute, one dies in the third
    for (int i = 0; i < 2; i++) {
      String id = fixture.claimed(3, JobTimeouts.NONE, "w1");
      store
          .reports()
          .report(
              new StatusEvent.Succeeded(
                  id, "demo.noop", 1, fixture.token(id), 1, "w1", fixture.clock.instant()),
              Duration.ZERO);
    }
    store.cancels().cancel(fixture.submitted(JobTimeouts.NONE), "ops", null);
    fixture.clock.advance(Duration.ofMinutes(2));
    String dead = fixture.claimed(1, JobTimeouts.NONE, "w1");
    store
        .reports()
        .report(
            new StatusEvent.Failed(
                dead,
                "demo.noop",
                1,
                fixture.token(dead),
                1,
                "w1",
                fixture.clock.instant(),
                "bad",
                false),
            Duration.ZERO);
    fixture.clock.advance(Duration.ofSeconds(30));

    var minutes = store.queries().finishedPerMinute(60);

    assertThat(minutes).hasSize(60);
    assertThat(minutes.getLast().start()).isEqualTo(fixture.clock.instant().minusSeconds(60));
    // now = t0 + 2m30s: t0 lies in the minute (t0 - 30s, t0 + 30s], t0 + 2m in (t0 + 1m30s, t0 +
    // 2m30s]
    assertThat(minutes.get(57))
        .isEqualTo(new JobQueries.FinishedMinute(t0.minusSeconds(30), 2, 0, 1));
    assertThat(minutes.get(58).finished()).isZero();
    assertThat(minutes.get(59))
        .isEqualTo(new JobQueries.FinishedMinute(t0.plusSeconds(90), 0, 1, 0));
    assertThat(minutes.stream().mapToLong(JobQueries.FinishedMinute::finished).sum()).isEqualTo(4);
  }

  @Test
  void theSummaryCountsWhatTheSeparateReadsCountInOneCallPerPartition() {
    String gpu = fixture.dispatched(submit("demo.noop", "gpu"));
    fixture.clock.advance(Duration.ofSeconds(1));
    for (int i = 0; i < 5; i++) {
      fixture.dispatched(submit("demo.noop", "gpu"));
      fixture.dispatched(submit("demo.noop", "default"));
    }
    String running = fixture.claimed(3, JobTimeouts.NONE, "w1");
    String done = fixture.claimed(3, JobTimeouts.NONE, "w1");
    store
        .reports()
        .report(
            new StatusEvent.Succeeded(
                done, "demo.noop", 1, fixture.token(done), 1, "w1", fixture.clock.instant()),
            Duration.ZERO);
    // submitted after the claims: each claim dispatches every due job of its partition first
    submit("demo.noop", "default");

    var summary = store.queries().summary(List.of("gpu", "default", "idle"), 60);

    assertThat(summary.counts().get(JobState.RUNNING)).isEqualTo(1);
    assertThat(summary.counts().get(JobState.SUCCEEDED)).isEqualTo(1);
    assertThat(summary.counts().get(JobState.QUEUED)).isEqualTo(11);
    for (JobState state : JobState.values()) {
      assertThat(summary.counts().get(state))
          .as(state.name())
          .isEqualTo(store.queries().countInState(state));
    }
    assertThat(summary.pools().keySet()).containsExactly("gpu", "default", "idle");
    assertThat(summary.pools().get("gpu"))
        .isEqualTo(
            new JobQueries.PoolQueue(
                6, new JobQueries.QueuedJob(gpu, Instant.parse("2026-01-01T00:00:00Z"))));
    assertThat(summary.pools().get("default").depth()).isEqualTo(5);
    assertThat(summary.pools().get("default").oldest())
        .isEqualTo(store.queries().oldestQueued("default").orElseThrow());
    assertThat(summary.pools().get("idle")).isEqualTo(new JobQueries.PoolQueue(0, null));
    assertThat(summary.finishedPerMinute()).isEqualTo(store.queries().finishedPerMinute(60));
    assertThat(summary.finishedPerMinute().getLast().succeeded()).isEqualTo(1);
    assertThat(running).isNotEqualTo(done);
  }
}
