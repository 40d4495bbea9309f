package dev.shepherd.worker;

import dev.shepherd.messaging.Topology;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.amqp.core.Message;

/**
 * Gives back, unclaimed, a delivery whose job type this worker has no handler for, while the queue
 * will deliver it again: during a rolling deploy another worker of the pool may have the handler.
 * The slot holds the delivery for {@link WorkerSettings#noHandlerPause()} first: given back at
 * once, it could come straight back to this worker while the others are busy, and use up the
 * queue's delivery limit in milliseconds; held, it lets a worker that has the handler free a slot.
 * Counted by job type in {@link dev.shepherd.model.MetricNames#DELIVERIES_GIVEN_BACK}.
 */
final class NoHandlerGiveBack {

  private static final Logger log = LoggerFactory.getLogger(NoHandlerGiveBack.class);

  /** The header in which a quorum queue counts the earlier deliveries of a message. */
  private static final String DELIVERY_COUNT = "x-delivery-count";

  private final Handlers handlers;
  private final Topology topology;
  private final Duration pause;
  private final WorkerMeters meters;

  NoHandlerGiveBack(Handlers handlers, Topology topology, Duration pause, WorkerMeters meters) {
    this.handlers = handlers;
    this.topology = topology;
    this.pause = pause;
    this.meters = meters;
  }

  /**
   * Gives the delivery back after the pause if it {@link #givesBack gives back}; else false.
   *
   * @param delivery the held message, already read (reading it is most of this check's cost)
   */
  boolean gaveBack(Slots.Held held, Delivery delivery) {
    if (!givesBack(delivery, held.message())) {
      return false;
    }
    pause(pause);
    held.giveBack(); // unclaimed: another worker of the pool may run it
    return true;
  }

  /**
   * True when this worker has no handler for the delivery's job type and the queue will deliver it
   * again: during a rolling deploy another worker of the pool may have the handler, so the delivery
   * goes back unclaimed. On the last delivery the queue allows, it is claimed instead and the job
   * ends DEAD with "no handler for job type X", rather than being dead-lettered by the broker with
   * a reason that hides why.
   */
  private boolean givesBack(Delivery delivery, Message message) {
    if (!(delivery instanceof Delivery.Readable readable) || handlers.has(readable.work().type())) {
      return false;
    }
    // absent on the first delivery; the queue dead-letters a message returned more times than this
    Object earlier = message.getMessageProperties().getHeader(DELIVERY_COUNT);
    long deliveries = earlier instanceof Number n ? n.longValue() : 0;
    if (deliveries >= topology.deliveryLimit()) {
      return false;
    }
    String type = readable.work().type();
    meters.givenBack(type);
    log.debug(
        "no handler for job type {} (job {}); giving delivery {} of {} back",
        type,
        readable.work().jobId(),
        deliveries + 1,
        topology.deliveryLimit() + 1);
    return true;
  }

  private static void pause(Duration duration) {
    try {
      Thread.sleep(duration);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
