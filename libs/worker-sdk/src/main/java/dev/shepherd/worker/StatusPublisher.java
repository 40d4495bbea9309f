package dev.shepherd.worker;

import dev.shepherd.messaging.ConfirmingPublisher;
import dev.shepherd.messaging.OutgoingMessage;
import dev.shepherd.messaging.PublishException;
import dev.shepherd.messaging.Topology;
import dev.shepherd.model.StatusEvent;
import dev.shepherd.model.StatusMessages;
import dev.shepherd.model.TraceParent;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends an attempt's status events (phases, progress, heartbeats and its outcome) to the status
 * exchange, routed by job type and event, each as a child span of the work message's trace. {@link
 * #publish} returns once the broker confirmed the event and throws {@link PublishException} without
 * a confirm; retrying an outcome is {@link OutcomePublisher}'s.
 *
 * <p>The events of every slot go through one sender thread that publishes what has queued up while
 * the previous message waited for its confirm as one message (ADR 36): a lone event is one message
 * as before (message id job, attempt and sequence); several are a JSON array ({@link
 * StatusMessages}) that the status-tracker applies in order. Nothing waits for company: an event is
 * sent as soon as the thread is free, so batching costs no latency and grows with the load, and
 * each caller still learns of its own event's confirm.
 */
final class StatusPublisher implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(StatusPublisher.class);

  /** The most events one message carries. */
  static final int MAX_EVENTS = 64;

  private record Pending(
      StatusEvent event, TraceParent trace, CompletableFuture<Boolean> confirmed) {}

  /**
   * Writes events straight into the store, without the status queue (ADR 56); throws when the store
   * did not take them, possibly after some were applied (applying them again is safe).
   */
  @FunctionalInterface
  interface DirectWrite {
    void write(List<StatusEvent> events, List<TraceParent> traces);
  }

  /** Attempts whose events go through the status queue since a direct write of theirs failed. */
  static final int MAX_ROUTED_TO_QUEUE = 10_000;

  private final ConfirmingPublisher publisher;
  private final Topology topology;
  private final DirectWrite direct;

  /** After a failed direct write, how long events go to the status queue without trying. */
  static final Duration DIRECT_PAUSE = Duration.ofSeconds(1);

  private final long pauseNanos;

  /** System.nanoTime() until which no direct write is tried; only the sending thread sets it. */
  private volatile long pausedUntil = System.nanoTime();

  /**
   * The attempts ("job id:attempt") one of whose events a direct write failed to record and the
   * status queue carried: their later events take the queue too, so that none overtakes an earlier
   * one still queued (the store drops an event older than one it applied). An attempt leaves the
   * set with its outcome; the oldest leave first past {@link #MAX_ROUTED_TO_QUEUE}. Only the
   * sender's thread (or a caller sending what is left after it stopped) touches it.
   */
  private final Set<String> routedToQueue =
      Collections.synchronizedSet(
          Collections.newSetFromMap(
              new LinkedHashMap<>() {
                @Override
                protected boolean removeEldestEntry(Map.Entry<String, Boolean> eldest) {
                  return size() > MAX_ROUTED_TO_QUEUE;
                }
              }));

  private final BlockingQueue<Pending> queue = new LinkedBlockingQueue<>();
  private final Thread sender;
  private volatile boolean closed;

  StatusPublisher(ConfirmingPublisher publisher, Topology topology) {
    this(publisher, topology, null);
  }

  /**
   * @param direct writes the events into the store itself, the status queue taking only what it
   *     could not write; null sends every event through the status queue
   */
  StatusPublisher(ConfirmingPublisher publisher, Topology topology, DirectWrite direct) {
    this(publisher, topology, direct, DIRECT_PAUSE);
  }

  /**
   * @param pause how long after a failed direct write every event goes to the status queue, so a
   *     Redis that is down or frozen costs one failed write (a command time-out, when frozen) per
   *     pause instead of one per message
   */
  StatusPublisher(
      ConfirmingPublisher publisher, Topology topology, DirectWrite direct, Duration pause) {
    this.publisher = publisher;
    this.topology = topology;
    this.direct = direct;
    this.pauseNanos = pause.toNanos();
    this.sender = Thread.ofPlatform().name("shepherd-status-sender").daemon().unstarted(this::run);
    sender.start();
  }

  /**
   * Records {@code event} and returns once it was written into the store or the broker confirmed it
   * to the status queue.
   */
  void publish(StatusEvent event, TraceParent trace) {
    CompletableFuture<Boolean> confirmed = send(event, trace);
    try {
      while (true) {
        try {
          confirmed.get(1, TimeUnit.SECONDS);
          return;
        } catch (TimeoutException e) {
          if (!sender.isAlive()) {
            sendWhatIsLeft(); // the sender has stopped: on the caller's thread
          }
        }
      }
    } catch (ExecutionException e) {
      throw asPublishException(event, e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new PublishException("interrupted waiting for the confirm of " + describe(event));
    }
  }

  /**
   * Sends {@code event} without waiting: the future completes once the event is recorded, with true
   * when it was written into the store (ADR 56), false when the broker confirmed it to the status
   * queue, or exceptionally ({@link #asPublishException} reads why) without either. It completes on
   * the sender's thread, so what depends on it must be quick and never block.
   */
  CompletableFuture<Boolean> send(StatusEvent event, TraceParent trace) {
    var pending = new Pending(event, trace.child(), new CompletableFuture<>());
    queue.add(pending);
    if (closed || !sender.isAlive()) {
      sendWhatIsLeft(); // the sender has stopped or is stopping: on the caller's thread
    }
    return pending.confirmed();
  }

  /** Why the publish of {@code event} failed, as {@link #publish} throws it. */
  static PublishException asPublishException(StatusEvent event, Throwable cause) {
    return cause instanceof PublishException p
        ? p
        : new PublishException("could not publish " + describe(event) + ": " + cause);
  }

  /**
   * Stops the sender once it has sent what is queued; an event published later is sent by its
   * caller's thread.
   */
  @Override
  public void close() {
    closed = true;
    sender.interrupt();
    try {
      sender.join(TimeUnit.SECONDS.toMillis(10));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    sendWhatIsLeft();
  }

  private void sendWhatIsLeft() {
    List<Pending> left = new ArrayList<>();
    queue.drainTo(left, MAX_EVENTS);
    while (!left.isEmpty()) {
      send(left);
      left.clear();
      queue.drainTo(left, MAX_EVENTS);
    }
  }

  private void run() {
    List<Pending> batch = new ArrayList<>(MAX_EVENTS);
    while (true) {
      try {
        Pending first = closed ? queue.poll() : queue.take();
        if (first == null) {
          return; // closed and nothing left
        }
        batch.add(first);
      } catch (InterruptedException e) {
        if (queue.isEmpty()) {
          return;
        }
        continue; // closing: send what is queued first
      }
      queue.drainTo(batch, MAX_EVENTS - 1);
      send(batch);
      batch.clear();
    }
  }

  private void send(List<Pending> batch) {
    if (direct != null) {
      batch = writeDirectly(batch);
      if (batch.isEmpty()) {
        return;
      }
    }
    try {
      publisher.publish(message(batch));
      forgetFinished(batch);
      batch.forEach(p -> p.confirmed().complete(false));
    } catch (RuntimeException e) {
      // every caller hears of it and decides (an outcome is tried again, OutcomePublisher)
      batch.forEach(p -> p.confirmed().completeExceptionally(e));
    } catch (Error e) {
      batch.forEach(p -> p.confirmed().completeExceptionally(e));
      log.error("the status sender failed; events are sent by their callers from now on", e);
      closed = true;
      throw e;
    }
  }

  /**
   * Writes the events of {@code batch} whose attempts have not taken the status queue straight into
   * the store and completes them; returns the ones left for the queue: those of such attempts, and
   * the whole batch when the write failed or one failed less than the pause ago (its attempts then
   * take the queue until their outcomes).
   */
  private List<Pending> writeDirectly(List<Pending> batch) {
    List<Pending> straight = new ArrayList<>(batch.size());
    List<Pending> queued = new ArrayList<>();
    for (Pending p : batch) {
      (routedToQueue.contains(attemptOf(p.event())) ? queued : straight).add(p);
    }
    if (straight.isEmpty()) {
      return queued;
    }
    if (System.nanoTime() - pausedUntil < 0) {
      straight.forEach(p -> routedToQueue.add(attemptOf(p.event())));
      return batch; // a write failed a moment ago: the queue takes everything for now
    }
    try {
      direct.write(
          straight.stream().map(Pending::event).toList(),
          straight.stream().map(Pending::trace).toList());
    } catch (RuntimeException e) {
      log.warn(
          "could not write {} status event(s) into the store ({}); the status queue takes them"
              + " and their attempts' later events",
          straight.size(),
          e.toString());
      straight.forEach(p -> routedToQueue.add(attemptOf(p.event())));
      pausedUntil = System.nanoTime() + pauseNanos;
      return batch;
    }
    straight.forEach(p -> p.confirmed().complete(true));
    return queued;
  }

  private void forgetFinished(List<Pending> sent) {
    if (direct == null || routedToQueue.isEmpty()) {
      return;
    }
    for (Pending p : sent) {
      if (p.event() instanceof StatusEvent.Succeeded || p.event() instanceof StatusEvent.Failed) {
        routedToQueue.remove(attemptOf(p.event()));
      }
    }
  }

  private static String attemptOf(StatusEvent event) {
    return event.jobId() + ":" + event.attempt();
  }

  private OutgoingMessage message(List<Pending> batch) {
    StatusEvent first = batch.getFirst().event();
    List<StatusEvent> events = batch.stream().map(Pending::event).toList();
    String firstTrace = batch.getFirst().trace().toString();
    if (batch.size() == 1) {
      return new OutgoingMessage(
          topology.statusExchange(),
          topology.statusRoutingKey(first.type(), first.eventName()),
          describe(first),
          StatusMessages.encode(events),
          Map.of(TraceParent.HEADER, firstTrace));
    }
    return new OutgoingMessage(
        topology.statusExchange(),
        topology.statusRoutingKey(first.type(), "BATCH"),
        describe(first) + "+" + (batch.size() - 1),
        StatusMessages.encode(events),
        Map.of(
            TraceParent.HEADER,
            firstTrace,
            StatusMessages.TRACEPARENTS_HEADER,
            batch.stream().map(p -> p.trace().toString()).collect(Collectors.joining(","))));
  }

  private static String describe(StatusEvent event) {
    return event.jobId() + ":" + event.attempt() + ":" + event.sequence();
  }
}
