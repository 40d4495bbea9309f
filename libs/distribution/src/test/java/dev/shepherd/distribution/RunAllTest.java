package dev.shepherd.distribution;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The SPI's default batch run: each attempt answered on its own, in order, failures as values. */
class RunAllTest {

  private static final DistributorConfig CONFIG = new DistributorConfig("flaky", Map.of());

  private static AttemptRequest attempt(String jobId) {
    return new AttemptRequest(jobId, "t", 1, 7, null, CONFIG, null);
  }

  @Test
  void eachAttemptIsRunInOrderAndOneFailureDoesNotHideTheOthers() {
    var base = Fixtures.named("flaky");
    Distributor flaky =
        new Distributor() {
          @Override
          public String name() {
            return "flaky";
          }

          @Override
          public void validate(String type, DistributorConfig config) {}

          @Override
          public Started run(AttemptRequest attempt) {
            return switch (attempt.jobId()) {
              case "refused" -> throw new PermanentDistributorException("no such image");
              case "later" -> throw new TransientDistributorException("503 from the backend");
              default -> Started.withoutLimits(new TaskToken("task-" + attempt.jobId()));
            };
          }

          @Override
          public void cancel(AttemptRequest attempt, TaskToken token) {}

          @Override
          public TaskStatus status(AttemptRequest attempt, TaskToken token) {
            return base.status(attempt, token);
          }

          @Override
          public java.util.Optional<java.net.URI> infoUrl(AttemptRequest attempt, TaskToken token) {
            return java.util.Optional.empty();
          }

          @Override
          public List<dev.shepherd.model.StatusEvent> handleNotification(
              AttemptRequest attempt, TaskToken token, Notification notification) {
            return List.of();
          }
        };

    List<RunResult> results =
        flaky.runAll(List.of(attempt("a"), attempt("refused"), attempt("later"), attempt("b")));

    assertThat(results)
        .containsExactly(
            new RunResult.Ran(Started.withoutLimits(new TaskToken("task-a"))),
            new RunResult.Refused("no such image"),
            new RunResult.NotYet("503 from the backend"),
            new RunResult.Ran(Started.withoutLimits(new TaskToken("task-b"))));
  }
}
