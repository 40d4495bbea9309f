package dev.shepherd.engine.intake;

import dev.shepherd.contracts.Contracts;
import dev.shepherd.engine.intake.IntakeResult.Problem;
import dev.shepherd.model.JobSubmission;
import dev.shepherd.model.JobTimeouts;
import dev.shepherd.model.Json;
import dev.shepherd.model.MetricNames;
import dev.shepherd.model.SubmitReceipt;
import dev.shepherd.model.TraceParent;
import dev.shepherd.store.NewJob;
import dev.shepherd.store.Submissions;
import dev.shepherd.store.SubmitOutcome;
import io.micrometer.core.instrument.MeterRegistry;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.function.Consumer;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;

/**
 * Validates a submission against the contract, the job type catalog and the type's payload schema,
 * then stores it with its outbox entry in one call. REST and AMQP both come through here.
 */
public final class SubmissionIntake {

  /** The largest payload a job may carry, as serialised JSON. */
  public static final int MAX_PAYLOAD_BYTES = 256 * 1024;

  private final Contracts contracts;
  private final JobTypeCatalog catalog;
  private final Submissions submissions;
  private final Consumer<SubmitOutcome.Accepted> onAccepted;
  private final Duration reserveFor;
  private final MeterRegistry meters;

  /**
   * @param onAccepted called with the id of each new job (the dispatcher marks its partition and
   *     wakes up at once)
   */
  public SubmissionIntake(
      Contracts contracts,
      JobTypeCatalog catalog,
      Submissions submissions,
      Consumer<String> onAccepted,
      MeterRegistry meters) {
    this(
        contracts,
        catalog,
        submissions,
        null,
        accepted -> onAccepted.accept(accepted.jobId()),
        meters);
  }

  /**
   * @param reserveFor when not null, a new job due now has its outbox entry reserved for this long
   *     in the call that stores it, and {@code onAccepted} gets it ({@link
   *     SubmitOutcome.Accepted#reserved()}) to publish at once: the dispatcher's {@code handOver}
   *     (ADR 24)
   * @param onAccepted called with each new job
   */
  public SubmissionIntake(
      Contracts contracts,
      JobTypeCatalog catalog,
      Submissions submissions,
      Duration reserveFor,
      Consumer<SubmitOutcome.Accepted> onAccepted,
      MeterRegistry meters) {
    this.meters = meters;
    this.contracts = contracts;
    this.catalog = catalog;
    this.submissions = submissions;
    this.reserveFor = reserveFor;
    this.onAccepted = onAccepted;
  }

  public IntakeResult submit(byte[] body) {
    return submit(body, null);
  }

  /**
   * @param traceparent the caller's W3C trace context, or null for the job's own (ADR 54)
   */
  public IntakeResult submit(byte[] body, String traceparent) {
    return submit(body, traceparent, Submitter.ANYONE);
  }

  public IntakeResult submit(JsonNode node, String traceparent) {
    return storeOne(prepare(node, traceparent));
  }

  /**
   * Who submits: the tenant its jobs belong to and the types it may submit (ADR 40).
   *
   * @param tenant empty for none
   */
  public record Submitter(
      String tenant, java.util.function.Predicate<String> maySubmit, String identity) {

    /** Anyone, in no tenant: an installation without access control. */
    public static final Submitter ANYONE = new Submitter("", type -> true, null);

    public Submitter(String tenant, java.util.function.Predicate<String> maySubmit) {
      this(tenant, maySubmit, null);
    }

    /**
     * {@code caller}, allowed the types {@code policy} grants it {@code submit} on; its identity is
     * stored with the job, so the dispatcher checks the grant again (ADR 40).
     */
    public static Submitter of(
        dev.shepherd.engine.access.Caller caller, dev.shepherd.engine.access.AccessPolicy policy) {
      return new Submitter(
          caller.tenantOfNewJobs(),
          type -> policy.allows(caller, dev.shepherd.engine.access.Operation.SUBMIT, type),
          caller == dev.shepherd.engine.access.Caller.UNCHECKED
              ? null
              : dev.shepherd.engine.access.Callers.identity(caller));
    }
  }

  /**
   * As {@link #submit(byte[], String)}, for {@code submitter}: a type it may not submit is refused
   * ({@link Problem#FORBIDDEN}) before the type is even looked up, so a caller learns nothing of
   * the types it may not use; the job belongs to its tenant.
   */
  public IntakeResult submit(byte[] body, String traceparent, Submitter submitter) {
    // null submitter: refused as UNAUTHENTICATED by prepare
    return storeOne(prepare(body, traceparent, submitter));
  }

  /**
   * One submission as it arrived: its body, the caller's trace context (or null) and who submits it
   * (null: nobody could say, refused as {@link Problem#UNAUTHENTICATED}).
   */
  public record Incoming(
      byte[] body, JsonNode node, String traceparent, Submitter submitter, String jobId) {

    public Incoming(byte[] body, JsonNode node, String traceparent, Submitter submitter) {
      this(body, node, traceparent, submitter, null);
    }

    public Incoming(byte[] body, String traceparent, Submitter submitter) {
      this(body, null, traceparent, submitter);
    }

    /** A submission of anyone's ({@link Submitter#ANYONE}). */
    public Incoming(byte[] body, String traceparent) {
      this(body, traceparent, Submitter.ANYONE);
    }

    /** A submission already read: one element of a message's array (ADR 59). */
    public static Incoming parsed(JsonNode node, String traceparent, Submitter submitter) {
      return new Incoming(null, node, traceparent, submitter);
    }

    /**
     * This submission, to be stored under {@code jobId}: the id a failed store call gave it ({@link
     * Results#ids}), so that a job that call stored before its reply was lost is found, not stored
     * twice (ADR 60); null for a new id.
     */
    public Incoming withJobId(String jobId) {
      return new Incoming(body, node, traceparent, submitter, jobId);
    }
  }

  /** One submission as it arrived, stored with its own call; a failed call is thrown. */
  public IntakeResult submit(Incoming in) {
    return storeOne(prepare(in));
  }

  /**
   * What {@link #submitAll} did with a batch.
   *
   * @param results what became of each submission, in the order given; null for one that was not
   *     stored because its store call failed
   * @param failure the first store call's failure, or null
   * @param ids the job id each submission was given, stored or not; null for one refused before it
   *     got one. Submitted again, an unstored submission takes its id along ({@link
   *     Incoming#withJobId})
   */
  public record Results(List<IntakeResult> results, RuntimeException failure, List<String> ids) {}

  /**
   * Validates each submission as {@link #submit(byte[], String)} does and stores the valid ones
   * together, with one store call per partition rather than one per job (the AMQP intake's
   * batches). A store call that fails (Redis down) leaves its submissions unstored and says so, so
   * that only those are submitted again: one without an idempotency key would become two jobs.
   */
  public Results submitAll(List<Incoming> batch) {
    return storeAll(batch.stream().map(this::prepare).toList());
  }

  /** A submission checked: a job to store, or why not. */
  private sealed interface Prepared {}

  /** A job to store, under {@code id} when it was given one, else under a new id. */
  private record Valid(NewJob job, String id) implements Prepared {}

  private record Refused(IntakeResult.Rejected rejected) implements Prepared {}

  private Prepared prepare(Incoming in) {
    Prepared prepared;
    if (in.node() == null) {
      prepared = prepare(in.body(), in.traceparent(), in.submitter());
    } else {
      prepared =
          in.submitter() == null
              ? unauthenticated()
              : prepare(in.node(), in.traceparent(), in.submitter());
    }
    return in.jobId() != null && prepared instanceof Valid valid
        ? new Valid(valid.job(), in.jobId())
        : prepared;
  }

  private Prepared prepare(byte[] body, String traceparent) {
    return prepare(body, traceparent, Submitter.ANYONE);
  }

  private Prepared prepare(byte[] body, String traceparent, Submitter submitter) {
    if (submitter == null) {
      return unauthenticated();
    }
    String text;
    try {
      text =
          StandardCharsets.UTF_8
              .newDecoder()
              .onMalformedInput(CodingErrorAction.REPORT)
              .onUnmappableCharacter(CodingErrorAction.REPORT)
              .decode(ByteBuffer.wrap(body))
              .toString();
    } catch (CharacterCodingException e) {
      return refused(Problem.MALFORMED_JSON, "body is not valid UTF-8", "", "not valid UTF-8");
    }
    JsonNode node;
    try {
      node = Json.mapper().readTree(text);
    } catch (JacksonException e) {
      return refused(
          Problem.MALFORMED_JSON,
          "body is not valid JSON: " + e.getOriginalMessage(),
          "",
          "not JSON");
    }
    if (node == null || node.isMissingNode()) {
      return refused(Problem.MALFORMED_JSON, "body is empty", "", "empty body");
    }
    return prepare(node, traceparent, submitter);
  }

  private Prepared prepare(JsonNode node, String traceparent) {
    return prepare(node, traceparent, Submitter.ANYONE);
  }

  private Prepared prepare(JsonNode node, String traceparent, Submitter submitter) {
    JsonNode payload = node.get("payload");
    if (payload != null && Json.mapper().writeValueAsBytes(payload).length > MAX_PAYLOAD_BYTES) {
      return refused(
          Problem.PAYLOAD_TOO_LARGE,
          "payload is larger than " + MAX_PAYLOAD_BYTES + " bytes",
          "/payload",
          "must be at most " + MAX_PAYLOAD_BYTES + " bytes of JSON");
    }
    List<Contracts.Violation> violations = contracts.validate(Contracts.JOB_SUBMISSION, node);
    if (!violations.isEmpty()) {
      return new Refused(
          new IntakeResult.Rejected(Problem.INVALID_SUBMISSION, describe(violations), violations));
    }
    JobSubmission submission;
    try {
      submission = Json.mapper().treeToValue(node, JobSubmission.class);
    } catch (JacksonException e) {
      // what the schema only annotates (a date-time format, say) the record still refuses
      String field = pointer(e);
      return refused(
          Problem.INVALID_SUBMISSION,
          (field.isEmpty() ? "" : field + ": ") + e.getOriginalMessage(),
          field,
          "cannot be read: " + e.getOriginalMessage());
    }
    if (!submitter.maySubmit().test(submission.type())) {
      return refused(
          Problem.FORBIDDEN,
          "you may not submit jobs of type '" + submission.type() + "'",
          "/type",
          "no grant of submit on this type");
    }
    if (!catalog.isKnown(submission.type())) {
      return refused(
          Problem.UNKNOWN_JOB_TYPE,
          "no worker pool takes job type '" + submission.type() + "'",
          "/type",
          "unknown job type '" + submission.type() + "'");
    }
    if (submission.orderingKey() != null && submission.concurrencyKey() != null) {
      return refused(
          Problem.INVALID_SUBMISSION,
          "concurrencyKey: a job takes an ordering key or a concurrency key, not both",
          "/concurrencyKey",
          "not with an orderingKey: jobs of an ordering key run one at a time already");
    }
    List<Contracts.Violation> payloadViolations;
    if (contracts.hasPayloadSchema(submission.type())) {
      payloadViolations = contracts.validatePayload(submission.type(), submission.payload());
    } else {
      try {
        payloadViolations =
            catalog
                .announcedSchemaOf(submission.type())
                .map(schema -> schema.validate(submission.payload()))
                .orElse(List.of());
      } catch (IllegalArgumentException e) {
        // the worker announced a schema that does not compile: no payload can be judged by it
        return refused(
            Problem.INVALID_PAYLOAD,
            e.getMessage(),
            "/payload",
            "cannot be validated: " + e.getMessage());
      }
    }
    if (!payloadViolations.isEmpty()) {
      List<Contracts.Violation> within =
          payloadViolations.stream().map(v -> v.within("/payload")).toList();
      return new Refused(
          new IntakeResult.Rejected(Problem.INVALID_PAYLOAD, describe(within), within));
    }
    int maxAttempts =
        submission.maxAttempts() != null
            ? submission.maxAttempts()
            : catalog.maxAttemptsOf(submission.type());
    // the submission's own timeouts win, each one falling back to the type's
    JobTimeouts timeouts =
        submission.timeouts() == null
            ? catalog.timeoutsOf(submission.type())
            : submission.timeouts().orElse(catalog.timeoutsOf(submission.type()));
    return new Valid(
        new NewJob(
            submission.type(),
            catalog.poolOf(submission.type()),
            Json.mapper().writeValueAsString(submission.payload()),
            submission.idempotencyKey(),
            submission.notBefore(),
            maxAttempts,
            // the caller's trace, or none: the job's trace is then its id's (ADR 54)
            TraceParent.parse(traceparent).map(TraceParent::toString).orElse(null),
            timeouts,
            submission.orderingKey(),
            catalog.blocksItsKey(submission.type()),
            submission.concurrencyKey(),
            submission.concurrencyKey() == null
                ? 0
                : catalog.concurrencyLimitOf(submission.type(), submission.concurrencyKey()),
            submission.orderingKey() == null ? null : catalog.batchOf(submission.type()),
            submitter.tenant(),
            submitter.identity()),
        null);
  }

  /**
   * Stores the valid submissions of a batch with one call per partition; a failure is returned with
   * the submissions it left unstored.
   */
  private Results storeAll(List<Prepared> prepared) {
    List<NewJob> jobs = new ArrayList<>();
    List<String> givenIds = new ArrayList<>();
    for (Prepared p : prepared) {
      if (p instanceof Valid valid) {
        jobs.add(valid.job());
        givenIds.add(valid.id());
      }
    }
    Submissions.Stored stored =
        jobs.isEmpty()
            ? new Submissions.Stored(List.of(), null, List.of())
            : submissions.submitAll(jobs, givenIds, reserveFor);
    List<IntakeResult> results = new ArrayList<>(prepared.size());
    List<String> ids = new ArrayList<>(prepared.size());
    int next = 0;
    for (Prepared p : prepared) {
      switch (p) {
        case Refused refused -> {
          results.add(refused.rejected());
          ids.add(null);
        }
        case Valid valid -> {
          ids.add(stored.ids().get(next));
          results.add(stored(valid.job(), stored.outcomes().get(next++)));
        }
      }
    }
    return new Results(
        Collections.unmodifiableList(results), stored.failure(), Collections.unmodifiableList(ids));
  }

  /** One submission (a REST request): stored with its own call; a failed call is thrown. */
  private IntakeResult storeOne(Prepared prepared) {
    return switch (prepared) {
      case Refused refused -> refused.rejected();
      case Valid valid ->
          stored(valid.job(), submissions.submit(valid.job(), valid.id(), reserveFor));
    };
  }

  /** Counts and hands over a new job; null (not stored) stays null. */
  private IntakeResult stored(NewJob job, SubmitOutcome outcome) {
    return switch (outcome) {
      case null -> null;
      case SubmitOutcome.Accepted a -> {
        onAccepted.accept(a);
        meters
            .counter(
                MetricNames.JOBS_SUBMITTED,
                MetricNames.TAG_TYPE,
                job.type(),
                MetricNames.TAG_POOL,
                job.pool())
            .increment();
        yield new IntakeResult.Accepted(new SubmitReceipt(a.jobId(), a.state(), false));
      }
      case SubmitOutcome.Duplicate d ->
          new IntakeResult.Duplicate(new SubmitReceipt(d.jobId(), d.state(), true));
    };
  }

  private static Refused unauthenticated() {
    return refused(
        Problem.UNAUTHENTICATED,
        "the submission names no user: publish it with the user_id property of the"
            + " connection's user (the broker checks it)",
        "",
        "no user_id");
  }

  private static Refused refused(Problem problem, String detail, String field, String message) {
    return new Refused(rejected(problem, detail, field, message));
  }

  private static IntakeResult.Rejected rejected(
      Problem problem, String detail, String field, String message) {
    return new IntakeResult.Rejected(
        problem, detail, List.of(new Contracts.Violation(field, message)));
  }

  private static String pointer(JacksonException e) {
    StringBuilder pointer = new StringBuilder();
    for (var reference : e.getPath()) {
      if (reference.getPropertyName() != null) {
        pointer.append('/').append(reference.getPropertyName());
      } else if (reference.getIndex() >= 0) {
        pointer.append('/').append(reference.getIndex());
      }
    }
    return pointer.toString();
  }

  private static String describe(List<Contracts.Violation> violations) {
    return String.join("; ", violations.stream().map(Contracts.Violation::message).toList());
  }
}
