package dev.shepherd.model;

import com.fasterxml.jackson.annotation.JsonInclude;

/**
 * A producer's request to cancel a job, published to the control exchange with routing key {@code
 * cancel} (the AMQP twin of {@code POST /api/v1/jobs/{id}/cancel}). A null {@code by} or {@code
 * reason} is left out of the JSON rather than written as null (contract: cancel-request).
 *
 * @param jobId the job to cancel
 * @param by who cancels (kept on the job); "anonymous" when absent or blank
 * @param reason why, kept on the job's history; may be null
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record CancelRequest(String jobId, String by, String reason) {}
