package dev.shepherd.scheduler;

import dev.shepherd.engine.access.AccessPolicy;
import dev.shepherd.engine.access.Caller;
import dev.shepherd.engine.access.Operation;
import dev.shepherd.engine.access.PolicySource;
import dev.shepherd.engine.access.RateLimiter;
import dev.shepherd.model.AttemptTask;
import dev.shepherd.model.JobView;
import dev.shepherd.model.TransitionRecord;
import dev.shepherd.store.JobQueries;
import java.time.Duration;
import java.util.Optional;
import org.springframework.security.core.context.SecurityContextHolder;
import org.springframework.stereotype.Component;

/**
 * The access policy as the controllers apply it (ADR 40): who calls, whether it may, which jobs it
 * sees. Another tenant's job is not there for a caller (404, never 403: API1); a job of its tenant
 * whose type it has no grant for is forbidden (403).
 */
@Component
class Access {

  /** A call the policy does not allow: 403. */
  static final class Denied extends RuntimeException {
    Denied(String message) {
      super(message, null, false, false);
    }
  }

  /** A caller over its submission rate: 429 with {@code Retry-After}. */
  static final class Throttled extends RuntimeException {
    final Duration retryAfter;

    Throttled(Duration retryAfter) {
      super(
          "too many submissions: try again in " + retryAfter.toMillis() + " ms",
          null,
          false,
          false);
      this.retryAfter = retryAfter;
    }
  }

  private final boolean enabled;
  private final PolicySource policy;
  private final RateLimiter submitRate;
  private final JobQueries queries;

  Access(
      AccessProperties properties,
      PolicySource policy,
      RateLimiter submitRate,
      JobQueries queries) {
    this.enabled = properties.enabled();
    this.policy = policy;
    this.submitRate = submitRate;
    this.queries = queries;
  }

  /** The caller of this request; {@link Caller#UNCHECKED} when access control is off. */
  Caller caller() {
    if (!enabled) {
      return Caller.UNCHECKED;
    }
    var authentication = SecurityContextHolder.getContext().getAuthentication();
    if (authentication instanceof CallerAuthentication a) {
      return a.caller();
    }
    if (authentication != null && authentication.getPrincipal() instanceof Caller c) {
      return c;
    }
    // the filter chain lets no unauthenticated call reach an /api endpoint
    throw new IllegalStateException("no authenticated caller for an /api call");
  }

  AccessPolicy policy() {
    return policy.current().policy();
  }

  /**
   * Who acts, as recorded on a cancel, redrive or discard: the authenticated principal; with access
   * control off, the {@code X-Shepherd-Actor} header or {@code by} parameter as before.
   */
  String actor(String header, String by) {
    return enabled ? caller().name() : Actors.who(header, by);
  }

  /** Throws {@link Denied} unless the caller may do {@code operation} on jobs of {@code type}. */
  void require(Operation operation, String type) {
    Caller caller = caller();
    if (!policy().allows(caller, operation, type)) {
      throw new Denied(
          caller.name() + " may not " + operation.configName() + " jobs of type '" + type + "'");
    }
  }

  /** Throws {@link Denied} unless the caller may do {@code operation} on some type. */
  void requireSome(Operation operation) {
    Caller caller = caller();
    if (!policy().allowsSomeType(caller, operation)) {
      throw new Denied(caller.name() + " may not " + operation.configName() + " any jobs");
    }
  }

  /** Throws {@link Denied} unless the caller is an administrator (admin on every type). */
  void requireAdmin(String what) {
    Caller caller = caller();
    if (!policy().isAdmin(caller)) {
      throw new Denied(caller.name() + " may not " + what + ": it takes admin on every type");
    }
  }

  /**
   * Throws {@link Denied} unless the caller acts for the whole installation (tenant {@code *}): a
   * call that reaches across the tenants' jobs.
   */
  void requireAllTenants(String what) {
    Caller caller = caller();
    if (!Caller.ALL_TENANTS.equals(caller.tenant()) && caller != Caller.UNCHECKED) {
      throw new Denied(
          caller.name() + " may not " + what + ": it reaches every tenant's jobs (tenant *)");
    }
  }

  /**
   * Whether the job exists for the caller, and it may do {@code operation} on it: empty for a job
   * that does not exist or is another tenant's (404); {@link Denied} for one of its tenant it has
   * no grant for.
   */
  boolean reaches(String jobId, Operation operation) {
    Optional<JobQueries.Owner> owner = queries.owner(jobId);
    if (owner.isEmpty() || !caller().sees(owner.get().tenant())) {
      return false;
    }
    require(operation, owner.get().type());
    return true;
  }

  /** The job as the caller may read it: another tenant's is empty; tokens for admins only. */
  Optional<JobView> readable(Optional<JobView> job) {
    if (job.isEmpty() || !caller().sees(job.get().tenant())) {
      return Optional.empty();
    }
    require(Operation.READ, job.get().type());
    return policy().isAdmin(caller()) ? job : job.map(Access::withoutTokens);
  }

  /** Whether the caller sees a job of this type and tenant in a list. */
  boolean lists(String type, String tenant) {
    Caller caller = caller();
    return caller.sees(tenant) && policy().allows(caller, Operation.READ, type);
  }

  /** Takes one submission of the caller's rate; {@link Throttled} when it is over. */
  void countSubmission() {
    Duration wait = submitRate.acquire(caller().name());
    if (wait != null) {
      throw new Throttled(wait);
    }
  }

  /**
   * A job's view with its fencing tokens, and its tasks' tokens, left out (the view of a reader who
   * is not an admin).
   */
  static JobView withoutTokens(JobView j) {
    return new JobView(
        j.id(),
        j.type(),
        j.pool(),
        j.state(),
        j.attempt(),
        j.maxAttempts(),
        j.payload(),
        j.idempotencyKey(),
        j.orderingKey(),
        j.concurrencyKey(),
        j.transactionId(),
        j.submittedAt(),
        j.notBefore(),
        j.finishedAt(),
        j.workerId(),
        j.progressPercent(),
        j.progressMessage(),
        j.lastError(),
        j.cancelledBy(),
        j.cancelledAt(),
        j.traceId(),
        j.phases(),
        j.history().stream()
            .map(
                h ->
                    new TransitionRecord(
                        h.at(),
                        h.from(),
                        h.to(),
                        h.event(),
                        h.attempt(),
                        h.reason(),
                        null,
                        h.workerId()))
            .toList(),
        j.tenant(),
        // a task's token may hold the attempt's fencing token (http's does), and its settings may
        // name internal endpoints: both left out too
        j.tasks() == null
            ? null
            : j.tasks().stream()
                .map(t -> new AttemptTask(t.attempt(), t.distributor(), null, t.infoUrl()))
                .toList());
  }
}
