package dev.shepherd.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.shepherd.model.StatusEvent;
import dev.shepherd.store.ClaimResult;
import dev.shepherd.store.DueEntry;
import dev.shepherd.store.NewJob;
import dev.shepherd.testsupport.ServiceEndpoints;
import dev.shepherd.testsupport.TestNames;
import dev.shepherd.testsupport.WithRealServices;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What the scripts announce reaches the scheduler at once: a job that a status-tracker's or
 * recovery's script makes due now, where no dispatcher was told (an ordering key's next job, a
 * concurrency key's freed slot), and the end of an awaited job. A job that becomes due later, or
 * that nobody awaits, is not announced.
 */
@WithRealServices
class ScriptSignalsIT {

  private EngineFixture fixture;
  private ScriptSignals signals;
  private final List<String> woken = new CopyOnWriteArrayList<>();
  private final List<String> finished = new CopyOnWriteArrayList<>();

  @BeforeEach
  void setUp(ServiceEndpoints endpoints, TestNames names) {
    fixture = new EngineFixture(endpoints, names);
    signals =
        new ScriptSignals(fixture.redisConnections)
            .on(fixture.store.outbox().wakeChannels(), woken::add)
            .on(fixture.store.queries().finishedChannels(), finished::add);
    signals.start();
    await().atMost(Duration.ofSeconds(10)).until(signals::isSubscribed);
  }

  @AfterEach
  void tearDown() {
    signals.close();
    fixture.close();
  }

  private String submit(NewJob job) {
    return fixture.store.submissions().submit(job).jobId();
  }

  private static NewJob noop() {
    return new NewJob("demo.noop", "default", "{}", null, null, 3);
  }

  /** Dispatches every due job, claims and succeeds it, as the services would. */
  private void runEveryDueJob() {
    var store = fixture.store;
    for (int p = 0; p < store.outbox().partitions(); p++) {
      List<DueEntry> due = store.outbox().reserveDue(p, 100, Duration.ofSeconds(30));
      store.outbox().markDispatched(p, due);
      for (DueEntry entry : due) {
        var claimed =
            (ClaimResult.Claimed)
                store.leases().claim(entry.jobId(), 1, "w1", Duration.ofSeconds(30));
        store
            .reports()
            .report(
                new StatusEvent.Succeeded(
                    entry.jobId(),
                    "demo.noop",
                    1,
                    claimed.fencingToken(),
                    1,
                    "w1",
                    fixture.clock.instant()),
                Duration.ofSeconds(1));
      }
    }
  }

  @Test
  void anOrderingKeysNextJobAndAFreedConcurrencySlotsJobAreAnnouncedAtOnce() {
    String a1 = submit(noop().withOrderingKey("customer-a"));
    String a2 = submit(noop().withOrderingKey("customer-a"));
    String later =
        submit(
            new NewJob(
                    "demo.noop",
                    "default",
                    "{}",
                    null,
                    fixture.clock.instant().plusSeconds(3600),
                    3)
                .withOrderingKey("customer-a"));
    String c1 = submit(noop().withConcurrencyKey("tenant-1", 1));
    String c2 = submit(noop().withConcurrencyKey("tenant-1", 1));
    assertThat(woken).as("submissions are announced by the scheduler itself").isEmpty();

    runEveryDueJob(); // a1 and c1 succeed
    await().atMost(Duration.ofSeconds(10)).until(() -> woken.containsAll(List.of(a2, c2)));
    runEveryDueJob(); // a2 and c2: the key's next job is due in an hour, nobody waits for a slot

    // one subscription hears the messages in the order they were published: once the sentinel's
    // is in, a message about `later` would be in too
    submit(noop().withOrderingKey("sentinel"));
    String sentinel = submit(noop().withOrderingKey("sentinel"));
    runEveryDueJob();
    await().atMost(Duration.ofSeconds(10)).until(() -> woken.contains(sentinel));
    assertThat(woken).as("announced, once each").containsExactlyInAnyOrder(a2, c2, sentinel);
    assertThat(woken).doesNotContain(a1, c1, later);
  }

  @Test
  void anAwaitedJobsEndIsAnnouncedAndAnotherJobsIsNot() {
    String awaited = submit(noop());
    String ignored = submit(noop());
    String finishedAlready = submit(noop());
    assertThat(fixture.store.queries().await(awaited))
        .contains(dev.shepherd.model.JobState.SUBMITTED);
    assertThat(fixture.store.queries().await("00-no-such-job")).isEmpty();

    runEveryDueJob();
    await().atMost(Duration.ofSeconds(10)).until(() -> finished.contains(awaited));
    assertThat(fixture.store.queries().await(finishedAlready))
        .as("answered with its end, not marked")
        .contains(dev.shepherd.model.JobState.SUCCEEDED);
    // a sentinel published after: once it is heard, an announcement of `ignored` would be too
    String sentinel = submit(noop());
    fixture.store.queries().await(sentinel);
    runEveryDueJob();
    await().atMost(Duration.ofSeconds(10)).until(() -> finished.contains(sentinel));
    assertThat(finished).containsExactly(awaited, sentinel).doesNotContain(ignored);
  }
}
