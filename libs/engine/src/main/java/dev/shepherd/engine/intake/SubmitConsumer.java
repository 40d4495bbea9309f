package dev.shepherd.engine.intake;

import dev.shepherd.messaging.InfrastructurePause;
import dev.shepherd.messaging.Listeners;
import dev.shepherd.messaging.Topology;
import dev.shepherd.model.TraceParent;
import dev.shepherd.store.DeadJobs;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import org.springframework.amqp.core.Message;
import org.springframework.amqp.rabbit.connection.ConnectionFactory;
import org.springframework.amqp.rabbit.listener.SimpleMessageListenerContainer;

/**
 * The scheduler's consumer of AMQP submissions. It takes them in batches: each batch is validated
 * and stored with one Redis call per partition ({@link SubmissionIntake#submitAll}) and acked once.
 * A rejected submission becomes a dead-job record with the reason and the raw message, and is
 * acked; the consumer keeps going. The submissions a failed store call left unstored (Redis down)
 * are submitted again one at a time, with the consumer's pause ({@link Listeners}); the others of
 * the batch are not, so that none becomes two jobs.
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
   * Stores a batch, records its rejected submissions, and returns those left to process one at a
   * time: the ones whose store call failed, and rejected ones whose dead-job record could not be
   * written.
   */
  List<Message> processBatch(List<Message> messages) {
    SubmissionIntake.Results stored =
        intake.submitAll(
            messages.stream()
                .map(m -> new SubmissionIntake.Incoming(m.getBody(), traceparent(m), submitter(m)))
                .toList());
    List<Message> rest = new ArrayList<>();
    for (int i = 0; i < messages.size(); i++) {
      IntakeResult result = stored.results().get(i);
      if (result == null) {
        rest.add(messages.get(i));
      } else if (result instanceof IntakeResult.Rejected rejected) {
        try {
          recordRejected(rejected, messages.get(i).getBody());
        } catch (RuntimeException e) {
          rest.add(messages.get(i)); // judged again, and recorded, one at a time
        }
      }
    }
    return rest;
  }

  /** One submission, as {@link #processBatch} handles each; a store failure is thrown. */
  void process(Message message) {
    if (intake.submit(message.getBody(), traceparent(message), submitter(message))
        instanceof IntakeResult.Rejected rejected) {
      recordRejected(rejected, message.getBody());
    }
  }

  private SubmissionIntake.Submitter submitter(Message message) {
    // Spring AMQP hands an inbound user_id over as the received one
    String userId = message.getMessageProperties().getReceivedUserId();
    return submitterOf.apply(userId == null || userId.isBlank() ? null : userId);
  }

  private void recordRejected(IntakeResult.Rejected rejected, byte[] body) {
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
