package dev.shepherd.engine.intake;

import dev.shepherd.contracts.Contracts;
import dev.shepherd.model.SubmitReceipt;
import java.util.List;

/** What became of one submission. */
public sealed interface IntakeResult {

  /** A new job was stored with its outbox entry. */
  record Accepted(SubmitReceipt receipt) implements IntakeResult {}

  /** The idempotency key named an existing job; nothing new was stored. */
  record Duplicate(SubmitReceipt receipt) implements IntakeResult {}

  /** The submission was refused; {@code violations} name each field and rule. */
  record Rejected(Problem problem, String detail, List<Contracts.Violation> violations)
      implements IntakeResult {}

  /** Why a submission is refused; each maps to one HTTP status. */
  enum Problem {
    MALFORMED_JSON(400, "Malformed JSON"),
    INVALID_SUBMISSION(422, "Invalid submission"),
    UNKNOWN_JOB_TYPE(422, "Unknown job type"),
    INVALID_PAYLOAD(422, "Payload does not match the job type's schema"),
    PAYLOAD_TOO_LARGE(413, "Payload too large"),
    FORBIDDEN(403, "Forbidden"),
    UNAUTHENTICATED(401, "Unauthenticated");

    private final int httpStatus;
    private final String title;

    Problem(int httpStatus, String title) {
      this.httpStatus = httpStatus;
      this.title = title;
    }

    public int httpStatus() {
      return httpStatus;
    }

    public String title() {
      return title;
    }

    /** The problem type URI, relative to the API, as problem+json's {@code type}. */
    public String typeUri() {
      return "https://shepherd.dev/problems/" + name().toLowerCase().replace('_', '-');
    }
  }
}
