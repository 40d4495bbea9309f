package dev.shepherd.distribution;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentSkipListMap;

/**
 * The distributors Shepherd knows, by name: each implementation registers once, a job type's
 * configuration looks one up, and {@link #validateAll} checks every type's configuration at
 * start-up.
 */
public final class Distributors {

  private final Map<String, Distributor> byName = new ConcurrentSkipListMap<>();

  public static Distributors of(Distributor... distributors) {
    var registry = new Distributors();
    for (Distributor d : distributors) {
      registry.register(d);
    }
    return registry;
  }

  /**
   * @throws IllegalStateException when another distributor already has this name: two
   *     implementations answering to one name would make a type's choice ambiguous
   */
  public void register(Distributor distributor) {
    String name = distributor.name();
    if (name == null || name.isBlank()) {
      throw new IllegalArgumentException(
          "a distributor needs a name: " + distributor.getClass().getName());
    }
    Distributor earlier = byName.putIfAbsent(name, distributor);
    if (earlier != null) {
      throw new IllegalStateException(
          "two distributors are named '"
              + name
              + "': "
              + earlier.getClass().getName()
              + " and "
              + distributor.getClass().getName());
    }
  }

  /** The names registered, sorted. */
  public SortedSet<String> names() {
    return Collections.unmodifiableSortedSet(new TreeSet<>(byName.keySet()));
  }

  /**
   * The distributor a configuration names.
   *
   * @throws IllegalArgumentException naming the unknown distributor and every known one
   */
  public Distributor forConfig(DistributorConfig config) {
    Distributor d = byName.get(config.distributor());
    if (d == null) {
      throw new IllegalArgumentException(unknown(config.distributor()));
    }
    return d;
  }

  /**
   * Checks every job type's distributor configuration and fails with all the problems found, each
   * naming its type: an unknown distributor, or what the distributor's own {@link
   * Distributor#validate} refuses.
   *
   * @param configs each job type's distributor configuration, by type
   * @throws InvalidDistributorConfigException listing every problem
   */
  public void validateAll(Map<String, DistributorConfig> configs) {
    var problems = new ArrayList<InvalidDistributorConfigException.Problem>();
    new TreeMap<>(configs)
        .forEach(
            (type, config) -> {
              Distributor d = config == null ? null : byName.get(config.distributor());
              if (config == null) {
                problems.add(
                    new InvalidDistributorConfigException.Problem(
                        type, "distributor", "is not set"));
              } else if (d == null) {
                problems.add(
                    new InvalidDistributorConfigException.Problem(
                        type, "distributor", unknown(config.distributor())));
              } else {
                try {
                  d.validate(type, config);
                } catch (InvalidDistributorConfigException e) {
                  problems.addAll(e.problems());
                }
              }
            });
    if (!problems.isEmpty()) {
      throw new InvalidDistributorConfigException(List.copyOf(problems));
    }
  }

  private String unknown(String name) {
    return "names no known distributor '"
        + name
        + "' (known: "
        + String.join(", ", byName.keySet())
        + ")";
  }
}
