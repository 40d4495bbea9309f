package dev.shepherd.model;

import com.fasterxml.jackson.annotation.JsonInclude;

/**
 * Where one attempt ran when a distributor ran it (ADR 44, 45): the backend, the task's token
 * there, and where a person looks at it.
 *
 * @param attempt the attempt's number
 * @param distributor the distributor that started the task ({@code http}, {@code kubernetes-job})
 * @param task the task's token on that backend
 * @param infoUrl where a person sees the task (its logs, the service's page); null for none
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record AttemptTask(int attempt, String distributor, String task, String infoUrl) {}
