package dev.shepherd.model;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.Map;

/**
 * Where one attempt ran when a distributor ran it (ADR 44, 45): the backend, the task's token
 * there, and where a person looks at it.
 *
 * @param attempt the attempt's number
 * @param distributor the distributor that started the task ({@code http}, {@code kubernetes-job})
 * @param task the task's token on that backend
 * @param infoUrl where a person sees the task (its logs, the service's page); null for none
 * @param settings the distributor's settings the attempt started with: the configuration snapshot
 *     it runs under for its whole life (ADR 44, 45); null when not shown (a reader who is not an
 *     admin) or none were given
 */
@JsonInclude(JsonInclude.Include.NON_EMPTY)
public record AttemptTask(
    int attempt, String distributor, String task, String infoUrl, Map<String, String> settings) {

  public AttemptTask {
    settings = settings == null || settings.isEmpty() ? null : Map.copyOf(settings);
  }

  /** A task recorded without its settings. */
  public AttemptTask(int attempt, String distributor, String task, String infoUrl) {
    this(attempt, distributor, task, infoUrl, null);
  }
}
