package dev.shepherd.e2e;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The JVM options the image ships ({@code deploy/jvm.options}, a java launcher argument file), so
 * that benchmarks and end-to-end tests run the services as they run in production.
 */
public final class JvmOptions {

  private JvmOptions() {}

  /** The shipped options, then {@code extra} (a later option wins, e.g. a smaller -Xmx). */
  public static List<String> deployment(String... extra) {
    return deployment(Cluster.repositoryRoot(), extra);
  }

  static List<String> deployment(Path root, String... extra) {
    Path file = root.resolve("deploy/jvm.options");
    List<String> options = new ArrayList<>();
    try {
      for (String line : Files.readAllLines(file)) {
        String option = line.replaceFirst("#.*", "").strip();
        if (!option.isEmpty()) {
          options.add(option);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the shipped JVM options " + file, e);
    }
    options.addAll(List.of(extra));
    return List.copyOf(options);
  }
}
