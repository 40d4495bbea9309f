package dev.shepherd.e2e.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/** What the bench ran on: cores, memory, CPU, JVM, broker and Redis versions. */
public final class Machine {

  private Machine() {}

  public static Map<String, Object> describe() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("cores", Runtime.getRuntime().availableProcessors());
    m.put("memoryGiB", Math.round(memoryKib() / 1024.0 / 1024.0));
    m.put("cpu", cpuModel());
    m.put("os", System.getProperty("os.name") + " " + System.getProperty("os.version"));
    m.put("java", System.getProperty("java.vm.name") + " " + System.getProperty("java.version"));
    m.put("rabbitmq", Bench.command("rabbitmqctl", "version"));
    m.put("redis", Bench.command("redis-server", "--version"));
    m.put("sharedWith", "broker, Redis, the four services and the workers all run on this machine");
    return m;
  }

  private static long memoryKib() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
        if (line.startsWith("MemTotal:")) {
          return Long.parseLong(line.replaceAll("[^0-9]", ""));
        }
      }
    } catch (Exception e) {
      return 0;
    }
    return 0;
  }

  private static String cpuModel() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
        if (line.startsWith("model name")) {
          return line.substring(line.indexOf(':') + 1).trim();
        }
      }
    } catch (Exception e) {
      return "unknown";
    }
    return "unknown";
  }
}
