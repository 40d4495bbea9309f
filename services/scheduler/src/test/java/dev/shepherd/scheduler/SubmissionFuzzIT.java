package dev.shepherd.scheduler;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.shepherd.messaging.Topology;
import dev.shepherd.model.Json;
import dev.shepherd.model.SubmissionMessages;
import dev.shepherd.store.Keys;
import dev.shepherd.store.Store;
import dev.shepherd.testsupport.RabbitCleanup;
import dev.shepherd.testsupport.ServiceEndpoints;
import dev.shepherd.testsupport.TestApiKeys;
import dev.shepherd.testsupport.TestNames;
import dev.shepherd.testsupport.WithRealServices;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.springframework.amqp.core.MessageBuilder;
import org.springframework.amqp.rabbit.connection.ConnectionFactory;
import org.springframework.amqp.rabbit.core.RabbitTemplate;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.data.redis.connection.RedisConnectionFactory;
import tools.jackson.databind.JsonNode;

/**
 * 10,000 generated submission bodies ({@link SubmissionFuzz}, seed in {@code -Dshepherd.fuzz.seed},
 * count in {@code -Dshepherd.fuzz.bodies}) over REST and over AMQP, on the real broker and Redis
 * (issue 17, OWASP API4 and API8): REST answers each with a 2xx or a 4xx problem, never a 5xx; AMQP
 * makes each one a job or a dead-job record, none lost, and the consumers are still there to take a
 * good one afterwards.
 */
@WithRealServices
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SubmissionFuzzIT {

  private static final long SEED = Long.getLong("shepherd.fuzz.seed", 20261201L);
  private static final int BODIES = Integer.getInteger("shepherd.fuzz.bodies", 10_000);

  private InProcessScheduler scheduler;
  private ConfigurableApplicationContext app;
  private final HttpClient http = HttpClient.newHttpClient();
  private URI base;

  @BeforeAll
  void start(ServiceEndpoints endpoints, TestNames names) {
    scheduler = InProcessScheduler.start(endpoints.asSpringProperties(), names.prefix(), Map.of());
    app = scheduler.app();
    base = scheduler.base();
  }

  @AfterAll
  void stop() {
    if (scheduler != null) {
      scheduler.close();
    }
  }

  @Test
  void everyRestSubmissionIsAnsweredWithAJobOrAProblemAndNeverA5xx() throws Exception {
    SubmissionFuzz fuzz = new SubmissionFuzz(SEED);
    Semaphore inFlight = new Semaphore(8);
    Map<Integer, Integer> byStatus = new TreeMap<>();
    List<String> wrong = new ArrayList<>();
    List<CompletableFuture<Void>> calls = new ArrayList<>();
    for (int i = 0; i < BODIES; i++) {
      int index = i;
      byte[] body = fuzz.next(i);
      inFlight.acquire();
      calls.add(
          http.sendAsync(
                  HttpRequest.newBuilder(base.resolve("/api/v1/jobs"))
                      .header("X-Api-Key", TestApiKeys.ADMIN_KEY)
                      .header("Content-Type", "application/json")
                      .POST(HttpRequest.BodyPublishers.ofByteArray(body))
                      .build(),
                  HttpResponse.BodyHandlers.ofString())
              .handle(
                  (response, error) -> {
                    inFlight.release();
                    synchronized (byStatus) {
                      if (error != null) {
                        wrong.add(index + ": " + error);
                        return null;
                      }
                      byStatus.merge(response.statusCode(), 1, Integer::sum);
                      if (!answered(response)) {
                        wrong.add(index + ": " + response.statusCode() + " " + response.body());
                      }
                    }
                    return null;
                  }));
    }
    CompletableFuture.allOf(calls.toArray(CompletableFuture[]::new)).join();
    System.out.printf("REST fuzz, seed %d, %d bodies: statuses %s%n", SEED, BODIES, byStatus);
    assertThat(wrong).as("seed %d: bodies answered otherwise", SEED).isEmpty();
    assertThat(byStatus.keySet()).as("the generator reaches both sides").contains(202, 400, 422);
  }

  /**
   * How many jobs or dead-job records one AMQP body must become: one per element of an array of 1
   * to {@link SubmissionMessages#MAX_SUBMISSIONS} objects (each judged on its own, ADR 59), else
   * one (a submission, or a body refused whole).
   */
  private static long outcomesOf(byte[] body) {
    if (!Json.isArray(body)) {
      return 1;
    }
    JsonNode array;
    try {
      array = Json.mapper().readTree(body);
    } catch (RuntimeException notJson) {
      return 1;
    }
    boolean objects = true;
    for (JsonNode element : array) {
      objects &= element.isObject();
    }
    return objects && !array.isEmpty() && array.size() <= SubmissionMessages.MAX_SUBMISSIONS
        ? array.size()
        : 1;
  }

  /** A 2xx with a job id, or a 4xx problem+json that says what is wrong. */
  private static boolean answered(HttpResponse<String> response) {
    int status = response.statusCode();
    if (status == 200 || status == 202) {
      return Json.mapper().readTree(response.body()).hasNonNull("jobId");
    }
    return Set.of(400, 413, 422).contains(status)
        && response
            .headers()
            .firstValue("Content-Type")
            .orElse("")
            .startsWith("application/problem+json")
        && Json.mapper().readTree(response.body()).path("status").asInt() == status;
  }

  @Test
  void everyAmqpSubmissionBecomesAJobOrADeadRecordAndTheConsumersStayUp() {
    Store store = app.getBean("shepherdStore", Store.class);
    Topology topology = app.getBean(Topology.class);
    ConnectionFactory connections = app.getBean(ConnectionFactory.class);
    RabbitTemplate template = new RabbitTemplate(connections);
    long jobsBefore = jobs(store);
    long deadBefore = deadRecords(store);
    SubmissionFuzz fuzz = new SubmissionFuzz(SEED + 1);
    long outcomes = 0;
    for (int i = 0; i < BODIES; i++) {
      byte[] body = fuzz.next(i);
      outcomes += outcomesOf(body);
      template.send(
          topology.submitExchange(),
          topology.submitRoutingKey(),
          MessageBuilder.withBody(body).setUserId(TestApiKeys.BROKER_USER).build());
    }
    long expected = outcomes;
    await()
        .atMost(Duration.ofMinutes(2))
        .pollInterval(Duration.ofMillis(500))
        .until(() -> RabbitCleanup.messageCount(connections, topology.submitQueue()) == 0);
    await()
        .atMost(Duration.ofSeconds(30))
        .untilAsserted(
            () ->
                assertThat((jobs(store) - jobsBefore) + (deadRecords(store) - deadBefore))
                    .as("seed %d: new jobs plus new dead-job records", SEED + 1)
                    .isEqualTo(expected));
    System.out.printf(
        "AMQP fuzz, seed %d, %d bodies: %d jobs, %d dead-job records%n",
        SEED + 1, BODIES, jobs(store) - jobsBefore, deadRecords(store) - deadBefore);
    assertThat(jobs(store) - jobsBefore).as("some were good").isPositive();
    assertThat(deadRecords(store) - deadBefore).as("some were not").isPositive();

    // the consumers are still there: a good submission after all that is a job
    long before = jobs(store);
    template.send(
        topology.submitExchange(),
        topology.submitRoutingKey(),
        MessageBuilder.withBody("{\"type\":\"demo.noop\",\"payload\":{}}".getBytes())
            .setUserId(TestApiKeys.BROKER_USER)
            .build());
    await().atMost(Duration.ofSeconds(10)).until(() -> jobs(store) == before + 1);
  }

  /**
   * Every job of the test's prefix: the index of all jobs by submission time (counting state by
   * state would count a job that moves meanwhile twice, or not at all).
   */
  private long jobs(Store store) {
    return sizeOf(store, Keys.JOBS);
  }

  private long deadRecords(Store store) {
    return sizeOf(store, Keys.DEAD);
  }

  private long sizeOf(Store store, String index) {
    var redis =
        new org.springframework.data.redis.core.StringRedisTemplate(
            app.getBean(RedisConnectionFactory.class));
    long all = 0;
    for (int p = 0; p < store.keys().partitions(); p++) {
      Long size = redis.opsForZSet().zCard(store.keys().of(p, index));
      all += size == null ? 0 : size;
    }
    return all;
  }
}
