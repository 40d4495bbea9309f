package dev.shepherd.messaging;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import org.springframework.amqp.core.Binding;
import org.springframework.amqp.core.BindingBuilder;
import org.springframework.amqp.core.Declarable;
import org.springframework.amqp.core.Declarables;
import org.springframework.amqp.core.DirectExchange;
import org.springframework.amqp.core.ExchangeBuilder;
import org.springframework.amqp.core.Queue;
import org.springframework.amqp.core.QueueBuilder;
import org.springframework.amqp.core.TopicExchange;

/**
 * Every exchange, queue and routing key of Shepherd, as data. Names start with a prefix ({@code
 * shepherd} in production, a unique one per test) so several installations share one broker.
 *
 * <p>All queues are quorum queues with an explicit delivery limit and at-least-once dead lettering:
 * RabbitMQ's default dead lettering is at most once, and a dead letter lost between queues would be
 * a lost job.
 *
 * @param prefix the first part of every name
 * @param pools worker pools and the job types each consumes
 * @param deliveryLimit deliveries of one message before the broker dead-letters it
 */
public record Topology(String prefix, Map<String, List<String>> pools, int deliveryLimit) {

  public static final String DEFAULT_PREFIX = "shepherd";
  public static final int DEFAULT_DELIVERY_LIMIT = 5;

  /** Routing-key suffixes of status events: {@code <type>.<EVENT>}. */
  public static final String HEADER_TRACEPARENT = "traceparent";

  public Topology {
    pools = Map.copyOf(pools);
  }

  public String submitExchange() {
    return prefix + ".submit";
  }

  public String workExchange() {
    return prefix + ".work";
  }

  public String statusExchange() {
    return prefix + ".status";
  }

  public String controlExchange() {
    return prefix + ".control";
  }

  public String deadLetterExchange() {
    return prefix + ".dlx";
  }

  public String submitQueue() {
    return prefix + ".submit";
  }

  /** The routing key producers use on the submit exchange. */
  public String submitRoutingKey() {
    return "submit";
  }

  /** Where producers' cancel requests wait for the scheduler (bound to the control exchange). */
  public String cancelQueue() {
    return prefix + ".cancel";
  }

  /** The routing key of a cancel request on the control exchange. */
  public String cancelRoutingKey() {
    return "cancel";
  }

  /** The routing key of orders to one worker on the control exchange. */
  public String workerControlRoutingKey(String workerId) {
    return "worker." + workerId;
  }

  /**
   * One worker's queue of orders (cancel, abandon): a classic, auto-delete queue the worker
   * declares and binds itself; it goes with the worker, and what it held is safe without it (the
   * job record changed first, and the lease renewal tells the worker too).
   */
  public String workerControlQueue(String workerId) {
    return prefix + ".control.worker." + workerId;
  }

  /**
   * What a worker declares for its orders, each time it subscribes (an auto-delete queue is gone
   * once its consumer is): its classic, non-durable, auto-delete queue, and the queue's binding to
   * the control exchange with {@link #workerControlRoutingKey}. The exchange itself is in {@link
   * #declarables()}.
   */
  public Declarables workerControlDeclarables(String workerId) {
    Queue queue =
        QueueBuilder.nonDurable(workerControlQueue(workerId))
            .autoDelete()
            .withArgument("x-queue-type", "classic")
            .build();
    TopicExchange control = ExchangeBuilder.topicExchange(controlExchange()).durable(true).build();
    return new Declarables(
        queue, BindingBuilder.bind(queue).to(control).with(workerControlRoutingKey(workerId)));
  }

  public String workQueue(String pool) {
    return prefix + ".work." + pool;
  }

  public String statusQueue() {
    return prefix + ".status.tracker";
  }

  public String deadQueue() {
    return prefix + ".dead";
  }

  /**
   * The last resort: dead letters the dead-letter consumer could not record as dead jobs (it failed
   * on them {@code deliveryLimit} times). Nothing consumes it; an operator reads it (see
   * OPERATIONS).
   */
  public String deadUnrecordedQueue() {
    return prefix + ".dead.unrecorded";
  }

  /** Status events are routed by job type and event, so a consumer can bind to what it needs. */
  public String statusRoutingKey(String jobType, String event) {
    return jobType + "." + event;
  }

  /** The pool whose queue receives jobs of {@code jobType}, or null when no pool takes it. */
  public String poolOf(String jobType) {
    for (var pool : pools.entrySet()) {
      if (pool.getValue().contains(jobType)) {
        return pool.getKey();
      }
    }
    return null;
  }

  public List<String> queueNames() {
    List<String> names =
        new ArrayList<>(
            List.of(
                submitQueue(), cancelQueue(), statusQueue(), deadQueue(), deadUnrecordedQueue()));
    pools.keySet().forEach(pool -> names.add(workQueue(pool)));
    return names;
  }

  public List<String> exchangeNames() {
    return List.of(
        submitExchange(),
        workExchange(),
        statusExchange(),
        controlExchange(),
        deadLetterExchange());
  }

  /**
   * A pool's work queue and its bindings to the work exchange, one per job type: what {@link
   * #declarables()} declares for each configured pool, and what a worker declares for its own pool
   * and the types it announces (ADR 35). The exchange itself is in {@link #declarables()}.
   */
  public Declarables poolDeclarables(String pool, Collection<String> jobTypes) {
    List<Declarable> all = new ArrayList<>();
    TopicExchange work = ExchangeBuilder.topicExchange(workExchange()).durable(true).build();
    Queue queue = deadLettered(workQueue(pool));
    all.add(queue);
    for (String jobType : jobTypes) {
      all.add(BindingBuilder.bind(queue).to(work).with(jobType));
    }
    return new Declarables(all);
  }

  /**
   * The bindings of {@link #poolDeclarables} without the queue: what a worker declares where it may
   * not create queues and the scheduler declares the pools' queues (ADR 41). Binding to a queue
   * that does not exist yet fails with {@code NOT_FOUND}, and the worker's connection is retried
   * until the scheduler has declared it.
   */
  public Declarables poolBindings(String pool, Collection<String> jobTypes) {
    return new Declarables(
        poolDeclarables(pool, jobTypes).getDeclarablesByType(Binding.class).stream()
            .map(Declarable.class::cast)
            .toList());
  }

  /** Everything to declare, for a {@code RabbitAdmin} or a Spring context. */
  public Declarables declarables() {
    List<Declarable> all = new ArrayList<>();
    DirectExchange submit = ExchangeBuilder.directExchange(submitExchange()).durable(true).build();
    TopicExchange work = ExchangeBuilder.topicExchange(workExchange()).durable(true).build();
    TopicExchange status = ExchangeBuilder.topicExchange(statusExchange()).durable(true).build();
    TopicExchange control = ExchangeBuilder.topicExchange(controlExchange()).durable(true).build();
    TopicExchange dlx = ExchangeBuilder.topicExchange(deadLetterExchange()).durable(true).build();
    all.addAll(List.of(submit, work, status, control, dlx));

    Queue submitQueue = deadLettered(submitQueue());
    all.add(submitQueue);
    all.add(BindingBuilder.bind(submitQueue).to(submit).with(submitRoutingKey()));

    Queue cancelQueue = deadLettered(cancelQueue());
    all.add(cancelQueue);
    all.add(BindingBuilder.bind(cancelQueue).to(control).with(cancelRoutingKey()));

    for (var pool : pools.entrySet()) {
      all.addAll(poolDeclarables(pool.getKey(), pool.getValue()).getDeclarables());
    }

    Queue statusQueue = deadLettered(statusQueue());
    all.add(statusQueue);
    Binding allStatus = BindingBuilder.bind(statusQueue).to(status).with("#");
    all.add(allStatus);

    // The dead-letter consumer has a delivery limit too, so a dead letter it cannot record does not
    // spin forever; what passes the limit goes, through the default exchange (not the dlx, which
    // routes everything back here), to a queue nobody consumes.
    Queue dead =
        QueueBuilder.durable(deadQueue())
            .quorum()
            .deliveryLimit(deliveryLimit)
            .deadLetterExchange("")
            .deadLetterRoutingKey(deadUnrecordedQueue())
            .overflow(QueueBuilder.Overflow.rejectPublish)
            .withArgument("x-dead-letter-strategy", "at-least-once")
            .build();
    all.add(dead);
    all.add(BindingBuilder.bind(dead).to(dlx).with("#"));
    all.add(QueueBuilder.durable(deadUnrecordedQueue()).quorum().build());
    return new Declarables(all);
  }

  private Queue deadLettered(String name) {
    return QueueBuilder.durable(name)
        .quorum()
        .deliveryLimit(deliveryLimit)
        .deadLetterExchange(deadLetterExchange())
        .deadLetterRoutingKey(name)
        .overflow(QueueBuilder.Overflow.rejectPublish)
        .withArgument("x-dead-letter-strategy", "at-least-once")
        .build();
  }
}
