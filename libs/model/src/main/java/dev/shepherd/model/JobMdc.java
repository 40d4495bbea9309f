package dev.shepherd.model;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The log context (SLF4J MDC) of one attempt of a job, the same in every service: {@code jobId},
 * {@code attempt}, {@code workerId} and, where known, {@code fencingToken}; the trace id goes under
 * {@link #TRACE_ID}. Each caller puts the entries in the MDC itself (this module has no logging
 * dependency).
 *
 * <pre>{@code
 * Map<String, String> mdc = JobMdc.of(jobId, attempt, workerId, fencingToken);
 * mdc.forEach(MDC::put);
 * try { ... } finally { mdc.keySet().forEach(MDC::remove); }
 * }</pre>
 */
public final class JobMdc {

  /** The key of the job's id. */
  public static final String JOB_ID = "jobId";

  /** The key of the attempt's number. */
  public static final String ATTEMPT = "attempt";

  /** The key of the worker that holds (or held) the attempt. */
  public static final String WORKER_ID = "workerId";

  /** The key of the attempt's fencing token. */
  public static final String FENCING_TOKEN = "fencingToken";

  /** The key of the W3C trace id the job's messages carry. */
  public static final String TRACE_ID = "traceId";

  private JobMdc() {}

  /**
   * The entries of one attempt, in a mutable map the caller may add to.
   *
   * @param workerId written as {@code "null"} when the attempt has no worker (yet)
   * @param fencingToken left out when null (a caller that does not know it)
   */
  public static Map<String, String> of(
      String jobId, int attempt, String workerId, Long fencingToken) {
    Map<String, String> mdc = new LinkedHashMap<>();
    mdc.put(JOB_ID, jobId);
    mdc.put(ATTEMPT, Integer.toString(attempt));
    mdc.put(WORKER_ID, String.valueOf(workerId));
    if (fencingToken != null) {
      mdc.put(FENCING_TOKEN, Long.toString(fencingToken));
    }
    return mdc;
  }
}
