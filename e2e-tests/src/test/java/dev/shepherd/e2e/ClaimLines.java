package dev.shepherd.e2e;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The claims the workers logged themselves ({@code AttemptExecution} at DEBUG: {@code claimed job
 * <id> (<type>) attempt <n> token <t>}), read from their logs rather than from Redis, since a
 * failover may have made Redis forget some of them.
 */
final class ClaimLines {

  /** The logger to set to DEBUG in the workers for these lines. */
  static final Map.Entry<String, String> DEBUG =
      Map.entry("logging.level.dev.shepherd.worker.AttemptExecution", "DEBUG");

  private static final Pattern CLAIM =
      Pattern.compile("claimed job (\\S+) \\(\\S+\\) attempt (\\d+) token (\\d+)");

  private final Map<String, Map<Long, List<String>>> byJobAndToken;

  private ClaimLines(Map<String, Map<Long, List<String>>> byJobAndToken) {
    this.byJobAndToken = byJobAndToken;
  }

  /** Every claim in the {@code worker*} logs of {@code logs}. */
  static ClaimLines read(Path logs) {
    Map<String, Map<Long, List<String>>> claims = new HashMap<>();
    try (Stream<Path> files = Files.list(logs)) {
      for (Path log : files.filter(p -> p.getFileName().toString().startsWith("worker")).toList()) {
        try (Stream<String> lines = Files.lines(log)) {
          lines.forEach(
              line -> {
                Matcher m = CLAIM.matcher(line);
                if (m.find()) {
                  claims
                      .computeIfAbsent(m.group(1), j -> new TreeMap<>())
                      .computeIfAbsent(Long.parseLong(m.group(3)), t -> new ArrayList<>())
                      .add(m.group(2) + "/" + log.getFileName());
                }
              });
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return new ClaimLines(claims);
  }

  /** The jobs claimed at least once. */
  java.util.Set<String> jobs() {
    return byJobAndToken.keySet();
  }

  /** How many distinct tokens were issued, over all jobs. */
  int tokens() {
    return byJobAndToken.values().stream().mapToInt(Map::size).sum();
  }

  /**
   * Each token given to two different claims of one job ({@code attempt/worker log}). The same
   * worker claiming the same attempt again gets the same token by design (a claim whose reply was
   * lost); anything else under one token is a token issued twice.
   */
  List<String> issuedTwice() {
    List<String> twice = new ArrayList<>();
    byJobAndToken.forEach(
        (job, byToken) ->
            byToken.forEach(
                (token, claimants) -> {
                  if (claimants.stream().distinct().count() > 1) {
                    twice.add(job + " token " + token + " claimed by " + claimants);
                  }
                }));
    return twice;
  }
}
