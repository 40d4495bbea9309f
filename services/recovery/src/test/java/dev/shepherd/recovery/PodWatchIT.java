package dev.shepherd.recovery;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.shepherd.engine.WorkLoop;
import dev.shepherd.engine.dispatch.Dispatcher;
import dev.shepherd.engine.recovery.LostWorkers;
import dev.shepherd.messaging.ConfirmingPublisher;
import dev.shepherd.messaging.Topology;
import dev.shepherd.model.JobEvent;
import dev.shepherd.model.JobState;
import dev.shepherd.model.JobView;
import dev.shepherd.model.WorkerView;
import dev.shepherd.store.ClaimResult;
import dev.shepherd.store.NewJob;
import dev.shepherd.store.Store;
import dev.shepherd.store.StoreSettings;
import dev.shepherd.store.WorkerRegistry;
import dev.shepherd.testsupport.RabbitCleanup;
import dev.shepherd.testsupport.RedisCleanup;
import dev.shepherd.testsupport.ServiceEndpoints;
import dev.shepherd.testsupport.TestNames;
import dev.shepherd.testsupport.WithRealServices;
import io.fabric8.kubernetes.api.model.ContainerStatusBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.amqp.rabbit.connection.CachingConnectionFactory;
import org.springframework.amqp.rabbit.core.RabbitTemplate;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;
import org.springframework.data.redis.core.StringRedisTemplate;

/**
 * The pod watch against fabric8's mock API server (CRUD mode) with real RabbitMQ and Redis: a
 * worker pod that is deleted or OOM-killed gets its leases released and its jobs re-dispatched
 * without waiting for the lease TTL (30 s here).
 */
@WithRealServices
@EnableKubernetesMockClient(crud = true)
class PodWatchIT {

  private static final String NAMESPACE = "work";
  private static final String SELECTOR = "app.kubernetes.io/component=worker";

  KubernetesClient client;

  private final SimpleMeterRegistry meters = new SimpleMeterRegistry();
  private String prefix;
  private Topology topology;
  private CachingConnectionFactory rabbit;
  private LettuceConnectionFactory redis;
  private Store store;
  private WorkerRegistry registry;
  private PodWatch watch;
  private WorkLoop dispatch;

  @BeforeEach
  void setUp(ServiceEndpoints endpoints, TestNames names) {
    prefix = names.prefix();
    topology = new Topology(prefix, Map.of("default", List.of("demo.noop")), 5);
    rabbit = endpoints.newRabbitConnectionFactory();
    redis = endpoints.newRedisConnectionFactory();
    RabbitCleanup.declare(rabbit, topology.declarables());
    var template = new StringRedisTemplate(redis);
    var settings = new StoreSettings(prefix, 4, Duration.ofDays(1));
    store = Store.of(template, settings, Clock.systemUTC(), new SimpleMeterRegistry());
    registry = new WorkerRegistry(template, settings, Clock.systemUTC(), Duration.ofSeconds(30));
    var dispatcher =
        new Dispatcher(
            store.outbox(),
            topology,
            new ConfirmingPublisher(rabbit, Duration.ofSeconds(5), meters),
            100,
            Duration.ofSeconds(30),
            meters);
    dispatch =
        new WorkLoop(
            "dispatch", dispatcher::dispatchOnce, Duration.ofMillis(50), Duration.ofSeconds(1));
    watch =
        new PodWatch(
            client, NAMESPACE, SELECTOR, new LostWorkers(store.leaseRecovery(), registry, meters));
  }

  @AfterEach
  void tearDown() {
    watch.close();
    dispatch.close();
    RabbitCleanup.delete(rabbit, topology.queueNames(), topology.exchangeNames());
    RedisCleanup.deleteByPrefix(redis, prefix);
    rabbit.destroy();
    redis.destroy();
  }

  /** A worker on pod {@code podName} holds attempt 1 of a job; the work queue is empty again. */
  private String jobHeldOn(String podName) {
    client
        .pods()
        .inNamespace(NAMESPACE)
        .resource(
            new PodBuilder()
                .withNewMetadata()
                .withName(podName)
                .withNamespace(NAMESPACE)
                .addToLabels("app.kubernetes.io/component", "worker")
                .endMetadata()
                .withNewStatus()
                .withPhase("Running")
                .endStatus()
                .build())
        .create();
    String worker = "w-" + podName;
    registry.heartbeat(
        new WorkerView(
            worker, "node-1", podName, "default", 4, "test", "active", null, null, null));
    String id =
        store.submissions().submit(new NewJob("demo.noop", "default", "{}", null, null, 3)).jobId();
    store.outbox().reserveDue(store.keys().partitionOf(id), 10, Duration.ofSeconds(30));
    assertThat(store.leases().claim(id, 1, worker, Duration.ofSeconds(30)))
        .isInstanceOf(ClaimResult.Claimed.class);
    dispatch.start();
    watch.start();
    return id;
  }

  private void awaitRedispatched(String id) {
    var template = new RabbitTemplate(rabbit);
    await()
        .atMost(Duration.ofSeconds(2))
        .pollInterval(Duration.ofMillis(20))
        .until(() -> template.receive(topology.workQueue("default")) != null);
    JobView job = store.queries().find(id).orElseThrow();
    assertThat(job.attempt()).isEqualTo(2);
    assertThat(job.state()).isIn(JobState.QUEUED, JobState.RETRY_WAIT);
  }

  @Test
  void aDeletedWorkerPodsJobIsReDispatchedWithinTwoSecondsOfTheEvent() {
    String id = jobHeldOn("worker-7f9c");
    client.pods().inNamespace(NAMESPACE).withName("worker-7f9c").delete();
    awaitRedispatched(id);
    JobView job = store.queries().find(id).orElseThrow();
    assertThat(job.history())
        .anySatisfy(
            h -> {
              assertThat(h.event()).isEqualTo(JobEvent.LEASE_EXPIRED);
              assertThat(h.reason()).contains("pod worker-7f9c deleted");
            });
    assertThat(registry.find("w-worker-7f9c"))
        .hasValueSatisfying(w -> assertThat(w.state()).isEqualTo("lost"));
    assertThat(meters.counter("shepherd.leases.released", "reason", "pod_gone").count())
        .isEqualTo(1.0);
  }

  @Test
  void anOomKilledWorkerPodReleasesItsLeasesAndTheAttemptSaysWhy() {
    String id = jobHeldOn("worker-oom");
    Pod pod = client.pods().inNamespace(NAMESPACE).withName("worker-oom").get();
    pod.getStatus()
        .setContainerStatuses(
            List.of(
                new ContainerStatusBuilder()
                    .withName("worker")
                    .withNewState()
                    .withNewTerminated()
                    .withReason("OOMKilled")
                    .withExitCode(137)
                    .endTerminated()
                    .endState()
                    .build()));
    client.pods().inNamespace(NAMESPACE).resource(pod).updateStatus();
    awaitRedispatched(id);
    assertThat(store.queries().find(id).orElseThrow().lastError())
        .contains("OOMKilled (exit code 137)");
  }

  @Test
  void aHealthyPodChangesNothing() {
    String id = jobHeldOn("worker-fine");
    Pod pod = client.pods().inNamespace(NAMESPACE).withName("worker-fine").get();
    pod.getMetadata().getLabels().put("touched", "yes");
    client.pods().inNamespace(NAMESPACE).resource(pod).update();
    await()
        .during(Duration.ofMillis(500))
        .atMost(Duration.ofSeconds(2))
        .until(() -> store.queries().find(id).orElseThrow().state() == JobState.RUNNING);
  }
}
