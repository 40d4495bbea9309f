package dev.shepherd.e2e;

import dev.shepherd.testsupport.ManagedProcess;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.jar.Attributes;
import java.util.jar.JarFile;
import java.util.stream.Stream;

/**
 * Starts the tests' service JVMs about three times faster than {@code java -jar} on the fat jar, as
 * Spring Boot's own advice for production goes: from the jar extracted once ({@code java
 * -Djarmode=tools -jar ... extract}: plain jars on the class path, no nested-jar class loader) with
 * a class-data sharing archive of the classes a start loads. The first process of each service
 * writes the archive when it exits ({@code -XX:ArchiveClassesAtExit}); the ones started after that
 * map it ({@code -XX:SharedArchiveFile}); while the first still runs, the others start without one,
 * so no JVM reads an archive being written. A JVM that cannot use an archive (another JDK, a
 * rebuilt jar) warns and starts without it. On a 2-core machine one scheduler started in 4.2 s from
 * the fat jar, 2.9 s extracted and 1.5 s with the archive.
 *
 * <p>A JVM with a directory in front of its class path (a test serving a mutated resource) starts
 * from the extracted jar too, as {@code java -cp <dir>:<jar> <Main-Class>} (the jar's manifest
 * names its main class and, in {@code Class-Path}, its libraries), but without an archive: the JVM
 * maps one only on the class path it was dumped with, and logs an error and a warning when it
 * cannot ("shared class paths mismatch"), and it refuses to dump one with a non-empty directory on
 * the class path ("Cannot have non-empty directory in paths").
 *
 * <p>The full benchmarks and the soaks start from the fat jars as shipped: they measure start-up
 * and memory; {@code make bench-quick} (and {@code BenchQuickIT}) starts the fast way.
 */
final class FastStart {

  /** The extracted jar to start, its main class, and the JVM options that go with it. */
  record Launch(Path jar, String mainClass, List<String> jvmArgs, boolean writesArchive) {}

  private static final Map<String, ManagedProcess> writers = new HashMap<>();

  private FastStart() {}

  /**
   * How to start {@code module} from {@code fatJar}: extracts it first when the fat jar is newer
   * than the extracted copy (dropping the archive made from the old one).
   */
  static synchronized Launch prepare(String module, Path fatJar) {
    Path dir = directory(module, fatJar);
    Path jar = extracted(module, fatJar);
    String mainClass = mainClass(jar);
    Path archive = dir.resolve(module + ".jsa");
    ManagedProcess writer = writers.get(module);
    if (writer != null && writer.isAlive()) {
      // the archive is being made: start without it
      return new Launch(jar, mainClass, List.of(), false);
    }
    if (Files.isRegularFile(archive)) {
      return new Launch(jar, mainClass, List.of("-XX:SharedArchiveFile=" + archive), false);
    }
    return new Launch(jar, mainClass, List.of("-XX:ArchiveClassesAtExit=" + archive), true);
  }

  /**
   * How to start {@code module} from {@code fatJar} with a directory in front of its class path:
   * from the extracted jar, without an archive (see the class comment).
   */
  static synchronized Launch prepareWithoutArchive(String module, Path fatJar) {
    Path jar = extracted(module, fatJar);
    return new Launch(jar, mainClass(jar), List.of(), false);
  }

  /** Notes the process that writes {@code module}'s archive when it exits. */
  static synchronized void writing(String module, ManagedProcess process) {
    writers.put(module, process);
  }

  /**
   * Where {@code module}'s jar is extracted and its archive kept: a folder of its own beside the
   * fat jar, which shares its folder with the other services' jars when the tests start copies of
   * them (ADR 58), and is extracted again, its old folder deleted, when the fat jar is newer.
   */
  private static Path directory(String module, Path fatJar) {
    return fatJar.resolveSibling("fast-start").resolve(module);
  }

  /** The extracted jar, extracted again when the fat jar is newer (its old archive dropped). */
  private static Path extracted(String module, Path fatJar) {
    Path dir = directory(module, fatJar);
    Path jar = dir.resolve(fatJar.getFileName());
    try {
      if (!Files.isRegularFile(jar)
          || Files.getLastModifiedTime(jar).compareTo(Files.getLastModifiedTime(fatJar)) < 0) {
        writers.remove(module);
        deleteTree(dir);
        extract(fatJar, dir);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot extract " + fatJar, e);
    }
    return jar;
  }

  /** The extracted jar's {@code Main-Class}: the application's own, not Spring Boot's launcher. */
  private static String mainClass(Path jar) {
    try (var file = new JarFile(jar.toFile())) {
      String main = file.getManifest().getMainAttributes().getValue(Attributes.Name.MAIN_CLASS);
      if (main == null) {
        throw new IllegalStateException(jar + " names no Main-Class");
      }
      return main;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the manifest of " + jar, e);
    }
  }

  private static void extract(Path fatJar, Path dir) throws IOException {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.addAll(List.of("-Djarmode=tools", "-jar", fatJar.toString(), "extract"));
    command.addAll(List.of("--destination", dir.toString()));
    Process extract = new ProcessBuilder(command).redirectErrorStream(true).start();
    String output = new String(extract.getInputStream().readAllBytes());
    try {
      if (!extract.waitFor(2, TimeUnit.MINUTES) || extract.exitValue() != 0) {
        throw new IOException("extracting " + fatJar + " failed: " + output);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted extracting " + fatJar, e);
    }
  }

  private static void deleteTree(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(dir)) {
      for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }
}
