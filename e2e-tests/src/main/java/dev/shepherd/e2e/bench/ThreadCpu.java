package dev.shepherd.e2e.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * A JVM's CPU time by kind of thread, read from {@code /proc/<pid>/task/<tid>/stat}: the JIT
 * compilers, the garbage collector and everything else. It does not depend on the profiler, so JIT
 * and GC are measured even where no profile could be taken.
 */
final class ThreadCpu {

  /** The kinds of thread, in the order they are reported. */
  static final String JIT = "jit";

  static final String GC = "gc";
  static final String OTHER = "other";

  /** Clock ticks per second of {@code utime} and {@code stime}: USER_HZ, 100 on Linux. */
  static final double TICKS_PER_SECOND = 100;

  private ThreadCpu() {}

  /** One thread's name (as the kernel keeps it, 15 characters at most) and CPU seconds. */
  record ThreadTime(String name, double cpuSeconds) {}

  /**
   * Parses one {@code stat} line: {@code tid (comm) state ppid ...}, utime and stime being fields
   * 14 and 15. The name can hold spaces and parentheses, so it ends at the last ')'.
   */
  static ThreadTime parse(String stat) {
    int open = stat.indexOf('(');
    int close = stat.lastIndexOf(')');
    String name = stat.substring(open + 1, close);
    String[] fields = stat.substring(close + 2).trim().split("\\s+");
    // fields[0] is field 3 (state), so utime (14) and stime (15) are fields[11] and fields[12]
    double ticks = Long.parseLong(fields[11]) + Long.parseLong(fields[12]);
    return new ThreadTime(name, ticks / TICKS_PER_SECOND);
  }

  /**
   * The kind of a HotSpot thread by its name: {@code C2 CompilerThre}, {@code C1 CompilerThre} are
   * the JIT; {@code GC Thread#0}, {@code G1 ...}, {@code ZWorker}, ... and the {@code VM Thread}
   * (which runs the serial collector's collections, besides other safepoint work) are the GC.
   */
  static String kind(String threadName) {
    if (threadName.startsWith("C1 CompilerThre")
        || threadName.startsWith("C2 CompilerThre")
        || threadName.startsWith("JVMCI")) {
      return JIT;
    }
    if (threadName.equals("VM Thread")
        || threadName.startsWith("GC Thread")
        || threadName.startsWith("G1 ")
        || threadName.startsWith("GC ")
        || threadName.startsWith("ZWorker")
        || threadName.startsWith("ZDriver")
        || threadName.startsWith("Shenandoah")) {
      return GC;
    }
    return OTHER;
  }

  /** CPU seconds by kind, summed over the given threads; every kind present. */
  static Map<String, Double> byKind(Collection<ThreadTime> threads) {
    Map<String, Double> m = new LinkedHashMap<>();
    m.put(JIT, 0.0);
    m.put(GC, 0.0);
    m.put(OTHER, 0.0);
    threads.forEach(t -> m.merge(kind(t.name()), t.cpuSeconds(), Double::sum));
    return m;
  }

  /**
   * CPU seconds by kind used between two snapshots of one process: each thread's growth, a thread
   * started in between counting from zero. A thread that ended in between (the JVM stops idle
   * compiler threads) is missing from the second snapshot and counts nothing.
   */
  static Map<String, Double> between(Map<Long, ThreadTime> before, Map<Long, ThreadTime> after) {
    List<ThreadTime> grown = new ArrayList<>();
    after.forEach(
        (tid, t) -> {
          ThreadTime b = before.get(tid);
          double used = t.cpuSeconds() - (b == null ? 0 : b.cpuSeconds());
          grown.add(new ThreadTime(t.name(), Math.max(0, used)));
        });
    return byKind(grown);
  }

  /** A live process's threads by id, with their CPU seconds so far; empty once it is gone. */
  static Map<Long, ThreadTime> snapshot(long pid) {
    Path tasks = Path.of("/proc", Long.toString(pid), "task");
    Map<Long, ThreadTime> m = new HashMap<>();
    try (Stream<Path> dirs = Files.list(tasks)) {
      dirs.forEach(
          task -> {
            ThreadTime t = read(task);
            if (t != null) {
              m.put(Long.parseLong(task.getFileName().toString()), t);
            }
          });
    } catch (IOException | RuntimeException e) {
      return Map.of();
    }
    return m;
  }

  private static ThreadTime read(Path task) {
    try {
      return parse(Files.readString(task.resolve("stat")));
    } catch (IOException | RuntimeException e) {
      return null; // the thread ended between the listing and the read
    }
  }
}
