package dev.shepherd.distribution.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.shepherd.distribution.TaskToken;
import org.junit.jupiter.api.Test;

class JobNamesTest {

  private static final String DNS_LABEL = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";

  @Test
  void aShepherdJobIdNamesTheJobPlainly() {
    assertThat(JobNames.jobName("07-3f2a9c0d4e5f60718293a4b5c6d7e8f9", 12))
        .isEqualTo("shepherd-07-3f2a9c0d4e5f60718293a4b5c6d7e8f9-12");
  }

  @Test
  void aLongOrUnusualJobIdStillNamesAValidDistinctJobOfAtMost63Characters() {
    String longId = "07-" + "a".repeat(80);
    String otherLongId = "07-" + "a".repeat(79) + "b";
    String upper = "Report_Weekly.7";

    for (String id : new String[] {longId, otherLongId, upper}) {
      String name = JobNames.jobName(id, 3);
      assertThat(name).hasSizeLessThanOrEqualTo(63).matches(DNS_LABEL).endsWith("-3");
      assertThat(JobNames.jobName(id, 3)).as("deterministic").isEqualTo(name);
    }
    assertThat(JobNames.jobName(longId, 3)).isNotEqualTo(JobNames.jobName(otherLongId, 3));
    assertThat(JobNames.jobName(upper, 3))
        .isNotEqualTo(JobNames.jobName(upper.toLowerCase(), 3))
        .startsWith("shepherd-report-weekly-7-");
  }

  @Test
  void aLabelValueKubernetesRefusesBecomesAHash() {
    assertThat(JobNames.labelValue("report.render")).isEqualTo("report.render");
    assertThat(JobNames.labelValue("x".repeat(64))).startsWith("h-").hasSize(34);
    assertThat(JobNames.labelValue("a/b")).startsWith("h-");
  }

  @Test
  void aTokenIsNamespaceSlashName() {
    var ref = JobNames.JobRef.of(JobNames.token("work", "shepherd-07-1"));
    assertThat(ref.namespace()).isEqualTo("work");
    assertThat(ref.name()).isEqualTo("shepherd-07-1");
    assertThatThrownBy(() -> JobNames.JobRef.of(new TaskToken("no-slash")))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
