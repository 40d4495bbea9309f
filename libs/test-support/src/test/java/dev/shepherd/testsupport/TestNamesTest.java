package dev.shepherd.testsupport;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

class TestNamesTest {

  @Test
  void namesAreShortLowercaseAndUnique() {
    Set<String> seen = new HashSet<>();
    for (int i = 0; i < 1000; i++) {
      String prefix = new TestNames().prefix();
      assertThat(prefix).matches("t[0-9a-z]{8}");
      assertThat(seen.add(prefix)).isTrue();
    }
    var names = new TestNames();
    assertThat(names.unique("queue")).isEqualTo(names.prefix() + "-queue");
  }
}
