package dev.shepherd.e2e.bench;

import static org.assertj.core.api.Assertions.assertThat;

import dev.shepherd.e2e.Cluster;
import dev.shepherd.model.Json;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Without Celery the bench skips that one scenario and names the Debian packages to install. */
class CeleryCheckTest {

  @Test
  void namesTheMissingDebianPackages(@TempDir Path dir) throws Exception {
    // a python3 that answers driver.py check as one without Celery's packages does
    Path python = dir.resolve("python3");
    Files.writeString(
        python,
        "#!/bin/sh\n"
            + "echo '{\"python\": \"python3\", \"missing\": [\"python3-celery\", \"python3-redis\"],"
            + " \"versions\": {}}'\n");
    Files.setPosixFilePermissions(python, PosixFilePermissions.fromString("rwx------"));

    Celery.Check check = Celery.check(Cluster.repositoryRoot(), python.toString());

    assertThat(check.skipped())
        .startsWith("skipped: ")
        .contains("missing Debian packages: python3-celery python3-redis")
        .contains("apt-get install python3-celery python3-redis");
  }

  @Test
  void saysSoWhenThereIsNoPython(@TempDir Path dir) {
    Celery.Check check = Celery.check(Cluster.repositoryRoot(), dir.resolve("none").toString());

    assertThat(check.skipped()).startsWith("skipped: cannot run ").contains("python3-celery");
  }

  @Test
  void theTableSaysCeleryWasSkippedAndWhy() {
    String skipped = "skipped: missing Debian packages: python3-celery";
    var r =
        Json.mapper()
            .createObjectNode()
            .set(
                "againstCelery",
                Json.mapper()
                    .createObjectNode()
                    .put("workers", 2)
                    .put("slotsPerWorker", 8)
                    .set("celery", Json.mapper().createObjectNode().put("skipped", skipped)));

    assertThat(Report.againstCeleryTable(r)).contains("| skipped |").contains("Celery " + skipped);
  }
}
