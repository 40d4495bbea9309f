package dev.shepherd.engine.access;

import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * {@link Callers#refusal} as the dispatcher asks it, once per job: remembered per submitter, type
 * and pool for as long as the policy stays the same snapshot, so a dispatch reads no JSON and walks
 * no grants for the thousands of jobs one key submits. A new policy (a reloaded file) starts
 * afresh; so does a memory that grew past {@link #MAX_REMEMBERED} answers.
 */
public final class DispatchRefusals {

  /** The most answers kept before they are dropped and asked again. */
  static final int MAX_REMEMBERED = 10_000;

  private record Question(String identity, String type, String pool) {}

  private final Supplier<PolicySource.Snapshot> policy;
  private final ConcurrentHashMap<Question, Optional<String>> answers = new ConcurrentHashMap<>();
  private volatile PolicySource.Snapshot answeredFor;

  public DispatchRefusals(Supplier<PolicySource.Snapshot> policy) {
    this.policy = policy;
  }

  /** Why this job may not be handed out to {@code pool} now, or null when it may. */
  public String refusal(String identity, String type, String pool) {
    PolicySource.Snapshot now = policy.get();
    if (now != answeredFor || answers.size() >= MAX_REMEMBERED) {
      synchronized (this) {
        if (now != answeredFor || answers.size() >= MAX_REMEMBERED) {
          answers.clear();
          answeredFor = now;
        }
      }
    }
    return answers
        .computeIfAbsent(
            new Question(identity, type, pool),
            q -> Optional.ofNullable(Callers.refusal(identity, type, pool, now)))
        .orElse(null);
  }
}
