package dev.shepherd.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The state diagram a newcomer reads first (docs/ARCHITECTURE.md) draws exactly the edges of {@link
 * Transitions#table()}: every (from-state, event, to-state) of the table is an arrow of the diagram
 * and every arrow is in the table. An arrow's label may list several events ({@code RUNNING -->
 * DEAD : FAIL_PERMANENT, ATTEMPTS_EXHAUSTED}); arrows from or to {@code [*]} are decoration.
 */
class ArchitectureDiagramTest {

  /** The module's directory (Surefire's basedir); the docs are two levels up. */
  private static final Path DOC =
      Path.of(System.getProperty("basedir", "."))
          .resolve("../../docs/ARCHITECTURE.md")
          .toAbsolutePath()
          .normalize();

  private static final Pattern ARROW =
      Pattern.compile(
          "^\\s*([A-Z_]+)\\s*-->\\s*([A-Z_]+)\\s*:\\s*([A-Z_]+(?:\\s*,\\s*[A-Z_]+)*)\\s*$");

  @Test
  void theStateDiagramDrawsExactlyTheTransitionTable() throws IOException {
    Set<String> drawn = edgesOf(stateDiagram());
    Set<String> table = new TreeSet<>();
    Transitions.table()
        .forEach(
            (from, row) ->
                row.forEach((event, to) -> table.add(edge(from.name(), event.name(), to.name()))));

    Set<String> missing = new TreeSet<>(table);
    missing.removeAll(drawn);
    Set<String> extra = new TreeSet<>(drawn);
    extra.removeAll(table);
    if (!missing.isEmpty() || !extra.isEmpty()) {
      fail(
          DOC
              + " and Transitions.table() disagree.\n  in the table, missing from the diagram: "
              + missing
              + "\n  in the diagram, not in the table: "
              + extra);
    }
    assertThat(drawn).hasSameSizeAs(table);
  }

  /** The lines of the one Mermaid block that holds a {@code stateDiagram-v2}. */
  private static List<String> stateDiagram() throws IOException {
    assertThat(DOC).as("the architecture page").isRegularFile();
    List<String> lines = Files.readAllLines(DOC);
    List<List<String>> diagrams = new ArrayList<>();
    List<String> block = null;
    for (String line : lines) {
      if (block == null && line.strip().equals("```mermaid")) {
        block = new ArrayList<>();
      } else if (block != null && line.strip().equals("```")) {
        if (block.stream().anyMatch(l -> l.strip().equals("stateDiagram-v2"))) {
          diagrams.add(block);
        }
        block = null;
      } else if (block != null) {
        block.add(line);
      }
    }
    assertThat(diagrams).as("mermaid stateDiagram-v2 blocks in " + DOC).hasSize(1);
    return diagrams.get(0);
  }

  /** Each arrow's edges; an arrow this test cannot read fails it rather than being skipped. */
  private static Set<String> edgesOf(List<String> diagram) {
    Set<String> edges = new TreeSet<>();
    List<String> unreadable = new ArrayList<>();
    for (String line : diagram) {
      if (!line.contains("-->") || line.contains("[*]")) {
        continue;
      }
      Matcher m = ARROW.matcher(line);
      if (!m.matches()) {
        unreadable.add(line.strip());
        continue;
      }
      for (String event : m.group(3).split(",")) {
        edges.add(edge(m.group(1), event.strip(), m.group(2)));
      }
    }
    assertThat(unreadable)
        .as("arrows that are not 'FROM --> TO : EVENT[, EVENT...]' in " + DOC)
        .isEmpty();
    return edges;
  }

  private static String edge(String from, String event, String to) {
    return from + " --" + event + "--> " + to;
  }
}
