package dev.shepherd.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.shepherd.model.StatusEvent;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class RemoteReportsTest {

  private static final Duration NO_WAIT = Duration.ZERO;
  private final RemoteReports reports = new RemoteReports();

  private static StatusEvent progress(String jobId, long token, long sequence) {
    return new StatusEvent.Progress(
        jobId, "t", 1, token, sequence, "http:x", Instant.EPOCH, (int) sequence, "step");
  }

  private static List<Long> sequences(RemoteReports.Mailbox mailbox) throws InterruptedException {
    var taken = new ArrayList<Long>();
    StatusEvent e;
    while ((e = mailbox.take(NO_WAIT)) != null) {
      taken.add(e.sequence());
    }
    return taken;
  }

  @Test
  void eventsDeliveredBeforeAnyTakeWaitInTheMailboxInOrder() throws Exception {
    try (var mailbox = reports.open("j1", 7)) {
      assertThat(reports.deliver("j1", 7, List.of(progress("j1", 7, 1), progress("j1", 7, 2))))
          .isTrue();
      assertThat(reports.deliver("j1", 7, List.of(progress("j1", 7, 3)))).isTrue();

      assertThat(sequences(mailbox)).containsExactly(1L, 2L, 3L);
    }
  }

  @Test
  void aReplayedOrLateEventIsDroppedAndChangesNothing() throws Exception {
    try (var mailbox = reports.open("j1", 7)) {
      reports.deliver("j1", 7, List.of(progress("j1", 7, 1), progress("j1", 7, 3)));
      reports.deliver("j1", 7, List.of(progress("j1", 7, 3))); // the same callback again
      reports.deliver("j1", 7, List.of(progress("j1", 7, 2))); // one overtaken by #3
      reports.deliver("j1", 7, List.of(progress("j1", 7, 4)));

      assertThat(sequences(mailbox)).containsExactly(1L, 3L, 4L);
    }
  }

  @Test
  void eventsForAnotherClaimOrNoOpenMailboxAreNotTaken() throws Exception {
    try (var mailbox = reports.open("j1", 7)) {
      assertThat(reports.deliver("j1", 6, List.of(progress("j1", 6, 1)))).isFalse();
      assertThat(reports.deliver("j2", 7, List.of(progress("j2", 7, 1)))).isFalse();
      // the order names this attempt but one of its events another: not this attempt's report
      reports.deliver("j1", 7, List.of(progress("j1", 8, 1), progress("j1", 7, 2)));

      assertThat(sequences(mailbox)).containsExactly(2L);
    }
  }

  @Test
  void aClosedMailboxTakesNothingMoreAndTheAttemptCanBeOpenedOnlyOnceAtATime() {
    var mailbox = reports.open("j1", 7);
    assertThatThrownBy(() -> reports.open("j1", 7))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("j1");
    assertThat(reports.openCount()).isEqualTo(1);

    mailbox.close();

    assertThat(reports.deliver("j1", 7, List.of(progress("j1", 7, 1)))).isFalse();
    assertThat(reports.openCount()).isZero();
    reports.open("j1", 7).close(); // open again after close: a handler of the same attempt
  }

  @Test
  void takeWaitsForAnEventDeliveredMeanwhile() throws Exception {
    try (var mailbox = reports.open("j1", 7)) {
      Thread.ofVirtual().start(() -> reports.deliver("j1", 7, List.of(progress("j1", 7, 1))));

      assertThat(mailbox.take(Duration.ofSeconds(5))).isNotNull();
      assertThat(mailbox.take(Duration.ofMillis(10))).isNull();
    }
  }
}
