package dev.shepherd.e2e.bench;

import com.sun.tools.attach.VirtualMachine;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;

/**
 * async-profiler driven from the bench's JVM through the Attach API: loaded into a running service
 * at the start of a window and stopped at its end, so the services start as they always do (no
 * agent on their command line). The native library ships in the {@code
 * tools.profiler:async-profiler:linux-x64} jar and is extracted once per run.
 */
final class Profiler {

  /** Sampling interval of CPU profiles, and of allocation profiles (bytes between samples). */
  static final String CPU_INTERVAL = "1ms";

  static final String ALLOC_INTERVAL = "512k";

  /**
   * CPU engines in the order they are tried: perf_events (with kernel frames), then the timers that
   * need no perf_events (where {@code perf_event_paranoid} or a seccomp filter forbid them).
   */
  static final List<String> CPU_EVENTS = List.of("cpu", "ctimer", "itimer");

  /** Frames narrower than this share of the total (percent) are left out of the flame graphs. */
  static final String FLAME_MIN_WIDTH = "0.25";

  private final Path library;

  private Profiler(Path library) {
    this.library = library;
  }

  /** Extracts the library into {@code dir}; fails where the platform has none (not linux-x64). */
  static Profiler extract(Path dir) throws IOException {
    String resource = "linux-x64/libasyncProfiler.so";
    try (InputStream in = Profiler.class.getClassLoader().getResourceAsStream(resource)) {
      if (in == null) {
        throw new IOException("no " + resource + " on the classpath");
      }
      Files.createDirectories(dir);
      Path so = dir.resolve("libasyncProfiler.so");
      Files.copy(in, so, StandardCopyOption.REPLACE_EXISTING);
      return new Profiler(so.toAbsolutePath());
    }
  }

  /**
   * Loads the library into {@code pid} without profiling: the first attach to a JVM starts its
   * attach listener and the library's first load parses the JVM's symbols, which together take a
   * second or more on a busy machine. Done before a run, so that {@link #start} at the window's
   * opening costs milliseconds (a quick run's window lasts about two seconds).
   */
  void load(long pid) throws Exception {
    command(pid, "status,file=/dev/null");
  }

  /**
   * Starts profiling {@code pid}: allocations for {@code alloc}, else CPU with the first engine of
   * {@link #CPU_EVENTS} the kernel allows. Returns the event that runs.
   */
  String start(long pid, String kind) throws Exception {
    if (kind.equals("alloc")) {
      command(pid, "start,event=alloc,alloc=" + ALLOC_INTERVAL);
      return "alloc";
    }
    Exception last = null;
    for (String event : CPU_EVENTS) {
      try {
        command(pid, "start,event=" + event + ",interval=" + CPU_INTERVAL);
        return event;
      } catch (Exception e) {
        last = e;
      }
    }
    throw last;
  }

  /**
   * Writes the profile so far as collapsed stacks and stops it, writing the flame graph. Both files
   * are written by the profiled process itself.
   */
  void stop(long pid, Path collapsed, Path flameGraph, String title, boolean bytes)
      throws Exception {
    String total = bytes ? ",total" : "";
    command(pid, "dump,collapsed" + total + ",file=" + collapsed.toAbsolutePath());
    command(
        pid,
        "stop,flamegraph"
            + total
            + ",minwidth="
            + FLAME_MIN_WIDTH
            + ",title="
            + title.replace(',', ' ')
            + ",file="
            + flameGraph.toAbsolutePath());
  }

  private void command(long pid, String arguments) throws Exception {
    VirtualMachine vm = VirtualMachine.attach(Long.toString(pid));
    try {
      vm.loadAgentPath(library.toString(), arguments);
    } finally {
      vm.detach();
    }
  }
}
