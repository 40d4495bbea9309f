package dev.shepherd.testsupport;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Ports for processes started together: free, below the ephemeral range, never twice, not even to
 * two JVMs (make test's lanes start private brokers and Redis servers at the same time).
 */
class FreePortTest {

  /** The ports this test was given, and the other JVM's: their claims go when the test ends. */
  private final Set<Integer> claimed = new HashSet<>();

  @AfterEach
  void releaseClaims() throws Exception {
    for (int port : claimed) {
      Files.deleteIfExists(ManagedProcess.CLAIMS.resolve(Integer.toString(port)));
    }
  }

  /** 500 picked at random out of 12,000 would repeat one almost surely (about 10 pairs). */
  @Test
  void noPortIsHandedOutTwiceThoughNothingBoundIt() {
    for (int i = 0; i < 500; i++) {
      int port = ManagedProcess.freePort();
      assertThat(port).isBetween(20_000, 32_767);
      assertThat(claimed.add(port)).as("port %d handed out again", port).isTrue();
    }
  }

  /**
   * Another JVM asking meanwhile gets other ports: with 300 each out of 12,000, two JVMs that
   * picked at random would share about 7.
   */
  @Test
  void anotherJvmGetsNoneOfThePortsThisOneWasGiven() throws Exception {
    Set<Integer> mine = new HashSet<>();
    for (int i = 0; i < 300; i++) {
      mine.add(ManagedProcess.freePort());
    }
    claimed.addAll(mine);

    Process other =
        new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp",
                System.getProperty("java.class.path"),
                Ports.class.getName(),
                "300")
            .redirectErrorStream(true)
            .start();
    String printed = new String(other.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(other.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(other.exitValue()).as(printed).isZero();
    List<Integer> theirs =
        printed.lines().filter(l -> l.matches("\\d+")).map(Integer::valueOf).toList();
    claimed.addAll(theirs);

    assertThat(theirs).as(printed).hasSize(300).doesNotHaveDuplicates();
    Set<Integer> shared = theirs.stream().filter(mine::contains).collect(Collectors.toSet());
    assertThat(shared).as("ports given to both JVMs").isEmpty();
  }

  /**
   * A claim keeps its port from everyone for {@link ManagedProcess#CLAIMED_FOR}, then whoever asks
   * first takes it over.
   */
  @Test
  void aClaimHoldsItsPortUntilItIsStaleThenOneTakesItOver() throws Exception {
    int port = 32_767; // freePort hands out 20,000 to 31,999 only
    Path claim = ManagedProcess.CLAIMS.resolve(Integer.toString(port));
    Files.deleteIfExists(claim);

    assertThat(ManagedProcess.claim(port)).as("a port nobody claimed").isTrue();
    assertThat(ManagedProcess.claim(port)).as("claimed a moment ago").isFalse();

    Files.setLastModifiedTime(
        claim,
        java.nio.file.attribute.FileTime.fromMillis(
            System.currentTimeMillis() - ManagedProcess.CLAIMED_FOR.toMillis() - 1_000));
    assertThat(ManagedProcess.claim(port)).as("a stale claim is taken over").isTrue();
    assertThat(ManagedProcess.claim(port)).as("and held again").isFalse();
    Files.delete(claim);
  }

  /** The other JVM: prints as many ports as its argument asks for, one per line. */
  static final class Ports {
    public static void main(String[] args) {
      for (int i = 0; i < Integer.parseInt(args[0]); i++) {
        System.out.println(ManagedProcess.freePort());
      }
    }
  }
}
