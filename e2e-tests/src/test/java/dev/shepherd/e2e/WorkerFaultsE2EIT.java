package dev.shepherd.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.shepherd.client.ShepherdClient;
import dev.shepherd.e2e.metrics.Scrape;
import dev.shepherd.model.JobEvent;
import dev.shepherd.model.JobState;
import dev.shepherd.model.JobSubmission;
import dev.shepherd.model.JobView;
import dev.shepherd.model.Json;
import dev.shepherd.model.MetricNames;
import dev.shepherd.testsupport.ManagedProcess;
import dev.shepherd.testsupport.ServiceEndpoints;
import dev.shepherd.testsupport.TestNames;
import dev.shepherd.testsupport.WithRealServices;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.springframework.data.redis.core.StringRedisTemplate;

/**
 * A worker that goes away in the middle of its work, three ways, on one cluster (the four services
 * with a 3 s lease TTL and a 50 ms first retry; two workers at the start): killed while it runs
 * jobs, stopped or killed after its jobs published their outcomes, frozen and resumed. They were
 * three classes with the same configuration, each starting its own cluster (ADR 47).
 *
 * <p>Each test starts from the workers the one before left running, all idle: it checks how many
 * run, starts the ones it needs ({@link Cluster#addWorker()}), and never uses a worker another test
 * killed, stopped or froze. The counters it reads are deltas taken around its own fault, since the
 * workers and the status-tracker have served earlier tests. Every test ends with no message and no
 * lease left, so the next one starts clean; the order is fixed.
 */
@WithRealServices
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class WorkerFaultsE2EIT {

  private static final Duration LEASE_TTL = Duration.ofSeconds(3);
  private static final String STALE = "shepherd_status_stale_reports_total";
  private static final String LEASES_LOST = "shepherd_worker_leases_lost_total";

  /**
   * Jobs of each round of {@link
   * #aWorkerStoppedOrKilledAfterItsJobsPublishedLosesNoneOfTheirOutcomes}.
   */
  private static final int JOBS = 12;

  private E2eSupport e2e;
  private ShepherdClient client;

  @BeforeAll
  void start(ServiceEndpoints endpoints, TestNames names) {
    e2e =
        new E2eSupport(
            endpoints,
            names.prefix(),
            2,
            Map.of(
                "shepherd.store.lease-ttl",
                LEASE_TTL.toMillis() + "ms",
                "shepherd.store.retry-initial-backoff",
                "50ms",
                // the status queue's way, which a worker takes when Redis does not take its
                // events (ADR 56): outcomes that wait in the queue for a stopped status-tracker,
                // late reports the tracker refuses
                Cluster.only("worker", "shepherd.worker.reports.direct"),
                "false"));
    client = e2e.cluster.client().build();
  }

  @AfterAll
  void stop() {
    if (client != null) {
      client.close();
    }
    if (e2e != null) {
      e2e.close();
    }
  }

  /** The workers running now, oldest first. */
  private List<ManagedProcess> runningWorkers() {
    return e2e.cluster.workers().stream().filter(ManagedProcess::isAlive).toList();
  }

  /** A worker killed with SIGKILL in the middle of its jobs: they all finish elsewhere. */
  @Test
  @Order(1)
  void everyJobOfAKilledWorkerFinishesElsewhereAfterTheLeaseTtl() throws Exception {
    List<ManagedProcess> running = runningWorkers();
    assertThat(running).as("the cluster's two workers, fresh").hasSize(2);
    ManagedProcess victim = running.get(0);
    String victimId = victim.name();

    List<String> ids = new ArrayList<>();
    for (int i = 0; i < 24; i++) {
      var payload = Json.mapper().createObjectNode().put("site", "k" + i).put("phaseMillis", 700);
      ids.add(client.submit(JobSubmission.of("site.generate", payload)).jobId());
    }
    List<String> held = new ArrayList<>();
    await()
        .atMost(Duration.ofSeconds(60))
        .until(
            () -> {
              held.clear();
              for (String id : ids) {
                Optional<JobView> job = client.get(id);
                if (job.isPresent()
                    && job.get().state() == JobState.RUNNING
                    && victimId.equals(job.get().workerId())) {
                  held.add(id);
                }
              }
              return held.size() >= 2;
            });
    victim.kill();
    assertThat(victim.isAlive()).isFalse();

    List<CompletableFuture<JobView>> finals =
        ids.stream().map(id -> client.await(id, Duration.ofMinutes(3))).toList();
    CompletableFuture.allOf(finals.toArray(CompletableFuture[]::new)).get();
    for (CompletableFuture<JobView> f : finals) {
      JobView job = f.get();
      assertThat(job.state()).as(job.id()).isEqualTo(JobState.SUCCEEDED);
      if (held.contains(job.id())) {
        assertThat(job.attempt()).as(job.id()).isGreaterThan(1);
        assertThat(job.workerId()).as(job.id()).isNotEqualTo(victimId);
        assertThat(job.history())
            .as(job.id())
            .anySatisfy(h -> assertThat(h.event()).isEqualTo(JobEvent.LEASE_EXPIRED));
      }
    }
    e2e.assertNothingLeftOver();
  }

  /**
   * A published outcome survives the release of its lease (issue 11, item 2; ADR 14): a worker
   * stops or dies after its jobs published their outcomes and before the status-tracker applied
   * them. The tracker is stopped so the outcomes wait in the status queue. Every job must end
   * SUCCEEDED by its first attempt.
   *
   * <p>Both ways a worker goes: the one worker left running by the test before is stopped with
   * SIGTERM (it drains), a new one killed with SIGKILL, each after its jobs published their
   * outcomes and while the status-tracker is stopped. No other worker runs until the tracker
   * applied them, so no newer claim exists; a third worker then takes whatever was dispatched again
   * meanwhile, and must find nothing to run.
   */
  @Test
  @Order(2)
  void aWorkerStoppedOrKilledAfterItsJobsPublishedLosesNoneOfTheirOutcomes() throws Exception {
    List<ManagedProcess> running = runningWorkers();
    assertThat(running).as("no other worker may claim the jobs").hasSize(1);
    var redis = new StringRedisTemplate(e2e.redis);

    e2e.cluster.stopService("status-tracker");
    ManagedProcess first = running.get(0);
    List<String> drained = submitAndAwaitOutcomes(redis, first);
    first.stop(Duration.ofSeconds(20)); // SIGTERM: the worker drains
    assertThat(first.isAlive()).isFalse();
    e2e.cluster.startService("status-tracker");
    assertEverySucceededByItsFirstAttempt(drained, first.name());

    ManagedProcess second = e2e.cluster.addWorker();
    e2e.cluster.stopService("status-tracker");
    List<String> killed = submitAndAwaitOutcomes(redis, second);
    second.kill();
    assertThat(second.isAlive()).isFalse();
    e2e.cluster.startService("status-tracker");
    assertEverySucceededByItsFirstAttempt(killed, second.name());

    // work messages published for a second attempt before the outcome came are refused
    e2e.cluster.addWorker();
    e2e.assertNothingLeftOver();
    assertEverySucceededByItsFirstAttempt(drained, first.name());
    assertEverySucceededByItsFirstAttempt(killed, second.name());
  }

  /**
   * A worker frozen with SIGSTOP loses its leases after the TTL; its jobs run again elsewhere. It
   * is resumed with SIGCONT while those new attempts run: whatever it still reports for its old
   * attempts before its lease keeper cancels them is refused as stale (counted by the
   * status-tracker) and changes nothing; each job ends from its new attempt, whose token and worker
   * the SUCCEED line carries. (Which comes first after SIGCONT, a handler's late report or the
   * keeper's cancel, is a race between two of the worker's threads; FencingMutationE2EIT and
   * BadInputE2EIT prove the refusal of stale reports without it.)
   *
   * <p>The worker frozen is the one the test before left running, idle; the one that takes its jobs
   * over is started here.
   */
  @Test
  @Order(3)
  void aFrozenWorkersJobsFinishElsewhereAndItsLateReportsChangeNothing() throws Exception {
    List<ManagedProcess> running = runningWorkers();
    assertThat(running).as("the worker left running by the test before").hasSize(1);
    ManagedProcess frozen = running.get(0);
    ManagedProcess other = e2e.cluster.addWorker();
    String otherId = other.name();
    var tracker = List.of(e2e.cluster.httpUris().get("status-tracker"));
    var frozenUri = List.of(e2e.cluster.httpUris().get(frozen.name()));
    double lostAtStart = Scrape.of(frozenUri).sum(LEASES_LOST);

    // Eight jobs of three 4 s phases, for two workers of capacity 4: both run some, and each
    // attempt outlives the 3 s lease. A new attempt runs 12 s, so the frozen worker's late
    // reports land while it runs even when a loaded machine thaws the worker slowly (with 6 s
    // attempts a CI run saw every new attempt finish first).
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      var payload = Json.mapper().createObjectNode().put("site", "f" + i).put("phaseMillis", 4000);
      ids.add(client.submit(JobSubmission.of("site.generate", payload)).jobId());
    }
    List<String> held = new ArrayList<>();
    await()
        .atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofMillis(50))
        .until(
            () -> {
              held.clear();
              for (String id : ids) {
                JobView job = client.get(id).orElseThrow();
                if (job.state() == JobState.RUNNING && frozen.name().equals(job.workerId())) {
                  held.add(id);
                }
              }
              return !held.isEmpty();
            });
    frozen.pause();

    // The frozen worker's leases expire; the other worker claims and runs the new attempts. Resume
    // it once every one has started, while some still run.
    await()
        .atMost(Duration.ofSeconds(90))
        .pollInterval(Duration.ofMillis(50))
        .until(
            () -> {
              List<JobView> now = held.stream().map(id -> client.get(id).orElseThrow()).toList();
              return now.stream()
                      .allMatch(
                          j ->
                              j.attempt() > 1
                                  && otherId.equals(j.workerId())
                                  && (j.state() == JobState.RUNNING
                                      || j.state() == JobState.SUCCEEDED))
                  && now.stream().anyMatch(j -> j.state() == JobState.RUNNING);
            });
    double staleBefore = Scrape.of(tracker).sum(STALE);
    double lostBefore = Scrape.of(frozenUri).sum(LEASES_LOST);
    frozen.resume();

    // Its phases overran while it was frozen. Once resumed, two of its threads race: a handler
    // reports its phase's end with the old token (refused as stale), or its lease keeper finds
    // the lease gone first and cancels the attempt, which then reports nothing more. Either way
    // the old attempts change nothing; wait until one of the two has happened for them.
    await()
        .atMost(Duration.ofSeconds(20))
        .pollInterval(Duration.ofMillis(50))
        .until(
            () ->
                Scrape.of(tracker).sum(STALE) > staleBefore
                    || Scrape.of(frozenUri).sum(LEASES_LOST) >= lostBefore + held.size());
    System.out.printf(
        "frozen worker resumed: %.0f stale reports refused, %.0f of its %d attempts cancelled by"
            + " their lease keeper%n",
        Scrape.of(tracker).sum(STALE) - staleBefore,
        Scrape.of(frozenUri).sum(LEASES_LOST) - lostBefore,
        held.size());
    List<JobView> whenRefused = held.stream().map(id -> client.get(id).orElseThrow()).toList();
    assertThat(whenRefused)
        .as("the jobs when the frozen worker's reports were refused")
        .allSatisfy(
            j -> {
              assertThat(j.attempt()).isGreaterThan(1);
              assertThat(j.workerId()).isEqualTo(otherId);
              assertThat(j.state()).isIn(JobState.RUNNING, JobState.SUCCEEDED);
            });
    assertThat(whenRefused)
        .as("a new attempt was still running when the stale reports came")
        .anySatisfy(j -> assertThat(j.state()).isEqualTo(JobState.RUNNING));

    List<CompletableFuture<JobView>> finals =
        ids.stream().map(id -> client.await(id, Duration.ofMinutes(2))).toList();
    CompletableFuture.allOf(finals.toArray(CompletableFuture[]::new)).get();
    for (int i = 0; i < held.size(); i++) {
      JobView job = client.get(held.get(i)).orElseThrow();
      assertThat(job.state()).as(job.id()).isEqualTo(JobState.SUCCEEDED);
      assertThat(job.attempt()).as(job.id()).isEqualTo(whenRefused.get(i).attempt());
      assertThat(job.workerId()).as(job.id()).isEqualTo(otherId);
    }
    OutcomeAudit audit = OutcomeAudit.of(e2e.cluster.schedulerUri(), ids);
    System.out.println("frozen worker: " + audit.summary());
    assertThat(audit.violations()).as("outcomes not from the newest attempt").isEmpty();
    assertThat(audit.count(JobState.SUCCEEDED)).isEqualTo(ids.size());

    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> Scrape.of(frozenUri).sum(LEASES_LOST) >= lostAtStart + 1);
    e2e.assertNothingLeftOver();
  }

  /**
   * Submits {@link #JOBS} jobs and waits until each one's outcome is published, not applied: its
   * lease marked and its outcome in the status queue (the status-tracker is stopped, and a no-op
   * job sends nothing else).
   */
  private List<String> submitAndAwaitOutcomes(StringRedisTemplate redis, ManagedProcess worker) {
    // the worker may have published outcomes for an earlier test: count this test's from here
    double publishedBefore = e2e.cluster.metric(worker.name(), MetricNames.OUTCOMES_PUBLISHED);
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < JOBS; i++) {
      var payload = Json.mapper().createObjectNode().put("n", i);
      ids.add(client.submit(JobSubmission.of("demo.noop", payload)).jobId());
    }
    // every handler finished, the broker confirmed its outcome and the lease is marked. A no-op
    // job's lease is marked by the worker's beat of the leases waiting for their outcome, a
    // second at most after the publish (ADR 37); a longer job's just before it publishes, so the
    // mark alone does not say the outcome was sent: a worker killed right after the last mark had
    // not published that job's outcome, and the job waited in RETRY_WAIT for a worker the test had
    // not started yet. The worker counts the outcomes the broker confirmed; the status messages
    // are fewer when several outcomes shared one (ADR 36).
    await()
        .atMost(Duration.ofMinutes(3))
        .until(
            () ->
                ids.stream().allMatch(id -> outcomeMarked(redis, e2e.prefix, id))
                    && e2e.cluster.metric(worker.name(), MetricNames.OUTCOMES_PUBLISHED)
                        >= publishedBefore + JOBS
                    && e2e.messagesIn(e2e.topology.statusQueue()) >= 1);
    return ids;
  }

  private void assertEverySucceededByItsFirstAttempt(List<String> ids, String worker)
      throws Exception {
    List<CompletableFuture<JobView>> finals =
        ids.stream().map(id -> client.await(id, Duration.ofMinutes(4))).toList();
    CompletableFuture.allOf(finals.toArray(CompletableFuture[]::new)).get();
    for (CompletableFuture<JobView> f : finals) {
      JobView job = f.get();
      assertThat(job.state()).as(job.id()).isEqualTo(JobState.SUCCEEDED);
      assertThat(job.attempt()).as(job.id()).isEqualTo(1);
      assertThat(job.history())
          .as(job.id())
          .filteredOn(h -> h.event() == JobEvent.CLAIM)
          .singleElement()
          .satisfies(h -> assertThat(h.workerId()).isEqualTo(worker));
      assertThat(job.history().getLast())
          .as(job.id())
          .satisfies(
              h -> {
                assertThat(h.event()).isEqualTo(JobEvent.SUCCEED);
                assertThat(h.workerId()).isEqualTo(worker);
              });
    }
  }

  /** The worker's mark on a lease it keeps for its outcome (read from Redis). */
  private static boolean outcomeMarked(StringRedisTemplate redis, String prefix, String id) {
    String partition = id.substring(0, id.indexOf('-'));
    return redis.opsForHash().get("%s:{p%s}:job:%s".formatted(prefix, partition, id), "outcomeAt")
        != null;
  }
}
