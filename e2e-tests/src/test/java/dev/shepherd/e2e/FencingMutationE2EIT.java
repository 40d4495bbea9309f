package dev.shepherd.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.shepherd.testsupport.ServiceEndpoints;
import dev.shepherd.testsupport.TestNames;
import dev.shepherd.testsupport.WithRealServices;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The fencing tests bite: with the fencing-token check removed from the report script, the
 * forged-reports scenario of {@link BadInputE2EIT} reports violations. The mutant is served to the
 * services through a directory in front of their classpath ({@link Cluster#start(Cluster.Spec,
 * List, Path)}), so production code has no hook for it.
 */
@WithRealServices
class FencingMutationE2EIT {

  /** The start of report.lua's token check; the mutation turns its condition into {@code false}. */
  static final String TOKEN_CHECK = "if job.token ~= token then return {outcome = 'STALE'";

  @Test
  void withoutTheTokenCheckForgedReportsAgainstRunningJobsEndThem(
      ServiceEndpoints endpoints, TestNames names, @TempDir Path classpath) throws Exception {
    String script =
        Files.readString(
            Cluster.repositoryRoot().resolve("libs/store/src/main/resources/lua/report.lua"));
    assertThat(script)
        .as("report.lua still has the token check this test removes")
        .contains(TOKEN_CHECK);
    Files.createDirectories(classpath.resolve("lua"));
    Files.writeString(
        classpath.resolve("lua/report.lua"),
        script.replace(TOKEN_CHECK, "if false then return {outcome = 'STALE'"));

    try (var e2e = new E2eSupport(endpoints, names.prefix(), 1, Map.of(), classpath);
        var client = e2e.cluster.client().build()) {
      List<String> violations = ForgedReports.againstRunningJobs(e2e, client);
      System.out.println("with the token check removed: " + violations);
      assertThat(violations)
          .as("what the forged-reports scenario catches when the token check is gone")
          .anySatisfy(v -> assertThat(v).contains("a forged report ended it"));
    }
  }
}
