package dev.shepherd.engine.dispatch;

import dev.shepherd.distribution.AttemptRequest;
import dev.shepherd.distribution.Distributor;
import dev.shepherd.distribution.RunResult;
import dev.shepherd.engine.JobOutcomeMeters;
import dev.shepherd.messaging.ConfirmingPublisher;
import dev.shepherd.messaging.Topology;
import dev.shepherd.model.Json;
import dev.shepherd.model.MetricNames;
import dev.shepherd.store.DueEntry;
import dev.shepherd.store.Outbox;
import dev.shepherd.store.Outbox.ExhaustedJob;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.ObjIntConsumer;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Moves due outbox entries to the work exchange, one partition at a time: each due entry is an
 * attempt run through the {@code worker-pool} distributor ({@link WorkerPoolDistributor#runAll}, a
 * batch of work messages confirmed once, ADR 48). An entry whose job type no worker pool takes any
 * more (the topology names no pool for it, or the broker returns its message as unroutable) ends
 * its job DEAD with the reason, instead of being published again every second forever; a redrive
 * gives it another attempt once a pool takes the type again.
 */
public final class Dispatcher {

  private static final Logger log = LoggerFactory.getLogger(Dispatcher.class);

  /**
   * An entry the broker refused, or did not confirm in time, is due again this much later: soon
   * enough that a restarted broker gets the backlog at once, late enough not to spin while it is
   * down. The default of {@code shepherd.scheduler.dispatch-unconfirmed-retry}.
   */
  public static final Duration RETRY_UNCONFIRMED = Duration.ofSeconds(1);

  private final Outbox outbox;
  private final Topology topology;
  private final int batchSize;
  private final Duration visibility;
  private final MeterRegistry meters;
  private final JobOutcomeMeters outcomes;
  private final Set<Integer> dirty = java.util.concurrent.ConcurrentHashMap.newKeySet();
  private final Duration sweepEvery;
  private final Duration retryUnconfirmed;
  private final Timer expiryToRedispatch;
  private final Duration markWindow;
  private final Queue<DueEntry> handedOver = new ConcurrentLinkedQueue<>();
  private final Map<Integer, List<DueEntry>> unmarked = new TreeMap<>(); // guarded by this
  private long unmarkedSince;
  private long lastSweep = Long.MIN_VALUE;
  private volatile Predicate<String> takenByAPool;
  private volatile Function<DueEntry, String> refusal = entry -> null;
  private volatile Distributor pool;

  /**
   * @param batchSize entries reserved and published per partition per pass
   * @param visibility how long a reserved entry stays hidden from other dispatchers; an entry whose
   *     dispatcher died before the confirm is published again after it (one the broker refused is
   *     given back after {@link #RETRY_UNCONFIRMED})
   */
  public Dispatcher(
      Outbox outbox,
      Topology topology,
      ConfirmingPublisher publisher,
      int batchSize,
      Duration visibility,
      MeterRegistry meters) {
    this(
        outbox,
        topology,
        publisher,
        batchSize,
        visibility,
        Duration.ofMillis(100),
        RETRY_UNCONFIRMED,
        meters);
  }

  /**
   * @param sweepEvery how often {@link #dispatchNext()} looks at every partition (delayed jobs,
   *     retries and other schedulers' submissions); between sweeps it visits only the partitions
   *     this scheduler just wrote to
   * @param retryUnconfirmed how much later an entry the broker refused, or did not confirm in time,
   *     is due again
   */
  public Dispatcher(
      Outbox outbox,
      Topology topology,
      ConfirmingPublisher publisher,
      int batchSize,
      Duration visibility,
      Duration sweepEvery,
      Duration retryUnconfirmed,
      MeterRegistry meters) {
    this(
        outbox,
        topology,
        publisher,
        batchSize,
        visibility,
        sweepEvery,
        retryUnconfirmed,
        Duration.ZERO,
        meters);
  }

  /**
   * @param markWindow how long confirmed entries are collected before they are marked dispatched,
   *     in one call per partition for all of them (zero marks each pass's at once). A worker's
   *     claim usually comes first and takes the entry out itself; until the mark, an unclaimed job
   *     reads SUBMITTED and its entry stays hidden for {@code visibility} (ADR 24)
   */
  public Dispatcher(
      Outbox outbox,
      Topology topology,
      ConfirmingPublisher publisher,
      int batchSize,
      Duration visibility,
      Duration sweepEvery,
      Duration retryUnconfirmed,
      Duration markWindow,
      MeterRegistry meters) {
    this.markWindow = markWindow;
    this.meters = meters;
    this.outcomes = new JobOutcomeMeters(meters);
    this.sweepEvery = sweepEvery;
    this.retryUnconfirmed = retryUnconfirmed;
    this.expiryToRedispatch =
        Timer.builder(MetricNames.LEASE_EXPIRY_TO_REDISPATCH)
            .description("from a lease's expiry to the publish of the job's next attempt")
            .publishPercentileHistogram()
            .register(meters);
    this.outbox = outbox;
    this.topology = topology;
    this.batchSize = batchSize;
    this.visibility = visibility;
    this.takenByAPool = type -> topology.poolOf(type) != null;
    this.pool = WorkerPoolDistributor.publishing(topology, publisher);
  }

  /**
   * The dispatcher handing attempts out through {@code pool} (the scheduler's {@link
   * WorkerPoolDistributor}, ADR 48) instead of the one it built to publish only.
   */
  public Dispatcher handingOutThrough(Distributor pool) {
    this.pool = pool;
    return this;
  }

  /**
   * Which job types some pool takes, when more than the topology's configured pools do: the
   * scheduler's catalog, which knows the types workers announce (ADR 35). A due job of any other
   * type ends DEAD instead of being published.
   */
  /**
   * The dispatcher with a last check of each job before it is handed out: {@code refusal} answers
   * why the entry may not go (its submitter's grant was revoked, ADR 40), or null when it may. A
   * refused job ends DEAD with that reason, as one no pool takes does.
   */
  public Dispatcher refusing(Function<DueEntry, String> refusal) {
    this.refusal = refusal;
    return this;
  }

  public Dispatcher takingTypes(Predicate<String> taken) {
    this.takenByAPool = taken;
    return this;
  }

  /**
   * One pass over every partition: reserves the due entries of all partitions, publishes them
   * together and waits for their confirms once, then removes the confirmed ones from each
   * partition's outbox. Returns how many were published and confirmed.
   */
  public int dispatchOnce() {
    List<Integer> all = new ArrayList<>();
    for (int partition = 0; partition < outbox.partitions(); partition++) {
      all.add(partition);
    }
    int published = dispatch(all, List.of());
    markConfirmed(true);
    return published;
  }

  /**
   * Takes an outbox entry the intake reserved when it stored the job ({@code
   * Submissions.submit(job, visibility)}): the next pass publishes it without asking Redis for it.
   * Should this scheduler stop before the confirm is marked, the entry shows up again after its
   * reservation and any dispatcher publishes it (ADR 24).
   */
  public void handOver(DueEntry entry) {
    handedOver.add(entry);
  }

  /** How long {@link #handOver} entries stay hidden from dispatchers: the outbox's visibility. */
  public Duration visibility() {
    return visibility;
  }

  /** Notes that a job was just written to this partition's outbox. */
  public void markDirty(String jobId) {
    int partition = outbox.partitionOf(jobId);
    if (partition >= 0) {
      dirty.add(partition);
    }
  }

  /**
   * The dispatch loop's pass: every partition once per {@code sweepEvery}, otherwise only those
   * {@link #markDirty} named since the last pass. Visiting 16 partitions for every new job cost 16
   * Redis round trips per pass; a new job costs about one now (see docs/BENCHMARKS.md).
   */
  public int dispatchNext() {
    List<DueEntry> handed = new ArrayList<>();
    for (DueEntry entry = handedOver.poll(); entry != null; entry = handedOver.poll()) {
      handed.add(entry);
    }
    long now = System.nanoTime();
    int published;
    if (lastSweep == Long.MIN_VALUE || now - lastSweep >= sweepEvery.toNanos()) {
      lastSweep = now;
      dirty.clear();
      List<Integer> all = new ArrayList<>();
      for (int partition = 0; partition < outbox.partitions(); partition++) {
        all.add(partition);
      }
      published = dispatch(all, handed);
    } else {
      List<Integer> partitions = new ArrayList<>();
      for (Integer partition : dirty) {
        dirty.remove(partition);
        partitions.add(partition);
      }
      published = partitions.isEmpty() && handed.isEmpty() ? 0 : dispatch(partitions, handed);
    }
    markConfirmed(false);
    return published;
  }

  /**
   * Marks every confirmed entry not marked yet, now: for a scheduler that stops, so that its last
   * window's entries are not published a second time after their reservation.
   */
  public void flushMarks() {
    markConfirmed(true);
  }

  /** Marks the collected confirms once the window since the first of them has passed. */
  private synchronized void markConfirmed(boolean now) {
    if (unmarked.isEmpty() || !now && System.nanoTime() - unmarkedSince < markWindow.toNanos()) {
      return;
    }
    for (var partition : unmarked.entrySet()) {
      outbox.markDispatched(
          partition.getKey(),
          partition.getValue(),
          expiredAt ->
              expiryToRedispatch.record(Duration.between(expiredAt, outbox.clock().instant())));
    }
    unmarked.clear();
  }

  private synchronized void collectConfirmed(int partition, List<DueEntry> confirmed) {
    if (confirmed.isEmpty()) {
      return;
    }
    if (unmarked.isEmpty()) {
      unmarkedSince = System.nanoTime();
    }
    unmarked.computeIfAbsent(partition, p -> new ArrayList<>()).addAll(confirmed);
  }

  /**
   * Publishes the {@code handed} entries and the due entries of {@code partitions}, waits for their
   * confirms once, and collects the confirmed ones for {@link #markConfirmed}.
   */
  private int dispatch(List<Integer> partitions, List<DueEntry> handed) {
    Map<Integer, List<DueEntry>> reserved = new java.util.LinkedHashMap<>();
    for (DueEntry entry : handed) {
      reserved
          .computeIfAbsent(outbox.partitionOf(entry.jobId()), p -> new ArrayList<>())
          .add(entry);
    }
    // a released last attempt whose outcome never came (ADR 14)
    Consumer<ExhaustedJob> exhausted = dead -> outcomes.dead(dead.type(), dead.pool());
    ObjIntConsumer<List<DueEntry>> add =
        (due, partition) -> {
          if (!due.isEmpty()) {
            reserved.computeIfAbsent(partition, p -> new ArrayList<>()).addAll(due);
          }
        };
    if (partitions.size() == outbox.partitions()) {
      // a sweep: every partition's call sent at once, one round trip (ADR 55)
      outbox.reserveDueInEvery(batchSize, visibility, exhausted, add);
    } else {
      for (int partition : partitions) {
        add.accept(outbox.reserveDue(partition, batchSize, visibility, exhausted), partition);
      }
    }
    List<AttemptRequest> attempts = new ArrayList<>();
    Map<String, String> unroutable = new HashMap<>(); // message id -> why
    for (List<DueEntry> entries : reserved.values()) {
      for (DueEntry entry : entries) {
        String refused;
        if (!takenByAPool.test(entry.type())) {
          unroutable.put(messageId(entry), noHandler(entry.type(), "no worker pool takes it"));
        } else if ((refused = refusal.apply(entry)) != null) {
          log.warn("job {} not handed out: {}", entry.jobId(), refused);
          meters
              .counter(
                  MetricNames.JOBS_REFUSED_AT_DISPATCH,
                  MetricNames.TAG_TYPE,
                  entry.type(),
                  MetricNames.TAG_POOL,
                  entry.pool())
              .increment();
          unroutable.put(messageId(entry), refused);
        } else {
          attempts.add(toAttempt(entry));
        }
      }
    }
    if (reserved.isEmpty()) {
      return 0;
    }
    Set<String> failedIds = new HashSet<>(unroutable.keySet());
    List<RunResult> ran = attempts.isEmpty() ? List.of() : pool.runAll(attempts);
    if (ran.size() != attempts.size()) {
      throw new IllegalStateException(
          pool.name()
              + " answered "
              + ran.size()
              + " results for a batch of "
              + attempts.size()
              + " attempts: runAll answers each attempt once, in order");
    }
    for (int i = 0; i < ran.size(); i++) {
      String id = messageId(attempts.get(i));
      switch (ran.get(i)) {
        case RunResult.Ran r -> {}
        case RunResult.NotYet r -> failedIds.add(id);
        case RunResult.Refused r -> {
          failedIds.add(id);
          unroutable.put(id, r.reason());
        }
      }
    }
    int confirmedCount = 0;
    for (var partition : reserved.entrySet()) {
      Map<Boolean, List<DueEntry>> byConfirm =
          partition.getValue().stream()
              .collect(Collectors.partitioningBy(e -> !failedIds.contains(messageId(e))));
      List<DueEntry> confirmed = byConfirm.get(true);
      List<Outbox.Unroutable> nowhere = new ArrayList<>();
      List<DueEntry> unconfirmed = new ArrayList<>();
      for (DueEntry entry : byConfirm.get(false)) {
        String why = unroutable.get(messageId(entry));
        if (why == null) {
          unconfirmed.add(entry);
        } else {
          nowhere.add(new Outbox.Unroutable(entry, why));
        }
      }
      endUnroutable(partition.getKey(), nowhere);
      collectConfirmed(partition.getKey(), confirmed);
      outbox.deferDue(partition.getKey(), unconfirmed, retryUnconfirmed);
      confirmedCount += confirmed.size();
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
    }
    int notConfirmed = failedIds.size() - unroutable.size();
    if (notConfirmed > 0) {
      log.warn(
          "{} work messages were not confirmed by the broker; they stay in the outbox and are"
              + " published again in {}",
          notConfirmed,
          retryUnconfirmed);
    }
    return confirmedCount;
  }

  private static String noHandler(String type, String because) {
    return "no handler for job type " + type + ": " + because;
  }

  /** Ends the jobs no pool takes: DEAD with the reason, counted as dead jobs. */
  private void endUnroutable(int partition, List<Outbox.Unroutable> nowhere) {
    if (nowhere.isEmpty()) {
      return;
    }
    Set<String> ended = new HashSet<>(outbox.endUnroutable(partition, nowhere));
    for (Outbox.Unroutable u : nowhere) {
      if (ended.contains(u.entry().jobId())) {
        log.warn("job {} is DEAD: {}", u.entry().jobId(), u.reason());
        outcomes.dead(u.entry().type(), u.entry().pool());
      }
    }
  }

  /** The due entry as an attempt for {@code worker-pool}: not claimed yet, so no fencing token. */
  private static AttemptRequest toAttempt(DueEntry entry) {
    return new AttemptRequest(
        entry.jobId(),
        entry.type(),
        entry.attempt(),
        0,
        Json.mapper().readTree(entry.payloadJson()),
        WorkerPoolDistributor.CONFIG,
        null,
        entry.submittedAt(),
        entry.traceparent());
  }

  private static String messageId(AttemptRequest attempt) {
    return WorkerPoolDistributor.messageId(attempt);
  }

  private static String messageId(DueEntry entry) {
    return entry.jobId() + ":" + entry.attempt(); // as WorkerPoolDistributor's work messages
  }
}
