package dev.shepherd.model;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class TraceParentTest {

  @Test
  void aValidHeaderRoundTrips() {
    String header = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    assertThat(TraceParent.parse(header)).map(TraceParent::toString).contains(header);
  }

  @Test
  void invalidHeadersAreIgnored() {
    assertThat(TraceParent.parse(null)).isEmpty();
    assertThat(TraceParent.parse("garbage")).isEmpty();
    assertThat(TraceParent.parse("00-00000000000000000000000000000000-00f067aa0ba902b7-01"))
        .isEmpty();
    assertThat(TraceParent.parse("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"))
        .isEmpty();
    assertThat(TraceParent.parse("00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01"))
        .as("an all-zero parent")
        .isEmpty();
    assertThat(TraceParent.parse("00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01"))
        .as("upper-case hex")
        .isEmpty();
    assertThat(TraceParent.parse("00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01"))
        .as("not hex")
        .isEmpty();
    assertThat(TraceParent.parse("00-4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7-01"))
        .as("a wrong separator")
        .isEmpty();
    assertThat(TraceParent.parse("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1"))
        .as("too short")
        .isEmpty();
    assertThat(TraceParent.parse("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-x"))
        .as("too long")
        .isEmpty();
    assertThat(TraceParent.parse(" 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01 "))
        .as("surrounding blanks are trimmed")
        .isPresent();
  }

  @Test
  void aChildKeepsTheTraceAndGetsANewParent() {
    TraceParent root = TraceParent.newRoot();
    TraceParent child = root.child();
    assertThat(child.traceId()).isEqualTo(root.traceId());
    assertThat(child.parentId()).isNotEqualTo(root.parentId()).hasSize(16);
    assertThat(TraceParent.parse(child.toString())).contains(child);
  }

  @Test
  void aJobWithoutACallersTraceHasItsIdsTrace() {
    String id = JobIds.newId(7);
    TraceParent own = TraceParent.ofJob(id).orElseThrow();
    assertThat(own.traceId()).isEqualTo(id.substring(3));
    assertThat(own.parentId()).isEqualTo(id.substring(19));
    assertThat(own.flags()).as("sampled, as a new root").isEqualTo("01");
    assertThat(TraceParent.parse(own.toString())).contains(own);
    assertThat(TraceParent.ofJob("07-" + "0".repeat(32))).as("an all-zero trace id").isEmpty();
    assertThat(TraceParent.ofJob("07-3F2A" + "0".repeat(27) + "1")).as("upper-case hex").isEmpty();
    assertThat(TraceParent.ofJob("job-1")).isEmpty();
    assertThat(TraceParent.ofJob(null)).isEmpty();
  }

  @Test
  void aStoredTraceWinsOverTheJobsOwn() {
    String id = JobIds.newId(3);
    String callers = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    assertThat(TraceParent.ofStored(callers, id)).isEqualTo(callers);
    assertThat(TraceParent.ofStored(null, id))
        .isEqualTo("00-" + id.substring(3) + "-" + id.substring(19) + "-01");
    assertThat(TraceParent.ofStored("", id)).as("stored empty").startsWith("00-" + id.substring(3));
    assertThat(TraceParent.ofStored(null, "not-a-job-id")).isNull();
    assertThat(TraceParent.stored(callers, id).map(TraceParent::traceId))
        .contains("4bf92f3577b34da6a3ce929d0e0e4736");
    assertThat(TraceParent.stored("garbage", id).map(TraceParent::traceId))
        .contains(id.substring(3));
    assertThat(TraceParent.stored(null, "not-a-job-id")).isEmpty();
  }
}
