package dev.shepherd.engine.intake;

import dev.shepherd.contracts.Contracts;
import dev.shepherd.messaging.InfrastructurePause;
import dev.shepherd.messaging.Listeners;
import dev.shepherd.messaging.Topology;
import dev.shepherd.model.Json;
import dev.shepherd.model.StatusMessages;
import dev.shepherd.model.SubmissionMessages;
import dev.shepherd.model.TraceParent;
import dev.shepherd.store.DeadJobs;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import java.util.function.Supplier;
import org.springframework.amqp.core.Message;
import org.springframework.amqp.rabbit.connection.ConnectionFactory;
import org.springframework.amqp.rabbit.listener.SimpleMessageListenerContainer;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;

/**
 * The scheduler's consumer of AMQP submissions. It takes them in batches: each batch is validated
 * and stored with one Redis call per partition ({@link SubmissionIntake#submitAll}) and acked once.
 * A rejected submission becomes a dead-job record with the reason and the raw message, and is
 * acked; the consumer keeps going. The submissions a failed store call left unstored (Redis down)
 * are submitted again one at a time, with the consumer's pause ({@link Listeners}) and under the
 * job ids the failed call gave them (ADR 60); the others of the batch are not, so that none becomes
 * two jobs. A message may carry several submissions as a JSON array ({@link SubmissionMessages},
 * ADR 59): each is judged on its own, and the message is acked, or taken again, whole.
 */
public final class SubmitConsumer {

  private final SubmissionIntake intake;
  private final DeadJobs deadJobs;
  private final String queue;
  private final Function<String, SubmissionIntake.Submitter> submitterOf;

  /** A consumer that takes every submission as anyone's: no access control. */
  public SubmitConsumer(SubmissionIntake intake, DeadJobs deadJobs, Topology topology) {
    this(intake, deadJobs, topology, userId -> SubmissionIntake.Submitter.ANYONE);
  }

  /**
   * @param submitterOf who submits, from the message's {@code user_id} (null when it has none),
   *     which the broker checked against the connection's user (ADR 40); null for nobody: the
   *     submission is refused as unauthenticated
   */
  public SubmitConsumer(
      SubmissionIntake intake,
      DeadJobs deadJobs,
      Topology topology,
      Function<String, SubmissionIntake.Submitter> submitterOf) {
    this.intake = intake;
    this.deadJobs = deadJobs;
    this.queue = topology.submitQueue();
    this.submitterOf = submitterOf;
  }

  /** A container of {@code consumers} consumers of the submit queue, each taking batches. */
  public SimpleMessageListenerContainer container(
      ConnectionFactory connectionFactory,
      int consumers,
      int prefetch,
      Listeners.Batch batch,
      InfrastructurePause.Backoff backoff) {
    return Listeners.manualAckBatches(
        connectionFactory,
        queue,
        consumers,
        prefetch,
        batch,
        backoff,
        this::processBatch,
        this::process);
  }

  /**
   * Stores a batch, records its rejected submissions, and returns the messages left to process one
   * at a time: those one of whose submissions a failed store call left unstored, and those with a
   * rejected submission whose dead-job record could not be written. A message that carries an array
   * of submissions (ADR 59) is acked, or taken again, whole.
   */
  List<Message> processBatch(List<Message> messages) {
    List<Part> parts = new ArrayList<>();
    for (int i = 0; i < messages.size(); i++) {
      parts.addAll(parts(i, messages.get(i)));
    }
    SubmissionIntake.Results stored = store(parts);
    boolean[] again = new boolean[messages.size()];
    for (int k = 0; k < parts.size(); k++) {
      if (stored.results().get(k) == null) {
        again[parts.get(k).message()] = true;
      }
    }
    for (int k = 0; k < parts.size(); k++) {
      Part part = parts.get(k);
      if (again[part.message()]
          || !(stored.results().get(k) instanceof IntakeResult.Rejected rejected)) {
        continue; // stored, or judged again and recorded with the rest of its message
      }
      try {
        recordRejected(rejected, part.raw());
      } catch (RuntimeException e) {
        again[part.message()] = true; // judged again, and recorded, one at a time
      }
    }
    List<Message> rest = new ArrayList<>();
    int first = 0; // the first part of message i: a message's parts are together, in order
    for (int i = 0; i < messages.size(); i++) {
      int end = first;
      while (end < parts.size() && parts.get(end).message() == i) {
        end++;
      }
      if (again[i]) {
        keepGivenIds(messages.get(i), stored, first, end);
        rest.add(messages.get(i));
      }
      first = end;
    }
    return rest;
  }

  /**
   * One message, as {@link #processBatch} handles each: its submissions judged and stored; a store
   * failure is thrown, and the message is taken again whole (the array's submissions stored before
   * answer as duplicates of their idempotency keys, and one whose call failed is submitted again
   * under the id that call gave it, ADR 60).
   */
  void process(Message message) {
    List<Part> parts = parts(0, message);
    SubmissionIntake.Results stored = store(parts);
    if (stored.failure() != null) {
      keepGivenIds(message, stored, 0, parts.size());
      throw stored.failure();
    }
    for (int k = 0; k < parts.size(); k++) {
      if (stored.results().get(k) instanceof IntakeResult.Rejected rejected) {
        recordRejected(rejected, parts.get(k).raw());
      }
    }
  }

  /**
   * Stores the parts not refused already, with one store call per partition; what became of each
   * part, in order: refused, stored, or null when its call failed (the failure is returned).
   */
  private SubmissionIntake.Results store(List<Part> parts) {
    List<SubmissionIntake.Incoming> toStore = new ArrayList<>();
    for (Part part : parts) {
      if (part.refused() == null) {
        toStore.add(part.incoming());
      }
    }
    SubmissionIntake.Results stored =
        toStore.isEmpty()
            ? new SubmissionIntake.Results(List.of(), null, List.of())
            : intake.submitAll(toStore);
    List<IntakeResult> results = new ArrayList<>(parts.size());
    List<String> ids = new ArrayList<>(parts.size());
    int next = 0;
    for (Part part : parts) {
      if (part.refused() != null) {
        results.add(part.refused());
        ids.add(null);
      } else {
        results.add(stored.results().get(next));
        ids.add(stored.ids().get(next++));
      }
    }
    return new SubmissionIntake.Results(results, stored.failure(), ids);
  }

  /**
   * Keeps with {@code message}, for it to be taken again in this process, the job ids its unstored
   * submissions (parts {@code from} to {@code to} of {@code stored}) were given: a call whose reply
   * was lost may have stored them, and under the same id they are found, not stored twice (ADR 60).
   * In a header of the received message, never published, whose value only this class makes, so
   * that no producer can name a job id for its submission.
   */
  private static void keepGivenIds(
      Message message, SubmissionIntake.Results stored, int from, int to) {
    List<String> ids = new ArrayList<>(to - from);
    boolean any = false;
    for (int k = from; k < to; k++) {
      String id = stored.results().get(k) == null ? stored.ids().get(k) : null;
      ids.add(id);
      any |= id != null;
    }
    if (any) {
      message.getMessageProperties().setHeader(GivenIds.HEADER, new GivenIds(ids));
    }
  }

  /** The job ids a message's unstored submissions were given, one per part, null for none. */
  private record GivenIds(List<String> ids) {
    static final String HEADER = "shepherd-given-job-ids";
  }

  /**
   * One submission of a message: what to store, or why it is refused before it gets there.
   *
   * @param message the message's index in its batch
   * @param raw the submission as it arrived, for its dead-job record
   */
  private record Part(
      int message,
      SubmissionIntake.Incoming incoming,
      IntakeResult.Rejected refused,
      Supplier<byte[]> raw) {

    static Part of(int message, SubmissionIntake.Incoming incoming, Supplier<byte[]> raw) {
      return new Part(message, incoming, null, raw);
    }

    /** This part, stored under {@code jobId} (null for a new id) when it is to be stored. */
    Part withJobId(String jobId) {
      return refused != null || jobId == null
          ? this
          : new Part(message, incoming.withJobId(jobId), null, raw);
    }

    static Part refused(int message, String detail, String field, String rule, byte[] raw) {
      return new Part(
          message,
          null,
          new IntakeResult.Rejected(
              IntakeResult.Problem.INVALID_SUBMISSION,
              detail,
              List.of(new Contracts.Violation(field, rule))),
          () -> raw);
    }
  }

  /**
   * The submissions a message carries: its body, or each element of the JSON array it is (ADR 59).
   * An array that is empty, longer than {@link SubmissionMessages#MAX_SUBMISSIONS} or holds
   * anything but objects is refused whole (one dead-job record for one message that is not a batch
   * of submissions), and an element without an idempotency key alone: the message is taken again
   * whole when storing part of it fails, and such an element would become two jobs. Taken again in
   * this process, each unstored submission has the job id it was given before ({@link
   * #keepGivenIds}).
   */
  private List<Part> parts(int index, Message message) {
    List<Part> parts = partsOf(index, message);
    if (message.getMessageProperties().getHeader(GivenIds.HEADER) instanceof GivenIds given
        && given.ids().size() == parts.size()) {
      List<Part> again = new ArrayList<>(parts.size());
      for (int k = 0; k < parts.size(); k++) {
        again.add(parts.get(k).withJobId(given.ids().get(k)));
      }
      return again;
    }
    return parts;
  }

  /** The submissions {@code message} carries, as it arrived. */
  private List<Part> partsOf(int index, Message message) {
    byte[] body = message.getBody();
    SubmissionIntake.Submitter submitter = submitter(message);
    List<Part> whole =
        List.of(
            Part.of(
                index,
                new SubmissionIntake.Incoming(body, traceparent(message), submitter),
                () -> body));
    if (!Json.isArray(body)) {
      return whole;
    }
    JsonNode array;
    try {
      array = Json.mapper().readTree(body);
    } catch (JacksonException e) {
      // not JSON: judged as one submission, which the intake refuses as malformed
      return whole;
    }
    if (array.isEmpty() || array.size() > SubmissionMessages.MAX_SUBMISSIONS) {
      return List.of(
          Part.refused(
              index,
              "an array of submissions holds 1 to "
                  + SubmissionMessages.MAX_SUBMISSIONS
                  + " of them; this one holds "
                  + array.size(),
              "",
              "must hold 1 to " + SubmissionMessages.MAX_SUBMISSIONS + " submissions",
              body));
    }
    for (JsonNode element : array) {
      if (!element.isObject()) {
        return List.of(
            Part.refused(
                index,
                "an array of submissions holds JSON objects only; this one holds "
                    + element.getNodeType().name().toLowerCase(),
                "",
                "must hold submissions (JSON objects) only",
                body));
      }
    }
    List<String> traces =
        StatusMessages.traceparents(
            message.getMessageProperties().getHeader(StatusMessages.TRACEPARENTS_HEADER));
    List<Part> parts = new ArrayList<>(array.size());
    for (int i = 0; i < array.size(); i++) {
      JsonNode element = array.get(i);
      Supplier<byte[]> raw = () -> Json.mapper().writeValueAsBytes(element);
      JsonNode key = element.get("idempotencyKey");
      if (key == null || !key.isString() || key.asString().isBlank()) {
        parts.add(
            Part.refused(
                index,
                "idempotencyKey: a submission that shares its message with others needs one, since"
                    + " the message is taken again whole when storing part of it fails",
                "/idempotencyKey",
                "required in an array of submissions",
                raw.get()));
      } else {
        String trace = traces.size() == array.size() ? traces.get(i) : null;
        parts.add(Part.of(index, SubmissionIntake.Incoming.parsed(element, trace, submitter), raw));
      }
    }
    return parts;
  }

  private SubmissionIntake.Submitter submitter(Message message) {
    // Spring AMQP hands an inbound user_id over as the received one
    String userId = message.getMessageProperties().getReceivedUserId();
    return submitterOf.apply(userId == null || userId.isBlank() ? null : userId);
  }

  private void recordRejected(IntakeResult.Rejected rejected, Supplier<byte[]> raw) {
    byte[] body = raw.get();
    // who may not submit is recorded as `unauthenticated` or `forbidden` (issue 17)
    String reason =
        switch (rejected.problem()) {
          case UNAUTHENTICATED, FORBIDDEN -> rejected.problem().name().toLowerCase();
          default -> rejected.problem().title();
        };
    deadJobs.recordDead(
        null,
        null,
        reason + ": " + rejected.detail(),
        queue,
        new String(body, StandardCharsets.UTF_8));
  }

  private static String traceparent(Message message) {
    Object traceparent = message.getMessageProperties().getHeader(TraceParent.HEADER);
    return traceparent == null ? null : traceparent.toString();
  }
}
