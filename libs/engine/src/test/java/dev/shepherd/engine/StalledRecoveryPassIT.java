package dev.shepherd.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.shepherd.engine.recovery.LeaseReaper;
import dev.shepherd.engine.recovery.LostWorkers;
import dev.shepherd.engine.recovery.Timeouts;
import dev.shepherd.model.JobState;
import dev.shepherd.model.JobTimeouts;
import dev.shepherd.model.RetryPolicy;
import dev.shepherd.model.WorkerView;
import dev.shepherd.store.ClaimResult;
import dev.shepherd.store.DueEntry;
import dev.shepherd.store.NewJob;
import dev.shepherd.store.WorkerRegistry;
import dev.shepherd.testsupport.PrivateRedis;
import dev.shepherd.testsupport.ServiceEndpoints;
import dev.shepherd.testsupport.TestNames;
import dev.shepherd.testsupport.WithRealServices;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.IntSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.data.redis.core.StringRedisTemplate;

/**
 * A recovery pass that meets a frozen Redis waits in its first call (recovery keeps Lettuce's long
 * command time-out) and goes on the moment Redis thaws. What it then reads or judges is as of now,
 * while the workers have not yet renewed the leases or written the heartbeats that the outage held
 * back: a pass that went on would take back the job of a worker that is fine. Each pass must end
 * after such a call instead, so that its loop waits for the workers before it judges again ({@link
 * WorkLoop.Settle}). Found in {@code RedisOutageE2EIT}: the reaper took back a lease right after a
 * Redis restart, before its settle, and the job ran twice.
 *
 * <p>A private Redis (frozen with SIGSTOP); the settable clock stands for the outage's length, so
 * the lease, the heartbeat and the timeout below have run out by the time Redis thaws.
 */
@WithRealServices
class StalledRecoveryPassIT {

  private static final Duration TTL = Duration.ofSeconds(30);

  /** How long Redis stays frozen: longer than a prompt call ({@link RedisStall#SLOW}). */
  private static final Duration FROZEN = RedisStall.SLOW.plusMillis(700);

  private final SimpleMeterRegistry meters = new SimpleMeterRegistry();
  private PrivateRedis redis;
  private EngineFixture fixture;

  @BeforeEach
  void setUp(ServiceEndpoints shared, TestNames names) {
    redis = PrivateRedis.launch();
    fixture =
        new EngineFixture(
            new ServiceEndpoints(
                shared.rabbitmq(),
                URI.create("redis://127.0.0.1:" + redis.port()),
                "shared broker, private Redis"),
            names);
  }

  @AfterEach
  void tearDown() {
    try {
      redis.thaw();
      fixture.close();
    } finally {
      redis.close();
    }
  }

  @Test
  void theReaperDoesNotTakeBackALeaseThatRanOutWhileRedisWasFrozen() throws Exception {
    String id = runningInLastPartition("w1", JobTimeouts.NONE);
    var reaper =
        new LeaseReaper(
            fixture.store.leaseRecovery(),
            new RetryPolicy(Duration.ZERO, Duration.ZERO),
            new SplittableRandom(1),
            100,
            meters);

    Throwable ended = passThroughAFreeze(reaper::reapOnce, TTL.plusSeconds(10));

    assertThat(ended).isInstanceOf(RedisStall.class);
    assertStillRunsItsFirstAttempt(id);
  }

  @Test
  void aWorkerWhoseHeartbeatsTheFreezeHeldBackIsNotDeclaredLost() throws Exception {
    var registry = registryWith("w1", 4, Duration.ofSeconds(10));
    String id = runningInLastPartition("w1", JobTimeouts.NONE);
    var lostWorkers = new LostWorkers(fixture.store.leaseRecovery(), registry, meters);

    Throwable ended = passThroughAFreeze(lostWorkers::releaseSilentWorkers, Duration.ofSeconds(20));

    assertThat(ended).isInstanceOf(RedisStall.class);
    assertStillRunsItsFirstAttempt(id);
  }

  @Test
  void aLeaseWhoseOutcomeMarkTheFreezeHeldBackIsNotCountedAsGreed() throws Exception {
    var registry = registryWith("w1", 1, Duration.ofMinutes(5));
    // w1 finished the first job and claimed the next; the mark that says the first one's outcome
    // is on its way waits for Redis
    String finished = runningInLastPartition("w1", JobTimeouts.NONE);
    String next = runningInLastPartition("w1", JobTimeouts.NONE);
    var lostWorkers =
        new LostWorkers(
            fixture.store.leaseRecovery(), registry, meters, fixture.clock, Duration.ofSeconds(5));

    Throwable ended = passThroughAFreeze(lostWorkers::abandonOverCapacity, Duration.ofSeconds(6));

    assertThat(ended).isInstanceOf(RedisStall.class);
    assertStillRunsItsFirstAttempt(finished);
    assertStillRunsItsFirstAttempt(next);
  }

  @Test
  void theTimeoutPassDoesNotEndAnAttemptWhoseHeartbeatsTheFreezeHeldBack() throws Exception {
    String id = runningInLastPartition("w1", new JobTimeouts(null, Duration.ofSeconds(5)));
    var timeouts =
        new Timeouts(
            fixture.store.leaseRecovery(),
            new RetryPolicy(Duration.ZERO, Duration.ZERO),
            new SplittableRandom(1),
            100,
            meters,
            null);

    Throwable ended = passThroughAFreeze(timeouts::timeOutOnce, Duration.ofSeconds(10));

    assertThat(ended).isInstanceOf(RedisStall.class);
    assertStillRunsItsFirstAttempt(id);
  }

  /** A worker registry in which {@code worker} (of {@code capacity}) just beat. */
  private WorkerRegistry registryWith(String worker, int capacity, Duration lostAfter) {
    var registry =
        new WorkerRegistry(
            new StringRedisTemplate(fixture.redisConnections),
            fixture.store.settings(),
            fixture.clock,
            lostAfter);
    registry.heartbeat(
        new WorkerView(
            worker, "host", null, "default", capacity, "test", "active", null, null, null));
    return registry;
  }

  /**
   * Freezes Redis, starts {@code pass} (its first call waits for Redis), lets {@code outage} go by
   * on the clock, thaws Redis after {@link #FROZEN}, and returns how the pass ended: the exception
   * it threw, or null when it returned.
   */
  private Throwable passThroughAFreeze(IntSupplier pass, Duration outage) throws Exception {
    redis.freeze();
    CompletableFuture<Integer> passed = CompletableFuture.supplyAsync(pass::getAsInt);
    fixture.clock.advance(outage);
    Thread.sleep(FROZEN); // the freeze lasts this long by design: nothing to wait for
    redis.thaw();
    try {
      int taken = passed.get(30, TimeUnit.SECONDS);
      System.out.println("the pass went on after the freeze and took back " + taken);
      return null;
    } catch (ExecutionException e) {
      return e.getCause();
    }
  }

  /**
   * The job still runs the attempt of worker w1, whose renewal (what it sends once Redis answers
   * again) is accepted.
   */
  private void assertStillRunsItsFirstAttempt(String id) {
    var job = fixture.store.queries().find(id).orElseThrow();
    assertThat(job.state()).isEqualTo(JobState.RUNNING);
    assertThat(job.attempt()).isEqualTo(1);
    long token = job.history().getLast().fencingToken();
    assertThat(fixture.store.leases().renew(id, token, TTL)).isTrue();
  }

  /**
   * A job claimed by {@code worker} in the last partition, so that a pass meets the freeze in an
   * earlier partition's call and comes to this one after the thaw.
   */
  private String runningInLastPartition(String worker, JobTimeouts limits) {
    int last = fixture.store.leaseRecovery().partitions() - 1;
    for (int tries = 0; tries < 1_000; tries++) {
      String id =
          fixture
              .store
              .submissions()
              .submit(new NewJob("demo.noop", "default", "{}", null, null, 3, null, limits))
              .jobId();
      int partition = fixture.store.keys().partitionOf(id);
      List<DueEntry> due = fixture.store.outbox().reserveDue(partition, 100, TTL);
      fixture.store.outbox().markDispatched(partition, due);
      if (partition == last) {
        assertThat(fixture.store.leases().claim(id, 1, worker, TTL))
            .isInstanceOf(ClaimResult.Claimed.class);
        return id;
      }
    }
    throw new AssertionError("no job landed in partition " + last + " in 1,000 submissions");
  }
}
