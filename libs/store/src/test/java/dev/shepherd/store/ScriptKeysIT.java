package dev.shepherd.store;

import static org.assertj.core.api.Assertions.assertThat;

import dev.shepherd.model.JobState;
import dev.shepherd.model.JobTimeouts;
import dev.shepherd.model.Json;
import dev.shepherd.model.StatusEvent;
import dev.shepherd.testsupport.ServiceEndpoints;
import dev.shepherd.testsupport.SettableClock;
import dev.shepherd.testsupport.TestNames;
import dev.shepherd.testsupport.WithRealServices;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.data.redis.core.RedisCallback;
import org.springframework.data.redis.core.script.RedisScript;

/**
 * Every key a script touches lies in the partition it was given: it starts with the key base passed
 * as {@code KEYS[1]}, so it shares that base's hash tag and Redis Cluster slot (ADR 4, ADR 21).
 * Many keys are named by data the script reads (the job's pool, ids from an index, a batch), so
 * they cannot all be declared in {@code KEYS}; instead this test drives jobs through every store
 * operation while {@code MONITOR} records what each script ran, and checks every key of every
 * command against its call's base, and that every script ran.
 */
@WithRealServices
class ScriptKeysIT {

  private static final Duration TTL = StoreFixture.TTL;
  private static final Duration NO_BACKOFF = Duration.ZERO;

  private StoreFixture fixture;
  private SettableClock clock;
  private Store store;
  private ServiceEndpoints endpoints;

  @BeforeEach
  void connect(ServiceEndpoints endpoints, TestNames names) {
    this.endpoints = endpoints;
    fixture = new StoreFixture(endpoints, names);
    clock = fixture.clock;
    store = fixture.store;
  }

  @AfterEach
  void cleanUp() {
    fixture.close();
  }

  @Test
  void everyKeyAScriptTouchesStartsWithTheKeyBaseItWasGiven() throws Exception {
    // loaded before, so that no call is an EVALSHA refused as NOSCRIPT and sent again as EVAL
    Scripts scripts = new Scripts(store.settings());
    for (Script script : Script.values()) {
      fixture.redis.execute(
          (RedisCallback<String>)
              c ->
                  c.scriptingCommands()
                      .scriptLoad(
                          scripts
                              .get(script)
                              .getScriptAsString()
                              .getBytes(StandardCharsets.UTF_8)));
    }
    List<ScriptMonitor.Call> calls;
    try (var monitor = ScriptMonitor.start(endpoints, fixture.prefix, scriptsBySha())) {
      liveEveryOperation();
      calls = monitor.stop();
    }

    Map<Script, Integer> keysTouched = new EnumMap<>(Script.class);
    Set<String> outside = new TreeSet<>();
    Set<String> keyless = new TreeSet<>();
    Map<List<String>, List<String>> keysByCommand = new HashMap<>();
    RedisClient client =
        RedisClient.create(RedisURI.create(endpoints.redisHost(), endpoints.redisPort()));
    try (var connection = client.connect()) {
      for (ScriptMonitor.Call call : calls) {
        assertThat(call.script()).as("a script the store loaded").isNotNull();
        for (List<String> command : call.commands()) {
          List<String> keys =
              keysByCommand.computeIfAbsent(
                  command, c -> ScriptMonitor.keysOf(connection.sync(), c));
          if (keys == null && command.getFirst().equalsIgnoreCase("PUBLISH")) {
            // a channel is no key, but it is named within the partition too (wake, finished)
            if (!command.get(1).startsWith(call.base())) {
              outside.add(call.script() + " given " + call.base() + ": " + command);
            }
            continue;
          }
          if (keys == null) {
            keyless.add(command.getFirst().toUpperCase());
            continue;
          }
          for (String key : keys) {
            keysTouched.merge(call.script(), 1, Integer::sum);
            if (!key.startsWith(call.base())) {
              outside.add(call.script() + " given " + call.base() + ": " + command);
            }
          }
        }
      }
    } finally {
      client.shutdown();
    }

    // a script's commands follow its EVALSHA line: were they shown before it, the last call would
    // have none
    assertThat(calls).as("calls that ran no command").allMatch(c -> !c.commands().isEmpty());
    assertThat(keyless).as("commands without keys").isSubsetOf("TIME");
    assertThat(outside).as("commands on keys outside the call's partition").isEmpty();
    assertThat(keysTouched.keySet())
        .as("scripts seen touching keys")
        .isEqualTo(EnumSet.allOf(Script.class));
  }

  /** The Lua key helpers every script gets are rendered from Keys: they name the same keys. */
  @Test
  void theLuaKeyHelpersNameTheKeysJavaNames() {
    String base = store.keys().base(3);
    for (Keys.Name name : Keys.Name.values()) {
      boolean fixed = name.fixed();
      String lua =
          fixture.redis.execute(
              RedisScript.of(
                  Scripts.withPrelude(
                      store.settings(), "return " + name.lua + (fixed ? "" : "(ARGV[1])")),
                  String.class),
              List.of(base),
              "07-x");
      String java = store.keys().of(3, fixed ? name.relative() : name.relative("07-x"));
      assertThat(lua).as(name.toString()).isEqualTo(java);
    }
  }

  /** Each script of the store by the SHA-1 Redis knows it by. */
  private Map<String, Script> scriptsBySha() {
    Scripts scripts = new Scripts(store.settings());
    Map<String, Script> bySha = new HashMap<>();
    for (Script script : Script.values()) {
      bySha.put(scripts.get(script).getSha1().toLowerCase(), script);
    }
    return bySha;
  }

  /**
   * Jobs through every operation of the store: a job with every timeout that waits too long queued,
   * then runs attempts that time out, lose their lease, are abandoned, released by worker and by
   * attempt, and ends with a late outcome; jobs that die, are redriven, cancelled, found
   * unroutable, discarded and exhausted; unreadable input; a view; and a trim of every index.
   */
  private void liveEveryOperation() {
    String a =
        store
            .submissions()
            .submit(
                new NewJob(
                    "demo.noop",
                    "default",
                    "{\"say\":\"\\\"quoted\\\" — and not ASCII\"}",
                    "key-" + fixture.prefix,
                    null,
                    10,
                    null,
                    new JobTimeouts(
                        Duration.ofMinutes(10),
                        Duration.ofSeconds(20),
                        Map.of("render", Duration.ofSeconds(5)),
                        Duration.ofMinutes(1),
                        false)))
            .jobId();
    store
        .submissions()
        .submit(new NewJob("demo.noop", "default", "{}", "key-" + fixture.prefix, null, 10));
    int p = store.keys().partitionOf(a);

    // the outbox: reserved, given back, published; waits queued too long, published again
    store.outbox().deferDue(p, store.outbox().reserveDue(p, 100, TTL), Duration.ofSeconds(1));
    clock.advance(Duration.ofSeconds(1));
    fixture.dispatched(a);
    store.outbox().requeueStale(p, "default", Duration.ZERO, 10);
    clock.advance(Duration.ofSeconds(61));
    store.leaseRecovery().timeOutAttempts(p, 100, NO_BACKOFF);

    // attempt 1 runs, is held for its outcome, reports everything, fails retryably
    long token = fixture.claim(a, 1, "w1");
    fixture.claim(a, 1, "w1");
    store.leases().renewLease(a, token, TTL);
    store.leases().recordTask(a, token, "http", a + ".1." + token, "https://svc/" + a);
    store.leases().holdForOutcomes(p, List.of(new Leases.WaitingOutcome(a, token)), TTL);
    assertThat(store.leaseRecovery().leasesOf("w1"))
        .extracting(LeaseRecovery.HeldLease::jobId)
        .contains(a);
    Instant at = clock.instant();
    report(new StatusEvent.PhaseStarted(a, "demo.noop", 1, token, 1, "w1", at, "render"));
    report(new StatusEvent.PhaseEnded(a, "demo.noop", 1, token, 2, "w1", at, "render"));
    report(new StatusEvent.Progress(a, "demo.noop", 1, token, 3, "w1", at, 50, "half"));
    report(
        new StatusEvent.Heartbeat(
            a, "demo.noop", 1, token, 4, "w1", at, Json.mapper().readTree("{\"step\":1}")));
    report(new StatusEvent.Failed(a, "demo.noop", 1, token, 5, "w1", at, "flaky", true));
    // an operator makes it due now; the console reads what finished per minute
    store.retries().retryNow(a, "ops");
    store.queries().finishedPerMinute(60);

    // attempt 2 stalls, 3 loses its lease, 4 is abandoned, 5 is released with its worker
    next(a, 2, "w1");
    clock.advance(Duration.ofSeconds(21));
    store.leaseRecovery().timeOutAttempts(p, 100, NO_BACKOFF);
    next(a, 3, "w2");
    clock.advance(TTL.plusSeconds(1));
    store.leaseRecovery().reapExpiredLeases(p, 10, NO_BACKOFF);
    next(a, 4, "w3");
    store.leaseRecovery().abandon(a, "w3", "over capacity");
    next(a, 5, "w4");
    store.leaseRecovery().releaseLeasesOf("w4", "pod gone");

    // attempt 6 is released by a draining worker, and its outcome comes after the release
    long sixth = next(a, 6, "w5");
    store.leases().releaseAttempts(List.of(new Leases.AttemptToken(a, sixth)), "draining");
    report(new StatusEvent.Succeeded(a, "demo.noop", 6, sixth, 1, "w5", clock.instant()));
    assertThat(fixture.view(a).state()).isEqualTo(JobState.SUCCEEDED);

    // a permanent failure is redriven, then cancelled while queued
    String b = fixture.claimed(3, JobTimeouts.NONE, "w1");
    long bToken = fixture.token(b);
    report(new StatusEvent.Failed(b, "demo.noop", 1, bToken, 1, "w1", at, "bad input", false));
    store.deadJobs().redrive(b, "ops");
    store.cancels().cancel(b, "ops", "not needed");

    // a client awaits a running job, whose cancel then publishes its end
    String awaited = fixture.claimed(3, JobTimeouts.NONE, "w1");
    assertThat(store.queries().await(awaited)).contains(JobState.RUNNING);
    store.cancels().cancel(awaited, "ops", "");

    // cancels of a running and a scheduled job
    store.cancels().cancel(fixture.claimed(3, JobTimeouts.NONE, "w1"), "ops", "");
    String scheduled =
        store
            .submissions()
            .submit(
                new NewJob(
                    "demo.noop", "default", "{}", null, clock.instant().plusSeconds(3600), 3))
            .jobId();
    store.cancels().cancel(scheduled, "ops", "");

    // no pool takes it: DEAD, its record discarded
    String d = fixture.submitted(JobTimeouts.NONE);
    int dp = store.keys().partitionOf(d);
    List<Outbox.Unroutable> unroutable = new ArrayList<>();
    for (DueEntry entry : store.outbox().reserveDue(dp, 100, TTL)) {
      unroutable.add(new Outbox.Unroutable(entry, "no pool takes demo.noop"));
    }
    store.outbox().endUnroutable(dp, unroutable);
    store.deadJobs().discardDead(d, "ops");

    // a released last attempt whose outcome never comes
    String e = fixture.claimed(1, JobTimeouts.NONE, "w1");
    int ep = store.keys().partitionOf(e);
    clock.advance(TTL.plusSeconds(1));
    store.leaseRecovery().reapExpiredLeases(ep, 10, NO_BACKOFF);
    clock.advance(store.settings().lateOutcomeGrace().plusSeconds(1));
    store.outbox().reserveDue(ep, 100, TTL);

    store.deadJobs().recordDead(null, null, "malformed", "submit", "{oops");
    fixture.view(a);

    // past every retention: each index of each partition trimmed
    clock.advance(store.settings().deadRetention().plusDays(1));
    for (int partition = 0; partition < store.keys().partitions(); partition++) {
      for (Indexes.Index index : store.indexes().trimmedIndexes(List.of("default"))) {
        store.indexes().trimIndex(partition, index, 0, 100);
      }
    }
  }

  private void report(StatusEvent event) {
    store.reports().report(event, NO_BACKOFF);
  }

  /** The job's next attempt published and claimed by {@code worker}: its fencing token. */
  private long next(String id, int attempt, String worker) {
    fixture.dispatched(id);
    return fixture.claim(id, attempt, worker);
  }
}
