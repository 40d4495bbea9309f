package dev.shepherd.e2e.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.Test;

class ThreadCpuTest {

  @Test
  void readsTheNameAndUserPlusSystemTicksOfAThreadsStatLine() {
    // fields 14 and 15 (utime, stime) are 250 and 50 ticks: 3 s
    var t =
        ThreadCpu.parse(
            "4242 (C2 CompilerThre) S 4200 4200 4200 0 -1 4194368 100 0 0 0 250 50 0 0 20 0 30 0"
                + " 1000 0 0");

    assertThat(t.name()).isEqualTo("C2 CompilerThre");
    assertThat(t.cpuSeconds()).isEqualTo(3.0);
  }

  @Test
  void aNameWithSpacesAndParenthesesEndsAtTheLastParenthesis() {
    var t = ThreadCpu.parse("7 (a (b) c) R 1 1 1 0 -1 0 0 0 0 0 7 3 0 0 20 0 1 0 1 0 0");

    assertThat(t.name()).isEqualTo("a (b) c");
    assertThat(t.cpuSeconds()).isEqualTo(0.1);
  }

  @Test
  void compilerThreadsAreJitAndTheCollectorsThreadsAndTheVmThreadAreGc() {
    assertThat(ThreadCpu.kind("C1 CompilerThre")).isEqualTo(ThreadCpu.JIT);
    assertThat(ThreadCpu.kind("C2 CompilerThre")).isEqualTo(ThreadCpu.JIT);
    assertThat(ThreadCpu.kind("VM Thread")).isEqualTo(ThreadCpu.GC);
    assertThat(ThreadCpu.kind("GC Thread#0")).isEqualTo(ThreadCpu.GC);
    assertThat(ThreadCpu.kind("G1 Refine#0")).isEqualTo(ThreadCpu.GC);
    assertThat(ThreadCpu.kind("shepherd-dispat")).isEqualTo(ThreadCpu.OTHER);
  }

  @Test
  void betweenTwoSnapshotsEachThreadCountsItsGrowthAndANewThreadFromZero() {
    var before =
        Map.of(
            1L, new ThreadCpu.ThreadTime("C2 CompilerThre", 5.0),
            2L, new ThreadCpu.ThreadTime("VM Thread", 1.0),
            3L, new ThreadCpu.ThreadTime("C1 CompilerThre", 2.0)); // ends in between
    var after =
        Map.of(
            1L, new ThreadCpu.ThreadTime("C2 CompilerThre", 5.5),
            2L, new ThreadCpu.ThreadTime("VM Thread", 1.25),
            4L, new ThreadCpu.ThreadTime("shepherd-slot-1", 0.75));

    assertThat(ThreadCpu.between(before, after))
        .containsExactly(
            Map.entry(ThreadCpu.JIT, 0.5),
            Map.entry(ThreadCpu.GC, 0.25),
            Map.entry(ThreadCpu.OTHER, 0.75));
  }

  @Test
  void readsThisJvmsOwnThreads() {
    var threads = ThreadCpu.snapshot(ProcessHandle.current().pid());

    assertThat(threads).isNotEmpty();
    assertThat(threads.values()).allSatisfy(t -> assertThat(t.cpuSeconds()).isNotNegative());
  }
}
