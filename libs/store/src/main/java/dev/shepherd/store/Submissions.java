package dev.shepherd.store;

import dev.shepherd.model.JobIds;
import dev.shepherd.model.JobState;
import dev.shepherd.model.JobTimeouts;
import dev.shepherd.model.Json;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import tools.jackson.databind.JsonNode;

/**
 * New jobs: each is stored with its outbox entry and its idempotency key in one script, so a job is
 * never stored without being dispatched later, and a repeated key returns the first job.
 */
public final class Submissions {

  /** The arguments submit.lua reads per job, after the one they share. */
  private static final int ARGS_PER_JOB = 22;

  /** How often, at most, this process adds one pool to the known pools again. */
  private static final long RECORD_POOL_EVERY_MS = 60_000;

  private final StoreContext store;

  /** When this process last added each pool to the known pools ({@link Keys#pools()}). */
  private final Map<String, Long> poolRecordedAt = new ConcurrentHashMap<>();

  Submissions(StoreContext store) {
    this.store = store;
  }

  /** Stores a new job with its outbox entry, or returns the job its idempotency key names. */
  public SubmitOutcome submit(NewJob job) {
    return submit(job, null);
  }

  /**
   * As {@link #submit(NewJob)}, and a new job due now has its outbox entry reserved for the caller
   * in the same call ({@link SubmitOutcome.Accepted#reserved()}), hidden from dispatchers for
   * {@code reserveFor} as {@link Outbox#reserveDue} would: the caller publishes it and marks it
   * dispatched, and if it never does, the entry is published by a dispatcher after that time.
   *
   * @param reserveFor how long the entry stays reserved; null to reserve nothing
   */
  public SubmitOutcome submit(NewJob job, Duration reserveFor) {
    return submit(job, null, reserveFor);
  }

  /**
   * As {@link #submit(NewJob, Duration)}, under {@code id} when it is not null: the id an earlier
   * call that failed gave this very job ({@link #submitAll(List, List, Duration)}).
   */
  public SubmitOutcome submit(NewJob job, String id, Duration reserveFor) {
    Stored stored = submitAll(List.of(job), Collections.singletonList(id), reserveFor);
    if (stored.failure() != null) {
      throw stored.failure();
    }
    return stored.outcomes().getFirst();
  }

  /**
   * What {@link #submitAll} stored.
   *
   * @param outcomes what became of each job, in the order given; null for a job whose partition's
   *     call failed (nothing of it was stored)
   * @param failure the first call's failure, or null when every call succeeded
   * @param ids the id each job was given, stored or not: submitted again under the same id after a
   *     failed call ({@link #submitAll(List, List, Duration)}), a job the call stored before its
   *     reply was lost is found, not stored twice
   */
  public record Stored(List<SubmitOutcome> outcomes, RuntimeException failure, List<String> ids) {

    /** What became of jobs for which no call was made: none stored, each with the id given. */
    static Stored unsent(List<String> ids, RuntimeException failure) {
      return new Stored(
          Collections.unmodifiableList(Arrays.asList(new SubmitOutcome[ids.size()])),
          failure,
          Collections.unmodifiableList(new ArrayList<>(ids)));
    }
  }

  /**
   * Stores many jobs as {@link #submit(NewJob, Duration)} stores one, with one call per partition
   * rather than one per job: the jobs that name no key share one partition, picked at random for
   * the call; a keyed job goes to its key's. Each partition's jobs are stored in the order given,
   * so an ordering key's jobs keep their order and a repeated idempotency key within the call
   * returns the first job. A call that fails (Redis down) leaves its jobs unstored and the other
   * calls are still made, so the caller knows exactly which jobs to submit again.
   */
  public Stored submitAll(List<NewJob> jobs, Duration reserveFor) {
    return submitAll(jobs, Collections.nCopies(jobs.size(), null), reserveFor);
  }

  /**
   * As {@link #submitAll(List, Duration)}, each job under the id {@code ids} gives it, where it
   * gives one: the id a failed call gave that very job ({@link Stored#ids}), so that a job the
   * failed call stored before its reply was lost is answered as stored, not stored again. Without
   * it, a job that names no idempotency key would become two jobs (ADR 60).
   *
   * @param ids one per job, null for a new id
   * @throws IllegalArgumentException when an id is not in the partition its job's keys name
   */
  public Stored submitAll(List<NewJob> jobs, List<String> ids, Duration reserveFor) {
    if (ids.size() != jobs.size()) {
      throw new IllegalArgumentException(ids.size() + " ids for " + jobs.size() + " jobs");
    }
    long now = store.clock().millis();
    try {
      recordPools(jobs, now);
    } catch (RuntimeException e) {
      return Stored.unsent(ids, e);
    }
    return send(jobs, calls(jobs, ids, reserveFor, now), now);
  }

  /**
   * One call of submit.lua: the partition it runs on, the indexes in the batch of the jobs it
   * stores, their ids (in the same order), and its arguments, the ids among them.
   */
  record Call(int partition, List<Integer> indexes, List<String> ids, List<String> args) {}

  /** The calls that store {@code jobs}: one per partition, each job with a new id. */
  List<Call> calls(List<NewJob> jobs, Duration reserveFor, long now) {
    return calls(jobs, Collections.nCopies(jobs.size(), null), reserveFor, now);
  }

  /**
   * The calls that store {@code jobs}: one per partition, each job under its id in {@code ids} or a
   * new one. A job given an id goes to that id's partition; a keyed job's is its key's anyway.
   */
  List<Call> calls(List<NewJob> jobs, List<String> ids, Duration reserveFor, long now) {
    int anyPartition = ThreadLocalRandom.current().nextInt(store.keys().partitions());
    Map<Integer, List<Integer>> byPartition = new LinkedHashMap<>();
    for (int i = 0; i < jobs.size(); i++) {
      int partition = partitionOf(jobs.get(i), ids.get(i), anyPartition);
      byPartition.computeIfAbsent(partition, p -> new ArrayList<>()).add(i);
    }
    List<Call> calls = new ArrayList<>(byPartition.size());
    for (var entry : byPartition.entrySet()) {
      int partition = entry.getKey();
      List<Integer> indexes = entry.getValue();
      List<String> callIds = new ArrayList<>(indexes.size());
      List<String> args = new ArrayList<>(1 + ARGS_PER_JOB * indexes.size());
      args.add(Long.toString(now));
      for (int i : indexes) {
        String id = ids.get(i) != null ? ids.get(i) : JobIds.newId(partition);
        callIds.add(id);
        addArgs(args, id, jobs.get(i), now, reserveFor);
      }
      calls.add(new Call(partition, indexes, callIds, args));
    }
    return calls;
  }

  /**
   * Makes {@code calls}, each once, and reads what became of {@code jobs}. A call may reach Redis
   * twice (a client sends again what it had written when its connection dropped, or tries again a
   * call whose reply timed out): submit.lua leaves a job whose id it already holds as it is.
   */
  Stored send(List<NewJob> jobs, List<Call> calls, long now) {
    SubmitOutcome[] outcomes = new SubmitOutcome[jobs.size()];
    String[] ids = new String[jobs.size()];
    for (Call call : calls) {
      for (int k = 0; k < call.indexes().size(); k++) {
        ids[call.indexes().get(k)] = call.ids().get(k);
      }
    }
    RuntimeException failure = null;
    // the partitions' calls in one round trip where the client can pipeline them
    List<Object> replies =
        store.runEach(
            Script.SUBMIT,
            calls.stream()
                .map(
                    c ->
                        new ScriptRunner.PartitionCall(
                            c.partition(), c.args().toArray(String[]::new)))
                .toList());
    for (int c = 0; c < calls.size(); c++) {
      Call call = calls.get(c);
      if (replies.get(c) instanceof RuntimeException e) {
        failure = failure == null ? e : failure;
        continue;
      }
      JsonNode results = ((JsonNode) replies.get(c)).get("results");
      for (int k = 0; k < call.indexes().size(); k++) {
        int i = call.indexes().get(k);
        outcomes[i] = outcome(results.get(k), jobs.get(i), now);
      }
    }
    return new Stored(
        Collections.unmodifiableList(Arrays.asList(outcomes)),
        failure,
        Collections.unmodifiableList(Arrays.asList(ids)));
  }

  /**
   * Adds the jobs' pools to the known pools before any is stored, so that every QUEUED job is in a
   * {@code queued:<pool>} index the readers walk (ADR 51): a pool once a minute at most per
   * process, so a known pool costs no command per job, and a set lost with its Redis is written
   * again.
   */
  private void recordPools(List<NewJob> jobs, long now) {
    Set<String> due = new TreeSet<>();
    for (NewJob job : jobs) {
      Long at = poolRecordedAt.get(job.pool());
      if (at == null || now - at >= RECORD_POOL_EVERY_MS) {
        due.add(job.pool());
      }
    }
    if (due.isEmpty()) {
      return;
    }
    new JobTypeRegistry(store.redis(), store.settings(), store.clock()).addPools(due);
    due.forEach(pool -> poolRecordedAt.put(pool, now));
  }

  private static void addArgs(
      List<String> args, String id, NewJob job, long now, Duration reserveFor) {
    long notBefore = job.notBefore() == null ? now : job.notBefore().toEpochMilli();
    Collections.addAll(
        args,
        id,
        job.type(),
        job.pool(),
        job.payloadJson(),
        job.idempotencyKey() == null ? "" : job.idempotencyKey(),
        Long.toString(notBefore),
        Integer.toString(job.maxAttempts()),
        job.traceparent() == null ? "" : job.traceparent(),
        millisOrEmpty(job.timeouts().startToClose()),
        millisOrEmpty(job.timeouts().stall()),
        phaseLimits(job.timeouts()),
        millisOrEmpty(job.timeouts().scheduleToStart()),
        job.timeouts().failAtScheduleToStart() ? "1" : "",
        reserveFor == null ? "" : Long.toString(reserveFor.toMillis()),
        job.orderingKey() == null ? "" : job.orderingKey(),
        job.concurrencyKey() == null ? "" : job.concurrencyKey(),
        job.concurrencyKey() == null ? "" : Integer.toString(job.concurrencyLimit()),
        job.blocksItsKey() ? "block" : "",
        job.batch() == null ? "" : Integer.toString(job.batch().maxJobs()),
        job.batch() == null ? "" : Long.toString(job.batch().maxBytes()),
        job.tenant(),
        job.submitter() == null ? "" : job.submitter());
  }

  private static SubmitOutcome outcome(JsonNode reply, NewJob job, long now) {
    String jobId = reply.get("id").asString();
    JobState state = JobState.valueOf(reply.get("state").asString());
    if ("DUPLICATE".equals(reply.get("outcome").asString())) {
      return new SubmitOutcome.Duplicate(jobId, state);
    }
    DueEntry reserved =
        reply.path("reserved").asBoolean(false)
            ? new DueEntry(
                jobId,
                job.type(),
                job.pool(),
                1,
                job.payloadJson(),
                Instant.ofEpochMilli(now),
                job.traceparent() == null || job.traceparent().isEmpty() ? null : job.traceparent(),
                job.submitter())
            : null;
    return new SubmitOutcome.Accepted(jobId, state, reserved);
  }

  /**
   * Where the job lives: its ordering key's partition, where the key's order is kept (ADR 29), or
   * its concurrency key's, where the key's slots are (ADR 30); else its idempotency key's, so a
   * repeated key finds it; else the one {@code anyPartition} names, shared by the call's unkeyed
   * jobs. A keyed job's idempotency key lives in the ordering or concurrency key's partition with
   * it.
   */
  private int partitionOf(NewJob job, String id, int anyPartition) {
    int keys = partitionOf(job, -1);
    if (id == null) {
      return keys < 0 ? anyPartition : keys;
    }
    int ids = store.keys().partitionOf(id);
    if (ids < 0 || (keys >= 0 && ids != keys)) {
      throw new IllegalArgumentException(
          "job id " + id + " is not in partition " + keys + ", where its job's keys put it");
    }
    return ids;
  }

  private int partitionOf(NewJob job, int anyPartition) {
    if (job.orderingKey() != null) {
      return store.keys().partitionOfKey(job.orderingKey());
    }
    if (job.concurrencyKey() != null) {
      return store.keys().partitionOfKey(job.concurrencyKey());
    }
    if (job.idempotencyKey() != null) {
      return store.keys().partitionOfKey(job.idempotencyKey());
    }
    return anyPartition;
  }

  /** The phase limits as the scripts read them, {@code {"render": 120000}}; '' for none. */
  private static String phaseLimits(JobTimeouts timeouts) {
    if (timeouts.phases().isEmpty()) {
      return "";
    }
    var limits = Json.mapper().createObjectNode();
    timeouts.phases().forEach((phase, limit) -> limits.put(phase, limit.toMillis()));
    return limits.toString();
  }

  private static String millisOrEmpty(Duration duration) {
    return duration == null ? "" : Long.toString(duration.toMillis());
  }
}
