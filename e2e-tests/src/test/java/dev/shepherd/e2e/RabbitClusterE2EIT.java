package dev.shepherd.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.shepherd.client.ShepherdClient;
import dev.shepherd.messaging.Topology;
import dev.shepherd.model.JobState;
import dev.shepherd.model.JobSubmission;
import dev.shepherd.model.Json;
import dev.shepherd.model.MetricNames;
import dev.shepherd.testsupport.ManagedProcess;
import dev.shepherd.testsupport.PrivateRabbit;
import dev.shepherd.testsupport.PrivateRabbitCluster;
import dev.shepherd.testsupport.ServiceEndpoints;
import dev.shepherd.testsupport.TestNames;
import dev.shepherd.testsupport.WithRealServices;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.awaitility.core.ConditionTimeoutException;
import org.junit.jupiter.api.Test;

/**
 * The services on a three-node RabbitMQ cluster (private, on this machine: {@link
 * PrivateRabbitCluster}), connected with the address list in random order, and the shared Redis
 * under the test's prefix. While jobs come at a steady pace, the node leading the work queue is
 * killed (SIGKILL), left down until jobs succeed again through the other two, and started again;
 * then the node holding the most client connections is killed and started the same way.
 *
 * <p>Every queue of the topology is a quorum queue with a member on each node, before the faults
 * and after each restart. At the end: exactly the accepted jobs exist, each SUCCEEDED in exactly
 * one terminal transition, from the attempt holding the newest fencing token; no queue holds a
 * message (ready or unacknowledged) and no lease is left. A job may run twice (at-least-once: a
 * delivery whose ack was lost with its node comes back); those re-runs are counted and printed.
 *
 * <p>The test's own broker connection ({@link E2eSupport#rabbit}) is given the same address list,
 * so it follows the cluster past both kills rather than relying on a node that is never killed.
 */
@WithRealServices
class RabbitClusterE2EIT {

  private static final int JOBS = 300;
  private static final Duration PACE = Duration.ofMillis(30);

  /** Jobs an AMQP producer submits while each killed node is down (one more before the kill). */
  private static final int AMQP_JOBS = 10;

  /** Every job: the steady submitter's over HTTP and the AMQP producers' of both faults. */
  private static final int ALL = JOBS + 2 * (1 + AMQP_JOBS);

  /** Jobs that must succeed after a kill, with the node still down, to count as flowing again. */
  private static final int FLOWING = 10;

  @Test
  void everyAcceptedJobSucceedsOnceWhileTwoNodesOfTheClusterAreKilledAndRestartedInTurn(
      ServiceEndpoints shared, TestNames names) {
    long started = System.nanoTime();
    try (var rabbit = PrivateRabbitCluster.launch()) {
      log(started, "three RabbitMQ nodes clustered: " + rabbit.addresses());
      try {
        run(rabbit, shared, names, started);
      } catch (Throwable failed) {
        // the nodes' logs go with their directories at close: keep them for whoever looks next
        log(started, "failed; the nodes' directories are kept: " + rabbit.keepDirectories());
        throw failed;
      }
    }
  }

  private static void run(
      PrivateRabbitCluster rabbit, ServiceEndpoints shared, TestNames names, long started) {
    try (var e2e =
            new E2eSupport(
                onCluster(rabbit, shared),
                names.prefix(),
                2,
                Map.of(
                    "spring.rabbitmq.addresses", rabbit.addresses(),
                    "spring.rabbitmq.address-shuffle-mode", "random",
                    "shepherd.store.lease-ttl", "5000ms",
                    "shepherd.store.retry-initial-backoff", "50ms"));
        var client = e2e.cluster.client().build();
        var submitter =
            new SteadySubmitter(client, names.prefix(), JOBS, PACE, 20, 10, 0, 20, JOBS / 6)) {
      log(started, "services up; connections by node: " + rabbit.connectionsByNode());
      assertReplicatedOnEveryNode(rabbit, e2e.topology);
      String workQueue = e2e.topology.workQueue(e2e.topology.poolOf("site.generate"));

      // The submitter waits at a mark while a victim is chosen (each rabbitmqctl call takes a
      // second or more here), and is let on just before the kill, so that jobs are being
      // submitted and run when the node dies and while it is down.
      submitter.awaitAccepted(JOBS / 6, Duration.ofMinutes(2));
      PrivateRabbit first = rabbit.node(queue(rabbit, workQueue).leader());
      submitter.allowUpTo(JOBS / 2);
      submitter.awaitAccepted(JOBS / 6 + JOBS / 30, Duration.ofMinutes(1));
      Recovery one = killAndRestart(rabbit, first, "leads " + workQueue, e2e, started);

      submitter.awaitAccepted(JOBS / 2, Duration.ofMinutes(2));
      Map<String, Integer> connections = rabbit.connectionsByNode();
      PrivateRabbit second =
          rabbit.node(
              connections.entrySet().stream()
                  .filter(c -> !c.getKey().equals(first.nodeName()))
                  .max(Map.Entry.comparingByValue())
                  .map(Map.Entry::getKey)
                  .orElseThrow(() -> new AssertionError("no client connection: " + connections)));
      submitter.allowUpTo(JOBS);
      submitter.awaitAccepted(JOBS / 2 + JOBS / 30, Duration.ofMinutes(1));
      Recovery two =
          killAndRestart(rabbit, second, "holds the most connections " + connections, e2e, started);

      submitter.awaitAll(Duration.ofMinutes(2));
      List<String> accepted = new ArrayList<>(submitter.accepted());
      accepted.addAll(AmqpProducer.jobIds(client, one.amqpKeys()));
      accepted.addAll(AmqpProducer.jobIds(client, two.amqpKeys()));
      OutcomeAudit.awaitAllTerminal(client, accepted, Duration.ofMinutes(3));
      log(started, "all accepted jobs in a terminal state");
      OutcomeAudit audit = OutcomeAudit.of(e2e.cluster.schedulerUri(), accepted);
      Set<String> inRedis = e2e.jobsInRedis();
      e2e.assertNothingLeftOver();
      await()
          .atMost(Duration.ofSeconds(30))
          .untilAsserted(
              () ->
                  assertThat(ours(rabbit, e2e.topology))
                      .as("messages ready or unacknowledged in the test's queues")
                      .allSatisfy(q -> assertThat(q.messages()).as(q.name()).isZero()));
      double duplicates =
          e2e.cluster.workers().stream()
              .mapToDouble(w -> e2e.cluster.metric(w.name(), MetricNames.DUPLICATE_DELIVERIES))
              .sum();
      System.out.printf(
          "RABBIT CLUSTER RESULT: %s; %d jobs under the prefix in Redis; %.0f duplicate"
              + " deliveries acked unrun; %d submission tries refused or unanswered and retried;"
              + " %s; %s; %.0f s in all%n",
          audit.summary(),
          inRedis.size(),
          duplicates,
          submitter.refusedTries(),
          one,
          two,
          seconds(started));

      assertThat(audit.violations()).isEmpty();
      assertThat(accepted).hasSize(ALL).doesNotHaveDuplicates();
      assertThat(inRedis)
          .as("the jobs under the test's prefix: exactly those accepted, none made twice")
          .containsExactlyInAnyOrderElementsOf(accepted);
      assertThat(audit.exactlyOneTerminal()).isEqualTo(ALL);
      assertThat(audit.count(JobState.SUCCEEDED)).as("jobs that SUCCEEDED").isEqualTo(ALL);
      assertThat(audit.succeededWithCurrentToken()).isEqualTo(ALL);
      // a worker's orders queue is classic: it lives on the node its worker connected to and
      // goes with that node; the worker declares it again wherever it reconnects
      for (var worker : e2e.cluster.workers()) {
        String control = e2e.topology.workerControlQueue(worker.name());
        await()
            .atMost(Duration.ofSeconds(30))
            .untilAsserted(
                () ->
                    assertThat(queue(rabbit, control))
                        .as(control + " after both kills")
                        .satisfies(q -> assertThat(q.type()).isEqualTo("classic"))
                        .satisfies(q -> assertThat(q.consumers()).isOne()));
      }
    }
  }

  /**
   * How one node's fault went, in seconds from its SIGKILL.
   *
   * @param connections client connections it held when killed
   * @param flowing until {@link #FLOWING} more jobs SUCCEEDED, the node still down
   * @param amqp until {@link #AMQP_JOBS} submissions of an AMQP producer connected to it were
   *     confirmed, after {@code flowing}, the node still down
   * @param back until it accepted AMQP connections again, after a start at {@code flowing}
   * @param whole until every node counted three running and each of the test's queues had all three
   *     members online again
   */
  private record Recovery(
      String node,
      String why,
      int connections,
      double flowing,
      double amqp,
      List<String> amqpKeys,
      long amqpRefused,
      double back,
      double whole) {

    @Override
    public String toString() {
      return String.format(
          "%s (%s, %d connections) killed: jobs succeeded again after %.1f s, %d AMQP submissions"
              + " confirmed by %.1f s (%d tries refused), node back after %.1f s, queues whole"
              + " after %.1f s",
          node, why, connections, flowing, amqpKeys.size(), amqp, amqpRefused, back, whole);
    }
  }

  /**
   * A producer submitting over AMQP with the Java client, given the cluster's addresses with the
   * victim's first, and connected to it before it dies. Each submission is published again with its
   * own key until the broker confirms it.
   */
  private static final class AmqpProducer implements AutoCloseable {

    private final String prefix;
    private final ShepherdClient client;
    private final List<String> keys = new ArrayList<>();
    private long refused;
    private RuntimeException lastRefusal;

    AmqpProducer(PrivateRabbitCluster rabbit, PrivateRabbit victim, E2eSupport e2e) {
      this.prefix = e2e.prefix + "-amqp-" + victim.port();
      this.client =
          e2e.cluster
              .client()
              .prefix(e2e.prefix)
              .requestTimeout(Duration.ofSeconds(5))
              // no path: "/" would name the virtual host "" rather than the default "/"
              .amqpUri(URI.create("amqp://guest:guest@127.0.0.1:" + victim.port()))
              // the victim first, so that the producer is surely connected to it when it dies
              .amqpAddresses(
                  Stream.concat(
                          Stream.of(victim), rabbit.nodes().stream().filter(node -> node != victim))
                      .map(node -> "127.0.0.1:" + node.port())
                      .collect(Collectors.joining(",")))
              .build();
    }

    /** Submits {@code n} jobs over AMQP, each confirmed by the broker within {@code within}. */
    void submit(int n, Duration within) {
      for (int i = 0; i < n; i++) {
        var submission =
            JobSubmission.of(
                    "site.generate",
                    Json.mapper().createObjectNode().put("site", "amqp").put("phaseMillis", 20))
                .withIdempotencyKey(prefix + "-" + keys.size());
        try {
          await()
              .atMost(within)
              .pollInterval(Duration.ofMillis(200))
              .until(
                  () -> {
                    try {
                      client.submitViaAmqp(submission);
                      return true;
                    } catch (RuntimeException e) {
                      refused++;
                      lastRefusal = e;
                      return false;
                    }
                  });
        } catch (ConditionTimeoutException e) {
          throw new AssertionError(
              "an AMQP producer could not submit for "
                  + within
                  + " with one node of three down ("
                  + refused
                  + " tries refused, the last: "
                  + lastRefusal
                  + ")",
              e);
        }
        keys.add(submission.idempotencyKey());
      }
    }

    List<String> keys() {
      return List.copyOf(keys);
    }

    long refused() {
      return refused;
    }

    /** The ids of the jobs the scheduler made of these submissions. */
    static List<String> jobIds(ShepherdClient client, List<String> keys) {
      return keys.stream()
          .map(key -> client.jobIdForKey(key, Duration.ofMinutes(1)).join())
          .toList();
    }

    @Override
    public void close() {
      client.close();
    }
  }

  /**
   * SIGKILLs {@code victim}, waits until jobs succeed through the two nodes left, starts it again
   * and waits until the cluster and every queue's members are whole again.
   */
  private static Recovery killAndRestart(
      PrivateRabbitCluster rabbit, PrivateRabbit victim, String why, E2eSupport e2e, long started) {
    int connections = rabbit.connectionsByNode().getOrDefault(victim.nodeName(), 0);
    // a producer whose AMQP connection is to the victim when it dies
    var producer = new AmqpProducer(rabbit, victim, e2e);
    producer.submit(1, Duration.ofSeconds(30));
    double succeeded = succeeded(e2e);
    log(started, "SIGKILL " + victim.nodeName() + ", which " + why);
    long killed = System.nanoTime();
    victim.kill();
    try {
      await()
          .atMost(Duration.ofMinutes(1))
          .pollInterval(Duration.ofMillis(100))
          .until(() -> succeeded(e2e) >= succeeded + FLOWING);
    } catch (ConditionTimeoutException e) {
      e2e.cluster.processes().forEach(ManagedProcess::dumpThreads);
      System.out.println(
          "RABBIT CLUSTER STALLED; the nodes now:"
              + rabbit.diagnose(e2e.topology.queueNames(), 200));
      throw new AssertionError(
          "jobs stopped succeeding once "
              + victim.nodeName()
              + " was killed: "
              + (succeeded(e2e) - succeeded)
              + " succeeded in a minute; the queues now: "
              + ours(rabbit, e2e.topology)
              + "; connections by node: "
              + rabbit.connectionsByNode()
              + "; thread dumps in the services' logs under "
              + e2e.cluster.processes().getFirst().log().getParent(),
          e);
    }
    double flowing = seconds(killed);
    producer.submit(AMQP_JOBS, Duration.ofSeconds(20));
    double amqp = seconds(killed);
    producer.close();
    log(started, FLOWING + " more jobs succeeded on two nodes; starting " + victim.nodeName());
    victim.start();
    double back = seconds(killed);
    rabbit.awaitFormed();
    assertReplicatedOnEveryNode(rabbit, e2e.topology);
    var recovery =
        new Recovery(
            victim.nodeName(),
            why,
            connections,
            flowing,
            amqp,
            producer.keys(),
            producer.refused(),
            back,
            seconds(killed));
    log(started, recovery.toString());
    return recovery;
  }

  /**
   * Waits until every queue of the topology is a quorum queue with a member on each of the three
   * nodes, all of them online, and a leader.
   */
  private static void assertReplicatedOnEveryNode(PrivateRabbitCluster rabbit, Topology topology) {
    Set<String> nodes =
        rabbit.nodes().stream().map(PrivateRabbit::nodeName).collect(Collectors.toSet());
    await()
        .atMost(Duration.ofMinutes(1))
        .pollInterval(Duration.ofMillis(500))
        .untilAsserted(
            () -> {
              List<PrivateRabbitCluster.Queue> queues = ours(rabbit, topology);
              assertThat(queues.stream().map(PrivateRabbitCluster.Queue::name))
                  .as("the topology's queues on the cluster")
                  .containsExactlyInAnyOrderElementsOf(topology.queueNames());
              assertThat(queues)
                  .allSatisfy(
                      q -> {
                        assertThat(q.type()).as(q.name() + "'s type").isEqualTo("quorum");
                        assertThat(q.members())
                            .as(q.name() + "'s members")
                            .hasSameElementsAs(nodes);
                        assertThat(q.online()).as(q.name() + " online").hasSameElementsAs(nodes);
                        assertThat(q.leader()).as(q.name() + "'s leader").isIn(nodes);
                      });
            });
  }

  /** The topology's queues (not the workers' control queues) as the cluster lists them. */
  private static List<PrivateRabbitCluster.Queue> ours(
      PrivateRabbitCluster rabbit, Topology topology) {
    List<String> names = topology.queueNames();
    return new ArrayList<>(
        rabbit.queues().stream()
            .filter(q -> names.contains(q.name()))
            .sorted(Comparator.comparing(PrivateRabbitCluster.Queue::name))
            .toList());
  }

  private static PrivateRabbitCluster.Queue queue(PrivateRabbitCluster rabbit, String name) {
    return rabbit.queues().stream()
        .filter(q -> q.name().equals(name))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no queue " + name + " on the cluster"));
  }

  /**
   * Jobs applied as SUCCEEDED since the processes started, by the workers that wrote them (ADR 56)
   * and by the status-tracker.
   */
  private static double succeeded(E2eSupport e2e) {
    return e2e.cluster.succeeded();
  }

  /**
   * The shared Redis and the cluster's first node; the services and the test's connection get the
   * whole address list through {@code spring.rabbitmq.addresses}, which wins over host and port.
   */
  private static ServiceEndpoints onCluster(PrivateRabbitCluster rabbit, ServiceEndpoints shared) {
    return new ServiceEndpoints(
        URI.create("amqp://guest:guest@127.0.0.1:" + rabbit.node(0).port() + "/"),
        shared.redis(),
        "a private three-node RabbitMQ cluster and " + shared.source());
  }

  private static double seconds(long since) {
    return (System.nanoTime() - since) / 1e9;
  }

  private static void log(long started, String what) {
    System.out.printf("[rabbit cluster %5.1f s] %s%n", seconds(started), what);
  }
}
