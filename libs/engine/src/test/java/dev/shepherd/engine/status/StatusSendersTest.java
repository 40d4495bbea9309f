package dev.shepherd.engine.status;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Which broker users may send status events (ADR 40). */
class StatusSendersTest {

  @Test
  void onlyAWorkersUserMayReportAndOneWithoutAUserIsUnauthenticated() {
    var senders = new StatusSenders(List.of("worker"), null, new SimpleMeterRegistry());
    assertThat(senders.refusal("worker")).isNull();
    assertThat(senders.refusal("producer")).startsWith("forbidden:").contains("'producer'");
    assertThat(senders.refusal(null)).startsWith("unauthenticated:");
    assertThat(senders.refusal(" ")).startsWith("unauthenticated:");
  }

  @Test
  void withoutWorkerUsersTheBrokersPermissionsDecide() {
    var senders = new StatusSenders(List.of(), null, new SimpleMeterRegistry());
    assertThat(senders.refusal(null)).isNull();
    assertThat(senders.refusal("anyone")).isNull();
  }
}
