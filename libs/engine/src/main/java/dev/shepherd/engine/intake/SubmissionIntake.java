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
   * @param traceparent the caller's W3C trace context, or null to start a new trace
   */
  public IntakeResult submit(byte[] body, String traceparent) {
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
      return rejected(Problem.MALFORMED_JSON, "body is not valid UTF-8", "", "not valid UTF-8");
    }
    JsonNode node;
    try {
      node = Json.mapper().readTree(text);
    } catch (JacksonException e) {
      return rejected(
          Problem.MALFORMED_JSON,
          "body is not valid JSON: " + e.getOriginalMessage(),
          "",
          "not JSON");
    }
    if (node == null || node.isMissingNode()) {
      return rejected(Problem.MALFORMED_JSON, "body is empty", "", "empty body");
    }
    return submit(node, traceparent);
  }

  public IntakeResult submit(JsonNode node, String traceparent) {
    JsonNode payload = node.get("payload");
    if (payload != null && Json.mapper().writeValueAsBytes(payload).length > MAX_PAYLOAD_BYTES) {
      return rejected(
          Problem.PAYLOAD_TOO_LARGE,
          "payload is larger than " + MAX_PAYLOAD_BYTES + " bytes",
          "/payload",
          "must be at most " + MAX_PAYLOAD_BYTES + " bytes of JSON");
    }
    List<Contracts.Violation> violations = contracts.validate(Contracts.JOB_SUBMISSION, node);
    if (!violations.isEmpty()) {
      return new IntakeResult.Rejected(
          Problem.INVALID_SUBMISSION, describe(violations), violations);
    }
    JobSubmission submission;
    try {
      submission = Json.mapper().treeToValue(node, JobSubmission.class);
    } catch (JacksonException e) {
      // what the schema only annotates (a date-time format, say) the record still refuses
      String field = pointer(e);
      return rejected(
          Problem.INVALID_SUBMISSION,
          (field.isEmpty() ? "" : field + ": ") + e.getOriginalMessage(),
          field,
          "cannot be read: " + e.getOriginalMessage());
    }
    if (!catalog.isKnown(submission.type())) {
      return rejected(
          Problem.UNKNOWN_JOB_TYPE,
          "no worker pool takes job type '" + submission.type() + "'",
          "/type",
          "unknown job type '" + submission.type() + "'");
    }
    if (submission.orderingKey() != null && submission.concurrencyKey() != null) {
      return rejected(
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
        return rejected(
            Problem.INVALID_PAYLOAD,
            e.getMessage(),
            "/payload",
            "cannot be validated: " + e.getMessage());
      }
    }
    if (!payloadViolations.isEmpty()) {
      List<Contracts.Violation> within =
          payloadViolations.stream().map(v -> v.within("/payload")).toList();
      return new IntakeResult.Rejected(Problem.INVALID_PAYLOAD, describe(within), within);
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
    SubmitOutcome outcome =
        submissions.submit(
            new NewJob(
                submission.type(),
                catalog.poolOf(submission.type()),
                Json.mapper().writeValueAsString(submission.payload()),
                submission.idempotencyKey(),
                submission.notBefore(),
                maxAttempts,
                TraceParent.parse(traceparent).orElseGet(TraceParent::newRoot).toString(),
                timeouts,
                submission.orderingKey(),
                catalog.blocksItsKey(submission.type()),
                submission.concurrencyKey(),
                submission.concurrencyKey() == null
                    ? 0
                    : catalog.concurrencyLimitOf(submission.type(), submission.concurrencyKey()),
                submission.orderingKey() == null ? null : catalog.batchOf(submission.type())),
            reserveFor);
    return switch (outcome) {
      case SubmitOutcome.Accepted a -> {
        onAccepted.accept(a);
        meters
            .counter(
                MetricNames.JOBS_SUBMITTED,
                MetricNames.TAG_TYPE,
                submission.type(),
                MetricNames.TAG_POOL,
                catalog.poolOf(submission.type()))
            .increment();
        yield new IntakeResult.Accepted(new SubmitReceipt(a.jobId(), a.state(), false));
      }
      case SubmitOutcome.Duplicate d ->
          new IntakeResult.Duplicate(new SubmitReceipt(d.jobId(), d.state(), true));
    };
  }

  private static IntakeResult rejected(
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
