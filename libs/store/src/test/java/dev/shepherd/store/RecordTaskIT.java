package dev.shepherd.store;

import static org.assertj.core.api.Assertions.assertThat;

import dev.shepherd.model.AttemptTask;
import dev.shepherd.model.JobTimeouts;
import dev.shepherd.model.StatusEvent;
import dev.shepherd.testsupport.ServiceEndpoints;
import dev.shepherd.testsupport.TestNames;
import dev.shepherd.testsupport.WithRealServices;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Where each attempt ran (record_task.lua, ADR 45): one line per attempt in the job view, written
 * only by the attempt holding the token, a run retried within an attempt replacing its own line,
 * and the lines of earlier attempts kept through a retry.
 */
@WithRealServices
class RecordTaskIT {

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

  @Test
  void eachAttemptsTaskIsKeptOnceAndOnlyItsOwnAttemptMayWriteIt() {
    String id = fixture.claimed(3, JobTimeouts.NONE, "w1");
    long first = fixture.token(id);
    assertThat(fixture.view(id).tasks()).as("no task before a distributor ran one").isNull();

    assertThat(store.leases().recordTask(id, first, "http", "old", null)).isTrue();
    assertThat(store.leases().recordTask(id, first, "http", id + ".1", "https://svc/1")).isTrue();
    assertThat(store.leases().recordTask(id, first + 1, "http", "forged", null))
        .as("another token")
        .isFalse();
    assertThat(fixture.view(id).tasks())
        .containsExactly(new AttemptTask(1, "http", id + ".1", "https://svc/1"));

    var failed =
        new StatusEvent.Failed(
            id, "demo.noop", 1, first, 1, "w1", fixture.clock.instant(), "busy", true);
    store.reports().report(failed, Duration.ZERO);
    assertThat(store.leases().recordTask(id, first, "http", "late", null))
        .as("the attempt is over")
        .isFalse();
    fixture.dispatched(id);
    long second = fixture.claim(id, 2, "w2");
    // the second attempt started under another configuration: each keeps its own snapshot
    assertThat(
            store
                .leases()
                .recordTask(
                    id,
                    second,
                    "kubernetes-job",
                    "work/job-2",
                    null,
                    java.util.Map.of("namespace", "work", "image", "render:2.1")))
        .isTrue();

    assertThat(fixture.view(id).tasks())
        .containsExactly(
            new AttemptTask(1, "http", id + ".1", "https://svc/1"),
            new AttemptTask(
                2,
                "kubernetes-job",
                "work/job-2",
                null,
                java.util.Map.of("namespace", "work", "image", "render:2.1")));
  }

  @Test
  void aMissingJobRecordsNothing() {
    assertThat(store.leases().recordTask("00-nosuchjob", 1, "http", "t", null)).isFalse();
  }
}
