package dev.shepherd.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * After an outage a settling loop passes again only once Redis takes writes and the settle period
 * has gone by: the lease reaper and the over-capacity check must not judge workers by leases they
 * could not mark while Redis was down.
 */
class WorkLoopTest {

  private static final Duration PERIOD = Duration.ofMillis(600);
  private static final Duration BACKOFF = Duration.ofMillis(20);

  @Test
  void noPassRunsWhileRedisRefusesWritesAndTheFirstWaitsForTheSettlePeriod() {
    var writable = new AtomicBoolean(false);
    var writableSince = new AtomicLong();
    var probes = new AtomicInteger();
    var settle =
        new WorkLoop.Settle(
            () -> {
              // Redis is out of memory until the fifth probe: a pass could still read and delete
              if (probes.incrementAndGet() == 5) {
                writableSince.set(System.nanoTime());
                writable.set(true);
              }
              return writable.get();
            },
            PERIOD);
    List<Long> passes = passes(settle, 2, pass -> {});
    assertThat(probes).as("probes of Redis").hasValueGreaterThanOrEqualTo(5);
    assertThat(passes.get(0) - writableSince.get())
        .as("nanoseconds from Redis taking writes to the first pass")
        .isGreaterThanOrEqualTo(PERIOD.toNanos());
  }

  @Test
  void aProbeHeldUpByAFrozenRedisCountsAsAnOutage() {
    var probes = new AtomicInteger();
    var thawed = new AtomicLong();
    var settle =
        new WorkLoop.Settle(
            () -> {
              if (probes.incrementAndGet() == 1) {
                try {
                  // The probe itself is slow on purpose: this is the frozen Redis under test (a
                  // write that returns late), not a wait for a result; the assertions measure
                  // what the loop did after it returned.
                  Thread.sleep(RedisStall.SLOW.plusMillis(200));
                } catch (InterruptedException e) {
                  Thread.currentThread().interrupt();
                }
                thawed.set(System.nanoTime());
              }
              return true;
            },
            PERIOD);
    List<Long> passes = passes(settle, 1, pass -> {});
    assertThat(passes.get(0) - thawed.get())
        .as("nanoseconds from the thaw to the first pass")
        .isGreaterThanOrEqualTo(PERIOD.toNanos());
  }

  @Test
  void anOutageThatComesBackDuringTheSettleHoldsThePassUntilRedisIsBackAndSettledAgain() {
    var probes = new AtomicInteger();
    var back = new AtomicLong(); // when Redis first took writes again
    long half = PERIOD.toNanos() / 2;
    var settle =
        new WorkLoop.Settle(
            () -> {
              long now = System.nanoTime();
              if (probes.incrementAndGet() == 1) {
                return false; // the outage under test
              }
              back.compareAndSet(0, now);
              long since = now - back.get();
              // away again from half a period after it came back, for a whole period: the restart
              // that follows a freeze while the loop settles
              return since < half || since >= 3 * half;
            },
            PERIOD);
    List<Long> passes = passes(settle, 1, pass -> {});
    assertThat(passes.get(0) - back.get())
        .as("nanoseconds from Redis first coming back to the first pass")
        .isGreaterThanOrEqualTo(3 * half + PERIOD.toNanos());
  }

  @Test
  void aRedisThatAnswersEveryCallSlowlyStillGetsPassesAndOnlyAMuchSlowerCallEndsOne() {
    var probes = new AtomicInteger();
    var settle =
        new WorkLoop.Settle(
            () -> {
              probes.incrementAndGet();
              try {
                // Every probe is slow on purpose: this is the slow Redis under test (swapping, an
                // overloaded host), not a wait for a result.
                Thread.sleep(RedisStall.SLOW.plusMillis(100));
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
              return true;
            },
            PERIOD,
            3);
    Duration asSlowAsTheProbes = RedisStall.SLOW.plusMillis(200);
    List<String> ends = new CopyOnWriteArrayList<>();
    List<Long> passes =
        passes(
            settle,
            2,
            pass -> {
              // a call as slow as the probes, then (in the second pass) one five times slower
              Duration took = pass == 1 ? asSlowAsTheProbes : asSlowAsTheProbes.multipliedBy(5);
              try {
                RedisStall.endPassIfSlow(System.nanoTime() - took.toNanos(), "a call");
                ends.add("went on after " + took.toMillis() + " ms");
              } catch (RedisStall stalled) {
                ends.add("ended after " + took.toMillis() + " ms");
                throw stalled;
              }
            });
    assertThat(probes).as("probes before Redis counts as slow").hasValueGreaterThanOrEqualTo(3);
    assertThat(ends)
        .as("what each pass did after its slow call")
        .startsWith("went on after 1200 ms", "ended after 6000 ms");
    assertThat(passes).hasSizeGreaterThanOrEqualTo(2);
  }

  @Test
  void afterAFailedPassTheNextWaitsForTheSettlePeriod() {
    var settle = new WorkLoop.Settle(() -> true, PERIOD);
    List<Long> passes =
        passes(
            settle,
            2,
            pass -> {
              if (pass == 1) {
                throw new IllegalStateException("Redis is down");
              }
            });
    assertThat(passes.get(1) - passes.get(0))
        .as("nanoseconds from the failed pass to the next")
        .isGreaterThanOrEqualTo(PERIOD.toNanos());
  }

  @Test
  void aPassThatHungLongerThanThePeriodIsFollowedByASettle() {
    var probes = new AtomicInteger();
    var settle =
        new WorkLoop.Settle(
            () -> {
              probes.incrementAndGet();
              return true;
            },
            PERIOD);
    List<Long> passes =
        passes(
            settle,
            2,
            pass -> {
              if (pass == 1) {
                try {
                  // The pass itself hangs on purpose (a pass stuck on a frozen Redis): the fault
                  // under test, not a wait for a result.
                  Thread.sleep(PERIOD.plusMillis(100));
                } catch (InterruptedException e) {
                  Thread.currentThread().interrupt();
                }
              }
            });
    assertThat(probes).as("a probe before each pass").hasValueGreaterThanOrEqualTo(2);
    assertThat(passes.get(1) - passes.get(0))
        .as("nanoseconds between the hung pass's start and the next pass")
        .isGreaterThanOrEqualTo(PERIOD.multipliedBy(2).plusMillis(100).toNanos());
  }

  @Test
  void aLoopWithoutSettleRetriesAFailedPassAfterItsBackoff() {
    List<Long> passes =
        passes(
            null,
            2,
            pass -> {
              if (pass == 1) {
                throw new IllegalStateException("Redis is down");
              }
            });
    assertThat(passes.get(1) - passes.get(0)).isGreaterThanOrEqualTo(BACKOFF.toNanos());
  }

  /** What a pass does besides being counted: {@code pass} is its number, from 1. */
  @FunctionalInterface
  private interface Pass {
    void run(int pass);
  }

  /**
   * Runs a loop with {@code settle} (null for none) until it has passed {@code count} times, and
   * returns when each pass began ({@link System#nanoTime()}).
   */
  private static List<Long> passes(WorkLoop.Settle settle, int count, Pass pass) {
    List<Long> passes = new CopyOnWriteArrayList<>();
    try (var loop =
        new WorkLoop(
            "test",
            () -> {
              passes.add(System.nanoTime());
              pass.run(passes.size());
              return 0;
            },
            Duration.ofMillis(10),
            BACKOFF,
            settle)) {
      loop.start();
      await().atMost(Duration.ofSeconds(10)).until(() -> passes.size() >= count);
    }
    return passes;
  }
}
