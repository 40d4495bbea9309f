package dev.shepherd.distribution;

import dev.shepherd.model.Json;
import dev.shepherd.model.StatusEvent;
import java.net.URI;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Attempts and a scriptable distributor for the distribution tests. */
public final class Fixtures {

  private Fixtures() {}

  public static AttemptRequest attempt(DistributorConfig config) {
    return new AttemptRequest(
        "07-3f2a9c0d4e5f60718293a4b5c6d7e8f9",
        "report.render",
        2,
        1_796_170_800_000_017L,
        Json.mapper().readTree("{\"report\":\"weekly\"}"),
        config,
        Instant.parse("2026-12-01T10:00:00Z"));
  }

  /** A distributor that checks one required setting, {@code queue}; the rest answers trivially. */
  public static Distributor named(String name) {
    return new Distributor() {
      @Override
      public String name() {
        return name;
      }

      @Override
      public void validate(String type, DistributorConfig config) {
        if (config.setting("queue") == null) {
          throw new InvalidDistributorConfigException(type, "queue", "is required");
        }
      }

      @Override
      public Started run(AttemptRequest attempt) {
        return Started.withoutLimits(new TaskToken(attempt.jobId()));
      }

      @Override
      public void cancel(AttemptRequest attempt, TaskToken token) {}

      @Override
      public TaskStatus status(AttemptRequest attempt, TaskToken token) {
        return new TaskStatus.Running();
      }

      @Override
      public Optional<URI> infoUrl(AttemptRequest attempt, TaskToken token) {
        return Optional.empty();
      }

      @Override
      public List<StatusEvent> handleNotification(
          AttemptRequest attempt, TaskToken token, Notification notification) {
        return List.of();
      }
    };
  }

  public static DistributorConfig config(String distributor, Map<String, String> settings) {
    return new DistributorConfig(distributor, settings);
  }
}
