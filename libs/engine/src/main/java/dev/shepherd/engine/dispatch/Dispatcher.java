package dev.shepherd.engine.dispatch;

import dev.shepherd.messaging.ConfirmingPublisher;
import dev.shepherd.messaging.OutgoingMessage;
import dev.shepherd.messaging.Topology;
import dev.shepherd.model.Json;
import dev.shepherd.model.MetricNames;
import dev.shepherd.model.TraceParent;
import dev.shepherd.model.WorkMessage;
import dev.shepherd.store.DueEntry;
import dev.shepherd.store.JobStore;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Moves due outbox entries to the work exchange, one partition at a time. */
public final class Dispatcher {

  private static final Logger log = LoggerFactory.getLogger(Dispatcher.class);

  private final JobStore store;
  private final Topology topology;
  private final ConfirmingPublisher publisher;
  private final int batchSize;
  private final Duration visibility;
  private final MeterRegistry meters;

  /**
   * @param batchSize entries reserved and published per partition per pass
   * @param visibility how long a reserved entry stays hidden from other dispatchers; an entry whose
   *     publish was never confirmed is published again after it
   */
  public Dispatcher(
      JobStore store,
      Topology topology,
      ConfirmingPublisher publisher,
      int batchSize,
      Duration visibility,
      MeterRegistry meters) {
    this.meters = meters;
    this.store = store;
    this.topology = topology;
    this.publisher = publisher;
    this.batchSize = batchSize;
    this.visibility = visibility;
  }

  /** One pass over every partition; returns how many entries were published and confirmed. */
  public int dispatchOnce() {
    int total = 0;
    for (int partition = 0; partition < store.partitions(); partition++) {
      total += dispatchPartition(partition);
    }
    return total;
  }

  int dispatchPartition(int partition) {
    List<DueEntry> due = store.reserveDue(partition, batchSize, visibility);
    if (due.isEmpty()) {
      return 0;
    }
    List<OutgoingMessage> messages = new ArrayList<>(due.size());
    for (DueEntry entry : due) {
      messages.add(toMessage(entry));
    }
    List<OutgoingMessage> failed = publisher.publishAll(messages);
    Set<String> failedIds = new HashSet<>();
    failed.forEach(m -> failedIds.add(m.messageId()));
    List<DueEntry> confirmed = due.stream().filter(e -> !failedIds.contains(messageId(e))).toList();
    store.markDispatched(partition, confirmed);
    for (DueEntry entry : confirmed) {
      meters
          .counter(
              MetricNames.JOBS_DISPATCHED,
              MetricNames.TAG_TYPE,
              entry.type(),
              MetricNames.TAG_POOL,
              entry.pool())
          .increment();
    }
    if (!failed.isEmpty()) {
      log.warn(
          "{} work messages were not confirmed by the broker; they stay in the outbox and are"
              + " published again after {}",
          failed.size(),
          visibility);
    }
    return confirmed.size();
  }

  private OutgoingMessage toMessage(DueEntry entry) {
    var work =
        new WorkMessage(
            entry.jobId(),
            entry.type(),
            entry.attempt(),
            Json.mapper().readTree(entry.payloadJson()),
            entry.submittedAt());
    return new OutgoingMessage(
        topology.workExchange(),
        entry.type(),
        messageId(entry),
        Json.mapper().writeValueAsBytes(work),
        entry.traceparent() == null
            ? Map.of()
            : Map.of(
                TraceParent.HEADER,
                TraceParent.parse(entry.traceparent())
                    .map(t -> t.child().toString())
                    .orElse(entry.traceparent())));
  }

  private static String messageId(DueEntry entry) {
    return entry.jobId() + ":" + entry.attempt();
  }
}
