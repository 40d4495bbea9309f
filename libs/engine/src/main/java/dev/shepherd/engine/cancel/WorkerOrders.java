package dev.shepherd.engine.cancel;

import dev.shepherd.messaging.ConfirmingPublisher;
import dev.shepherd.messaging.OutgoingMessage;
import dev.shepherd.messaging.Topology;
import dev.shepherd.model.Json;
import dev.shepherd.model.WorkerControl;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Tells one worker that an attempt it runs is over (cancelled, or timed out), through the control
 * exchange with the routing key {@code worker.<workerId>}. Sent after the job record changed, it
 * only makes the worker stop sooner: when it is lost (the broker is down, the worker's queue gone)
 * the worker's next lease renewal is refused and tells it the same, within a third of the TTL. So a
 * failure to send is logged, never thrown.
 */
public final class WorkerOrders {

  private static final Logger log = LoggerFactory.getLogger(WorkerOrders.class);

  private final Topology topology;
  private final ConfirmingPublisher publisher;

  public WorkerOrders(Topology topology, ConfirmingPublisher publisher) {
    this.topology = topology;
    this.publisher = publisher;
  }

  /** Sends {@code order} to {@code workerId}; true when the broker took it for the worker. */
  public boolean send(String workerId, WorkerControl order) {
    var message =
        new OutgoingMessage(
            topology.controlExchange(),
            topology.workerControlRoutingKey(workerId),
            UUID.randomUUID().toString(),
            Json.mapper().writeValueAsBytes(order),
            Map.of());
    String what = order.kind() + " of job " + order.jobId() + " to worker " + workerId;
    try {
      var published = publisher.publishBatch(List.of(message));
      if (!published.unroutable().isEmpty()) {
        log.info("{}: the worker has no control queue (gone?); its renewal tells it", what);
        return false;
      }
      if (!published.failed().isEmpty()) {
        log.warn("{}: the broker did not confirm it; the worker's renewal tells it", what);
        return false;
      }
      return true;
    } catch (RuntimeException e) {
      log.warn("{}: not sent ({}); the worker's renewal tells it", what, e.toString());
      return false;
    }
  }
}
