package dev.shepherd.distribution;

import java.util.List;
import java.util.stream.Collectors;

/**
 * A job type's distributor configuration that Shepherd cannot start with. It lists every problem
 * found, each naming the job type, the setting and the rule, so one failed start-up shows all of
 * them instead of one per restart.
 */
public final class InvalidDistributorConfigException extends RuntimeException {

  /**
   * @param type the job type whose configuration is wrong
   * @param field the setting, as written in configuration ({@code distributor}, {@code endpoint})
   * @param rule what is wrong with it
   */
  public record Problem(String type, String field, String rule) {
    @Override
    public String toString() {
      return "job type '" + type + "': " + field + " " + rule;
    }
  }

  private final transient List<Problem> problems;

  public InvalidDistributorConfigException(List<Problem> problems) {
    super(message(problems));
    this.problems = List.copyOf(problems);
  }

  public InvalidDistributorConfigException(String type, String field, String rule) {
    this(List.of(new Problem(type, field, rule)));
  }

  public List<Problem> problems() {
    return problems;
  }

  private static String message(List<Problem> problems) {
    if (problems.isEmpty()) {
      throw new IllegalArgumentException("an invalid configuration names at least one problem");
    }
    return problems.size() == 1
        ? "invalid distributor configuration: " + problems.getFirst()
        : "invalid distributor configuration, "
            + problems.size()
            + " problems: "
            + problems.stream().map(Problem::toString).collect(Collectors.joining("; "));
  }
}
