package dev.shepherd.testsupport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A JVM that started processes through {@link ManagedProcess} takes them down when it ends: a bench
 * stopped with SIGTERM once left a whole cluster running, polling the shared Redis and broker under
 * the next run.
 */
class ManagedProcessExitTest {

  /** Started as its own JVM: starts a long sleep, prints its pid, and waits to be stopped. */
  public static final class Parent {
    public static void main(String[] args) throws Exception {
      Process child = ManagedProcess.endsWithThisJvm(new ProcessBuilder("sleep", "600").start());
      System.out.println(child.pid());
      System.out.flush();
      // this JVM only has to stay up until the test stops it with SIGTERM: the wait is the
      // process under test, not a wait for a result (the test awaits the child's end)
      Thread.sleep(Duration.ofMinutes(10));
    }
  }

  @Test
  void processesStartedByAJvmStoppedWithSigtermEndWithIt() throws Exception {
    Process parent =
        new ProcessBuilder(
                List.of(
                    Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-cp",
                    System.getProperty("java.class.path"),
                    Parent.class.getName()))
            .redirectError(ProcessBuilder.Redirect.INHERIT)
            .start();
    ProcessHandle child = null;
    try (var out =
        new BufferedReader(
            new InputStreamReader(parent.getInputStream(), StandardCharsets.UTF_8))) {
      child = ProcessHandle.of(Long.parseLong(out.readLine().trim())).orElseThrow();
      assertThat(child.isAlive()).isTrue();

      parent.destroy(); // SIGTERM, as Ctrl-C or a CI time-out sends
      assertThat(parent.waitFor(30, TimeUnit.SECONDS)).isTrue();

      ProcessHandle started = child;
      await().atMost(Duration.ofSeconds(10)).until(() -> !started.isAlive());
    } finally {
      parent.destroyForcibly();
      if (child != null) {
        child.destroyForcibly(); // only if the test failed
      }
    }
  }
}
