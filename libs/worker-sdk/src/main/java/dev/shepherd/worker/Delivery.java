package dev.shepherd.worker;

import dev.shepherd.model.Json;
import dev.shepherd.model.WorkMessage;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.ObjectReader;

/**
 * One delivery from the work queue, read: either a work message that names a job and an attempt, or
 * input that can never be run, with the reason (it becomes a dead-job record).
 */
sealed interface Delivery {

  /** A work message the worker can try to claim. */
  record Readable(WorkMessage work) implements Delivery {}

  /** Bytes that are not a usable work message; {@code problem} says why. */
  record Unreadable(String problem) implements Delivery {}

  /** Resolved once: a lookup of the type's deserializer per delivery is measurable. */
  ObjectReader READER = Json.mapper().readerFor(WorkMessage.class);

  static Delivery read(byte[] body) {
    WorkMessage work;
    try {
      work = READER.readValue(body);
    } catch (JacksonException e) {
      return new Unreadable("unreadable work message: " + JsonProblem.describe(e));
    }
    if (work == null) {
      return new Unreadable("unreadable work message: empty or null");
    }
    if (work.jobId() == null || work.jobId().isBlank()) {
      return new Unreadable("work message without a jobId");
    }
    if (work.type() == null || work.type().isBlank()) {
      return new Unreadable("work message for job " + work.jobId() + " without a type");
    }
    if (work.attempt() < 1) {
      return new Unreadable(
          "work message for job " + work.jobId() + " with attempt " + work.attempt() + " (< 1)");
    }
    return new Readable(work);
  }
}
