package dev.shepherd.worker;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import org.junit.jupiter.api.Test;

class FailureTest {

  @Test
  void aPermanentJobExceptionIsNotRetryableAndKeepsItsMessage() {
    assertThat(Failure.of(new PermanentJobException("poison payload")))
        .isEqualTo(new Failure("poison payload", false));
  }

  @Test
  void aRetryableJobExceptionIsRetryableAndKeepsItsMessage() {
    assertThat(Failure.of(new RetryableJobException("upstream answered 503")))
        .isEqualTo(new Failure("upstream answered 503", true));
  }

  @Test
  void anyOtherExceptionIsRetryableAndNamedByItsClass() {
    assertThat(Failure.of(new IOException("Connection reset")))
        .isEqualTo(new Failure("IOException: Connection reset", true));
    assertThat(Failure.of(new NullPointerException()))
        .isEqualTo(new Failure("java.lang.NullPointerException", true));
  }

  @Test
  void anInterruptIsRetryable() {
    assertThat(Failure.of(new InterruptedException("stopped")).retryable()).isTrue();
  }

  @Test
  void aMissingHandlerIsPermanentAndNamesTheTypeAndTheWorker() {
    Failure failure = Failure.noHandler("report.render", "worker-7");

    assertThat(failure.retryable()).isFalse();
    assertThat(failure.error())
        .startsWith("no handler for job type report.render")
        .contains("worker-7");
  }

  @Test
  void aPayloadThatDoesNotBindIsPermanentAndNamesTheType() {
    Failure failure = Failure.unboundPayload(Integer.class, "not a number");

    assertThat(failure.retryable()).isFalse();
    assertThat(failure.error()).contains("Integer").contains("not a number");
  }

  @Test
  void aHugeMessageIsCut() {
    Failure failure = Failure.of(new RetryableJobException("x".repeat(10_000)));

    assertThat(failure.error()).hasSize(Failure.MAX_ERROR_LENGTH + 3).endsWith("...");
  }
}
