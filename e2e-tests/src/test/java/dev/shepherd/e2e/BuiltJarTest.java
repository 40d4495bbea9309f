package dev.shepherd.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Which file {@link Cluster#builtJar} starts a service from, whatever the project's version. */
class BuiltJarTest {

  @Test
  void theModulesJarIsFoundWhateverItsVersionAndNoOtherOne(@TempDir Path copies) throws Exception {
    for (String name :
        new String[] {
          "shepherd-worker-2.3.1.jar",
          "shepherd-worker-2.3.1-sources.jar",
          "shepherd-worker-2.3.1-plain.jar",
          "shepherd-worker-2.3.1.jar.original",
          "shepherd-worker-test-2.3.1.jar",
          "shepherd-report-worker-2.3.1.jar"
        }) {
      Files.createFile(copies.resolve(name));
    }
    System.setProperty(Cluster.JARS_PROPERTY, copies.toString());
    try {
      assertThat(Cluster.builtJar(Path.of("."), "services/worker", "shepherd-worker"))
          .isEqualTo(copies.resolve("shepherd-worker-2.3.1.jar"));
      assertThat(Cluster.builtJar(Path.of("."), "examples/report-worker", "shepherd-report-worker"))
          .isEqualTo(copies.resolve("shepherd-report-worker-2.3.1.jar"));
      assertThatThrownBy(
              () -> Cluster.builtJar(Path.of("."), "services/recovery", "shepherd-recovery"))
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("missing")
          .hasMessageContaining("make build");
      Files.createFile(copies.resolve("shepherd-worker-2.4.0.jar"));
      assertThatThrownBy(() -> Cluster.builtJar(Path.of("."), "services/worker", "shepherd-worker"))
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("expected one shepherd-worker jar");
    } finally {
      System.clearProperty(Cluster.JARS_PROPERTY);
    }
  }
}
