package dev.shepherd.engine.access;

import java.util.Locale;

/** What a grant lets a principal do with the jobs of its types (issue 17, ADR 40). */
public enum Operation {
  /** Submit jobs. */
  SUBMIT,
  /** Read jobs, list them, wait for them. */
  READ,
  /** Cancel jobs. */
  CANCEL,
  /** Put dead jobs back. */
  REDRIVE,
  /** Discard dead-job records. */
  DISCARD,
  /** Everything above, plus the installation's own views (workers, types, keys) and tokens. */
  ADMIN;

  /** The operation a configuration names: {@code submit}, {@code read}, ... */
  public static Operation named(String name) {
    try {
      return valueOf(name.trim().toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(
          "unknown operation '" + name + "': one of submit, read, cancel, redrive, discard, admin",
          e);
    }
  }

  /** The name configurations use. */
  public String configName() {
    return name().toLowerCase(Locale.ROOT);
  }
}
