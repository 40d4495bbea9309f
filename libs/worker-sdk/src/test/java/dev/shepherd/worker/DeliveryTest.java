package dev.shepherd.worker;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class DeliveryTest {

  private static Delivery read(String body) {
    return Delivery.read(body.getBytes(StandardCharsets.UTF_8));
  }

  private static String problemOf(Delivery delivery) {
    assertThat(delivery).isInstanceOf(Delivery.Unreadable.class);
    return ((Delivery.Unreadable) delivery).problem();
  }

  @Test
  void aWorkMessageIsRead() {
    var delivery =
        read(
            "{\"jobId\":\"07-abc\",\"type\":\"demo.noop\",\"attempt\":2,"
                + "\"payload\":{\"a\":1},\"submittedAt\":\"2026-01-02T03:04:05Z\"}");

    assertThat(delivery)
        .isInstanceOfSatisfying(
            Delivery.Readable.class,
            r -> {
              assertThat(r.work().jobId()).isEqualTo("07-abc");
              assertThat(r.work().attempt()).isEqualTo(2);
              assertThat(r.work().payload().path("a").asInt()).isEqualTo(1);
            });
  }

  @Test
  void textThatIsNotJsonIsUnreadable() {
    assertThat(problemOf(read("not json at all"))).startsWith("unreadable work message");
  }

  @Test
  void anEmptyBodyIsUnreadable() {
    assertThat(problemOf(read(""))).startsWith("unreadable work message");
    assertThat(problemOf(read("null"))).startsWith("unreadable work message");
  }

  @Test
  void anUnknownFieldIsUnreadable() {
    assertThat(problemOf(read("{\"jobId\":\"07-a\",\"type\":\"t\",\"attempt\":1,\"x\":1}")))
        .contains("x");
  }

  @Test
  void aMessageWithoutJobIdTypeOrAttemptIsUnreadable() {
    assertThat(problemOf(read("{\"type\":\"t\",\"attempt\":1}"))).contains("jobId");
    assertThat(problemOf(read("{\"jobId\":\"07-a\",\"attempt\":1}"))).contains("type");
    assertThat(problemOf(read("{\"jobId\":\"07-a\",\"type\":\"t\"}"))).contains("/attempt");
    assertThat(problemOf(read("{\"jobId\":\"07-a\",\"type\":\"t\",\"attempt\":0}")))
        .contains("attempt 0");
  }
}
