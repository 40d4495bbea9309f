package dev.shepherd.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

class SubmissionMessagesTest {

  private static JobSubmission keyed(String key) {
    return JobSubmission.of("demo.noop", Json.mapper().createObjectNode()).withIdempotencyKey(key);
  }

  @Test
  void oneSubmissionIsAnObjectEverySchedulerReads() {
    byte[] body = SubmissionMessages.encode(List.of(keyed("a")));
    assertThat(Json.isArray(body)).isFalse();
    assertThat(Json.mapper().readValue(body, JobSubmission.class)).isEqualTo(keyed("a"));
  }

  @Test
  void severalAreAnArrayInTheirOrder() {
    byte[] body = SubmissionMessages.encode(List.of(keyed("a"), keyed("b"), keyed("c")));
    assertThat(Json.isArray(body)).isTrue();
    JsonNode array = Json.mapper().readTree(body);
    assertThat(array.size()).isEqualTo(3);
    assertThat(array.get(2).get("idempotencyKey").asString()).isEqualTo("c");
  }

  @Test
  void anArrayRefusesASubmissionWithoutAKeyAndABatchOutsideItsBounds() {
    JobSubmission keyless = JobSubmission.of("demo.noop", Json.mapper().createObjectNode());
    assertThat(SubmissionMessages.encode(List.of(keyless))).isNotEmpty();
    assertThatThrownBy(() -> SubmissionMessages.encode(List.of(keyed("a"), keyless)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("idempotency key");
    assertThatThrownBy(() -> SubmissionMessages.encode(List.of()))
        .isInstanceOf(IllegalArgumentException.class);
    List<JobSubmission> tooMany =
        IntStream.rangeClosed(0, SubmissionMessages.MAX_SUBMISSIONS)
            .mapToObj(i -> keyed("k" + i))
            .toList();
    assertThatThrownBy(() -> SubmissionMessages.encode(tooMany))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("1 to " + SubmissionMessages.MAX_SUBMISSIONS);
  }

  @Test
  void anArrayIsToldByItsFirstByteThatIsNotWhiteSpace() {
    assertThat(Json.isArray(" \n\t[{}]".getBytes(StandardCharsets.UTF_8))).isTrue();
    assertThat(Json.isArray(" {\"a\":[1]}".getBytes(StandardCharsets.UTF_8))).isFalse();
    assertThat(Json.isArray("x[".getBytes(StandardCharsets.UTF_8))).isFalse();
    assertThat(Json.isArray(new byte[0])).isFalse();
  }
}
