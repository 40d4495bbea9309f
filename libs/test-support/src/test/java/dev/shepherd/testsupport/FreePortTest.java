package dev.shepherd.testsupport;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Ports for processes started together: free, below the ephemeral range, never twice. */
class FreePortTest {

  @Test
  void noPortIsHandedOutTwiceThoughNothingBoundIt() {
    Set<Integer> ports = new HashSet<>();
    for (int i = 0; i < 2_000; i++) {
      int port = ManagedProcess.freePort();
      assertThat(port).isBetween(20_000, 32_767);
      assertThat(ports.add(port)).as("port %d handed out again", port).isTrue();
    }
  }
}
