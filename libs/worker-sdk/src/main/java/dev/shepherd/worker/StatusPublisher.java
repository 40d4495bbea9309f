package dev.shepherd.worker;

import dev.shepherd.messaging.ConfirmingPublisher;
import dev.shepherd.messaging.OutgoingMessage;
import dev.shepherd.messaging.Topology;
import dev.shepherd.model.Json;
import dev.shepherd.model.StatusEvent;
import dev.shepherd.model.TraceParent;
import java.util.Map;

/**
 * Sends an attempt's status events (phases, progress, heartbeats and its outcome) to the status
 * exchange, routed by job type and event, each as a child span of the work message's trace and with
 * a message id of job, attempt and sequence. It waits for the broker's confirm and throws {@link
 * dev.shepherd.messaging.PublishException} without one; retrying an outcome is {@link
 * OutcomePublisher}'s.
 */
final class StatusPublisher {

  private final ConfirmingPublisher publisher;
  private final Topology topology;

  StatusPublisher(ConfirmingPublisher publisher, Topology topology) {
    this.publisher = publisher;
    this.topology = topology;
  }

  void publish(StatusEvent event, TraceParent trace) {
    publisher.publish(
        new OutgoingMessage(
            topology.statusExchange(),
            topology.statusRoutingKey(event.type(), event.eventName()),
            event.jobId() + ":" + event.attempt() + ":" + event.sequence(),
            Json.mapper().writeValueAsBytes(event),
            Map.of(TraceParent.HEADER, trace.child().toString())));
  }
}
