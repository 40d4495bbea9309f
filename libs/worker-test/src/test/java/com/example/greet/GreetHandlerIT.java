package com.example.greet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.shepherd.model.JobState;
import dev.shepherd.model.JobView;
import dev.shepherd.worker.test.ShepherdTestJobs;
import dev.shepherd.worker.test.ShepherdWorkerTest;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.beans.factory.annotation.Value;

/**
 * A handler tested as a team would test it (issue 18 item 2): {@code @ShepherdWorkerTest} and a few
 * lines, against the real RabbitMQ and Redis; the job type and pool are the worker's own, named by
 * no Shepherd configuration (ADR 35).
 */
@ShepherdWorkerTest
class GreetHandlerIT {

  @Autowired ShepherdTestJobs jobs;

  @Value("${shepherd.store.prefix}")
  String prefix;

  @Test
  void aGreetingRunsItsWholePath() {
    JobView done = jobs.run("greet.send", new GreetWorker.Greeting("ann", 2));
    assertThat(done.state()).isEqualTo(JobState.SUCCEEDED);
    assertThat(GreetWorker.GREETED).contains("ann x2");
    assertThat(prefix).as("a prefix of its own").startsWith("wt");
  }

  @Test
  void aRetryableFailureIsRetriedAndAPermanentOneEndsDead() {
    JobView retried = jobs.run("greet.send", Map.of("name", "flaky", "times", 1));
    assertThat(retried.state()).isEqualTo(JobState.SUCCEEDED);
    assertThat(retried.attempt()).isEqualTo(2);
    JobView dead = jobs.run("greet.send", Map.of("name", "nobody", "times", 1));
    assertThat(dead.state()).isEqualTo(JobState.DEAD);
    assertThat(dead.lastError()).contains("nobody to greet");
  }

  @Test
  void thePayloadIsJudgedByTheAnnouncedSchemaAtSubmission() {
    assertThatThrownBy(() -> jobs.submit("greet.send", Map.of("times", 1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("/payload/name");
    // a missing primitive: the handler's mapper would refuse it, so the schema does, at submission
    assertThatThrownBy(() -> jobs.submit("greet.send", Map.of("name", "ann")))
        .hasMessageContaining("/payload/times");
    assertThatThrownBy(() -> jobs.submit("greet.unknown", Map.of()))
        .hasMessageContaining("UNKNOWN_JOB_TYPE");
  }
}
