package dev.shepherd.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.awaitility.Awaitility.await;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import com.rabbitmq.client.GetResponse;
import dev.shepherd.messaging.Topology;
import dev.shepherd.messaging.config.MessagingProperties;
import dev.shepherd.model.JobState;
import dev.shepherd.model.JobSubmission;
import dev.shepherd.model.Json;
import dev.shepherd.testsupport.PrivateRabbit;
import dev.shepherd.testsupport.PrivateRedis;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import io.lettuce.core.pubsub.RedisPubSubAdapter;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.springframework.amqp.core.Binding;
import org.springframework.amqp.core.Declarable;
import org.springframework.amqp.core.Exchange;
import org.springframework.amqp.core.Queue;
import org.springframework.amqp.rabbit.connection.CachingConnectionFactory;
import org.springframework.amqp.rabbit.core.RabbitAdmin;

/**
 * The broker's and Redis's users of deploy/ (docs/SECURITY.md, "Least privilege in the
 * deployment"), loaded into a private RabbitMQ and a private Redis exactly as compose loads them,
 * and tried with the real clients: each role can do its work, and a leaked password of one role
 * cannot submit jobs, report outcomes, or read or wipe what is not Shepherd's.
 */
class LeastPrivilegeIT {

  private static final Path DEPLOY = Cluster.repositoryRoot().resolve("deploy");
  private static final Topology TOPOLOGY =
      new Topology(
          Topology.DEFAULT_PREFIX,
          MessagingProperties.DEFAULT_POOLS,
          Topology.DEFAULT_DELIVERY_LIMIT);

  private static PrivateRabbit rabbit;
  private static PrivateRedis redis;

  @BeforeAll
  static void start() {
    rabbit =
        PrivateRabbit.launch(
            "load_definitions = " + DEPLOY.resolve("rabbitmq/definitions.json") + "\n",
            "operator",
            password("operator"));
    redis = PrivateRedis.launch(DEPLOY.resolve("redis/users.acl"));
  }

  @AfterAll
  static void stop() {
    if (rabbit != null) {
      rabbit.close();
    }
    if (redis != null) {
      redis.close();
    }
  }

  /** The demo password of a role, in deploy/ as a hash only. */
  private static String password(String role) {
    return "shepherd-demo-" + role;
  }

  private static Connection amqp(String role) throws Exception {
    var factory = new ConnectionFactory();
    factory.setHost("127.0.0.1");
    factory.setPort(rabbit.port());
    factory.setUsername(role);
    factory.setPassword(password(role));
    return factory.newConnection("least-privilege-" + role);
  }

  /**
   * Only the scheduler's user may declare the shared exchanges and queues (ADR 41): it creates
   * every one of them on a broker that has none, the dead-letter arguments included (RabbitMQ asks
   * for write on a queue's dead-letter exchange when it creates the queue). No other role can
   * declare a shared name or a queue of its own beside them: a leaked password cannot reshape the
   * topology or bind a queue that copies every outcome or submission.
   */
  @Test
  void onlyTheSchedulerDeclaresTheSharedTopology() throws Exception {
    deleteTopology();
    declareAs("scheduler", TOPOLOGY.declarables().getDeclarables());
    try (Connection operator = amqp("operator")) {
      Channel channel = operator.createChannel();
      for (String queue : TOPOLOGY.queueNames()) {
        assertThat(channel.queueDeclarePassive(queue).getQueue()).isEqualTo(queue);
      }
      for (String exchange : TOPOLOGY.exchangeNames()) {
        assertThatCode(() -> channel.exchangeDeclarePassive(exchange)).doesNotThrowAnyException();
      }
    }
    for (String role : List.of("producer", "status-tracker", "recovery", "worker")) {
      try (Connection connection = amqp(role)) {
        assertThat(
                refusal(
                    connection, ch -> ch.exchangeDeclare(TOPOLOGY.statusExchange(), "topic", true)))
            .as(role)
            .contains("ACCESS_REFUSED", "shepherd.status");
        assertThat(
                refusal(
                    connection,
                    ch -> ch.queueDeclare(TOPOLOGY.workQueue("mine"), true, false, false, null)))
            .as(role)
            .contains("ACCESS_REFUSED", "shepherd.work.mine");
        assertThat(
                refusal(connection, ch -> ch.queueDeclare("shepherd.spy", false, true, true, null)))
            .as(role)
            .contains("ACCESS_REFUSED", "shepherd.spy");
      }
    }
  }

  /**
   * A worker that may not declare shared names binds its types to the queue the scheduler declared
   * for its pool, and declares its own control queue (what the worker's Spring context does with
   * {@code shepherd.messaging.declare-topology=false}).
   */
  @Test
  void aWorkerBindsItsTypesAndDeclaresOnlyItsControlQueue() {
    declareTopology();
    var declarables = new ArrayList<Declarable>();
    declarables.addAll(
        TOPOLOGY.poolBindings("default", List.of("demo.noop", "report.render")).getDeclarables());
    declarables.addAll(TOPOLOGY.workerControlDeclarables("w-least").getDeclarables());
    declareAs("worker", declarables);
  }

  @Test
  void theProducerSubmitsWithAConfirmButCannotReportDeclareOrOrderWorkers() throws Exception {
    declareTopology();
    try (Connection producer = amqp("producer")) {
      Channel channel = producer.createChannel();
      channel.confirmSelect();
      channel.basicPublish(
          TOPOLOGY.submitExchange(), TOPOLOGY.submitRoutingKey(), true, null, bytes("submit-1"));
      channel.waitForConfirmsOrDie(10_000);
      // a cancel request is a producer's message too: the control exchange, key "cancel" only
      channel.basicPublish(
          TOPOLOGY.controlExchange(), TOPOLOGY.cancelRoutingKey(), true, null, bytes("cancel-1"));
      channel.waitForConfirmsOrDie(10_000);

      assertThat(refusal(producer, ch -> publish(ch, TOPOLOGY.statusExchange(), "t.SUCCEEDED")))
          .contains("ACCESS_REFUSED", "shepherd.status");
      assertThat(refusal(producer, ch -> publish(ch, TOPOLOGY.controlExchange(), "worker.w-1")))
          .contains("ACCESS_REFUSED", "worker.w-1");
      assertThat(refusal(producer, ch -> publish(ch, TOPOLOGY.workExchange(), "demo.noop")))
          .contains("ACCESS_REFUSED", "shepherd.work");
      assertThat(refusal(producer, ch -> publish(ch, "", TOPOLOGY.submitQueue())))
          .contains("ACCESS_REFUSED", "amq.default");
      assertThat(
              refusal(producer, ch -> ch.queueDeclare("shepherd.mine", false, false, true, null)))
          .contains("ACCESS_REFUSED", "shepherd.mine");
      assertThat(refusal(producer, ch -> ch.basicGet(TOPOLOGY.submitQueue(), false)))
          .contains("ACCESS_REFUSED", "shepherd.submit");
    }
    try (Connection operator = amqp("operator")) {
      Channel channel = operator.createChannel();
      assertThat(bodyOf(channel.basicGet(TOPOLOGY.submitQueue(), true))).isEqualTo("submit-1");
      assertThat(bodyOf(channel.basicGet(TOPOLOGY.cancelQueue(), true))).isEqualTo("cancel-1");
    }
  }

  @Test
  void aWorkerReportsStatusButCannotDispatchOrOrderOtherWorkers() throws Exception {
    declareTopology();
    try (Connection worker = amqp("worker")) {
      Channel channel = worker.createChannel();
      channel.confirmSelect();
      channel.basicPublish(TOPOLOGY.statusExchange(), "demo.noop.SUCCEEDED", null, bytes("done"));
      channel.waitForConfirmsOrDie(10_000);

      assertThat(refusal(worker, ch -> publish(ch, TOPOLOGY.controlExchange(), "worker.w-2")))
          .contains("ACCESS_REFUSED", "shepherd.control");
      assertThat(refusal(worker, ch -> publish(ch, TOPOLOGY.workExchange(), "demo.noop")))
          .contains("ACCESS_REFUSED", "shepherd.work");
      // no submissions, no messages straight into a queue, no forged dead letters
      assertThat(refusal(worker, ch -> publish(ch, "", TOPOLOGY.submitQueue())))
          .contains("ACCESS_REFUSED", "amq.default");
      assertThat(refusal(worker, ch -> publish(ch, "", TOPOLOGY.workQueue("default"))))
          .contains("ACCESS_REFUSED", "amq.default");
      assertThat(
              refusal(
                  worker,
                  ch -> publish(ch, TOPOLOGY.submitExchange(), TOPOLOGY.submitRoutingKey())))
          .contains("ACCESS_REFUSED", "shepherd.submit");
      assertThat(
              refusal(
                  worker,
                  ch -> publish(ch, TOPOLOGY.deadLetterExchange(), TOPOLOGY.workQueue("default"))))
          .contains("ACCESS_REFUSED", "shepherd.dlx");
      // nor take what the services consume: submissions, outcomes, dead letters
      for (String queue :
          List.of(TOPOLOGY.submitQueue(), TOPOLOGY.statusQueue(), TOPOLOGY.deadQueue())) {
        assertThat(refusal(worker, ch -> ch.basicGet(queue, false)))
            .as(queue)
            .contains("ACCESS_REFUSED", queue);
      }
    }
    try (Connection operator = amqp("operator")) {
      Channel channel = operator.createChannel();
      assertThat(bodyOf(channel.basicGet(TOPOLOGY.statusQueue(), true))).isEqualTo("done");
    }
  }

  @Test
  void onlyTheSchedulerDispatchesAndOnlyWorkersReport() throws Exception {
    declareTopology();
    try (Connection scheduler = amqp("scheduler")) {
      Channel channel = scheduler.createChannel();
      channel.confirmSelect();
      channel.basicPublish(TOPOLOGY.workExchange(), "demo.noop", true, null, bytes("job"));
      channel.waitForConfirmsOrDie(10_000);
      assertThat(refusal(scheduler, ch -> publish(ch, TOPOLOGY.statusExchange(), "t.SUCCEEDED")))
          .contains("ACCESS_REFUSED");
    }
    for (String role : List.of("status-tracker", "recovery")) {
      try (Connection connection = amqp(role)) {
        assertThat(refusal(connection, ch -> publish(ch, TOPOLOGY.statusExchange(), "t.FAILED")))
            .as(role)
            .contains("ACCESS_REFUSED");
        assertThat(refusal(connection, ch -> publish(ch, TOPOLOGY.workExchange(), "demo.noop")))
            .as(role)
            .contains("ACCESS_REFUSED");
      }
    }
  }

  /**
   * The whole job path on the deployment's users, as compose runs it: each service connects to the
   * broker and Redis with its own role's user and password, only the scheduler declares the
   * topology (on a broker where none of it exists yet), the status-tracker takes outcomes from the
   * {@code worker} user only, and a producer submits over AMQP as {@code producer}. A permission or
   * a Redis command that one of the services needs and its role lacks shows up here as a job that
   * does not finish.
   */
  @Test
  void theServicesRunJobsWithTheirOwnUsers() throws Exception {
    deleteTopology();
    Map<String, String> connection = new LinkedHashMap<>();
    connection.put("spring.rabbitmq.host", "127.0.0.1");
    connection.put("spring.rabbitmq.port", Integer.toString(rabbit.port()));
    connection.put("spring.data.redis.host", "127.0.0.1");
    connection.put("spring.data.redis.port", Integer.toString(redis.port()));
    Map<String, String> extra = new LinkedHashMap<>();
    for (String role : List.of("scheduler", "status-tracker", "recovery", "worker")) {
      connection.put(Cluster.only(role, "spring.rabbitmq.username"), role);
      connection.put(Cluster.only(role, "spring.rabbitmq.password"), password(role));
      connection.put(Cluster.only(role, "spring.data.redis.username"), role);
      connection.put(Cluster.only(role, "spring.data.redis.password"), password(role));
      if (!role.equals("scheduler")) {
        extra.put(Cluster.only(role, "shepherd.messaging.declare-topology"), "false");
      }
    }
    extra.put(Cluster.only("status-tracker", "shepherd.status-tracker.worker-users[0]"), "worker");
    // the producer's broker user may submit the demo types (ADR 40)
    extra.put(Cluster.only("scheduler", "shepherd.security.amqp-users[1].name"), "producer");
    extra.put(Cluster.only("scheduler", "shepherd.security.grants[1].principals[0]"), "producer");
    extra.put(Cluster.only("scheduler", "shepherd.security.grants[1].types[0]"), "demo.*");
    extra.put(Cluster.only("scheduler", "shepherd.security.grants[1].operations[0]"), "submit");
    Path logs = Cluster.repositoryRoot().resolve("e2e-tests/target/e2e-logs/least-privilege");
    org.springframework.util.FileSystemUtils.deleteRecursively(logs);
    try (var cluster =
            Cluster.start(
                new Cluster.Spec(
                    Cluster.repositoryRoot(),
                    Topology.DEFAULT_PREFIX,
                    connection,
                    1,
                    4,
                    extra,
                    logs));
        var client =
            cluster
                .client()
                .amqpUri(
                    URI.create(
                        "amqp://producer:" + password("producer") + "@127.0.0.1:" + rabbit.port()))
                .prefix(Topology.DEFAULT_PREFIX)
                .build()) {
      List<String> ids = new ArrayList<>();
      List<String> keys = new ArrayList<>();
      for (int i = 0; i < 10; i++) {
        var payload = Json.mapper().createObjectNode().put("i", i);
        ids.add(client.submit(JobSubmission.of("demo.noop", payload)).jobId());
        keys.add(client.submitViaAmqp(JobSubmission.of("demo.noop", payload)));
      }
      for (String key : keys) {
        ids.add(client.jobIdForKey(key, Duration.ofMinutes(1)).join());
      }
      OutcomeAudit.awaitAllTerminal(client, ids, Duration.ofMinutes(2));
      OutcomeAudit audit = OutcomeAudit.of(cluster.schedulerUri(), ids);
      assertThat(audit.violations()).isEmpty();
      assertThat(audit.count(JobState.SUCCEEDED)).isEqualTo(ids.size());
    }
    // and nothing was refused on the way, not even a declaration a service could do without
    try (var files = Files.list(logs)) {
      for (Path log : files.toList()) {
        assertThat(Files.readString(log))
            .as("%s: the broker's and Redis's refusals", log.getFileName())
            .doesNotContain("ACCESS_REFUSED")
            .doesNotContain("NOPERM");
      }
    }
  }

  /**
   * Each service's Redis user runs a script on a partition's keys (the store's only writes) and the
   * reads it needs, but nothing outside {@code shepherd:*} and no command that wipes, reconfigures
   * or lists the whole server.
   */
  @ParameterizedTest
  @ValueSource(strings = {"scheduler", "status-tracker", "recovery", "worker"})
  void eachServiceRunsScriptsOnShepherdsKeysOnly(String role) {
    RedisClient client = RedisClient.create();
    try (StatefulRedisConnection<String, String> connection = client.connect(uri(role))) {
      RedisCommands<String, String> redis = connection.sync();
      String job = "shepherd:{p00}:job:" + role;
      Object written =
          redis.eval(
              "redis.call('HSET', KEYS[1], 'state', 'QUEUED')"
                  + " redis.call('ZADD', KEYS[1] .. ':idx', 1, 'j')"
                  + " redis.call('PUBLISH', 'shepherd:{p00}:wake', 'j')"
                  + " return redis.call('HGET', KEYS[1], 'state')",
              ScriptOutputType.VALUE,
              job);
      assertThat(written).isEqualTo("QUEUED");
      String sha = redis.digest("return redis.call('HGET', KEYS[1], 'state')");
      Object read =
          redis.eval("return redis.call('HGET', KEYS[1], 'state')", ScriptOutputType.VALUE, job);
      assertThat(read).isEqualTo("QUEUED");
      assertThat((Object) redis.evalsha(sha, ScriptOutputType.VALUE, job)).isEqualTo("QUEUED");
      assertThat(redis.hgetall(job)).containsEntry("state", "QUEUED");
      assertThat(redis.zrange(job + ":idx", 0, -1)).containsExactly("j");
      assertThat(redis.ping()).isEqualTo("PONG");
      assertThat(redis.info("server")).contains("redis_version");

      assertThat(failure(() -> redis.get("other:secret"))).startsWith("NOPERM");
      assertThat(failure(() -> redis.set("other:secret", "x"))).startsWith("NOPERM");
      assertThat(
              failure(
                  () ->
                      redis.eval(
                          "return redis.call('GET', KEYS[1])", ScriptOutputType.VALUE, "other:x")))
          .contains("NOPERM");
      assertThat(failure(redis::flushall)).startsWith("NOPERM");
      assertThat(failure(() -> redis.configGet("requirepass"))).startsWith("NOPERM");
      assertThat(failure(() -> redis.keys("*"))).startsWith("NOPERM");
      assertThat(failure(() -> redis.aclList())).startsWith("NOPERM");
    } finally {
      client.shutdown();
    }
  }

  /**
   * The scheduler hears the scripts' wake-ups and finished jobs; nothing but Shepherd's channels.
   */
  @Test
  void theSchedulerSubscribesToShepherdsChannelsOnly() {
    RedisClient client = RedisClient.create();
    try (StatefulRedisPubSubConnection<String, String> subscriber =
            client.connectPubSub(uri("scheduler"));
        StatefulRedisConnection<String, String> publisher = client.connect(uri("recovery"))) {
      List<String> heard = new CopyOnWriteArrayList<>();
      subscriber.addListener(
          new RedisPubSubAdapter<>() {
            @Override
            public void message(String channel, String message) {
              heard.add(channel + " " + message);
            }
          });
      subscriber.sync().subscribe("shepherd:{p03}:wake");
      publisher
          .sync()
          .eval(
              "return redis.call('PUBLISH', 'shepherd:{p03}:wake', 'j-7')",
              ScriptOutputType.INTEGER,
              "shepherd:{p03}:");
      await().atMost(Duration.ofSeconds(10)).until(() -> heard.contains("shepherd:{p03}:wake j-7"));

      assertThat(failure(() -> subscriber.sync().subscribe("__keyspace@0__:other")))
          .startsWith("NOPERM");
    } finally {
      client.shutdown();
    }
    // a worker publishes from its scripts but has no business listening to them
    RedisClient workerClient = RedisClient.create();
    try (var connection = workerClient.connectPubSub(uri("worker"))) {
      assertThat(failure(() -> connection.sync().subscribe("shepherd:{p03}:wake")))
          .startsWith("NOPERM");
    } finally {
      workerClient.shutdown();
    }
  }

  /** Without a password only PING answers (health checks); no data, no commands. */
  @Test
  void theDefaultUserOnlyPings() {
    assertThat(redis.command("PING")).isEqualTo("+PONG");
    assertThat(redis.command("GET", "shepherd:{p00}:job:x")).startsWith("-NOPERM");
    assertThat(redis.command("INFO")).startsWith("-NOPERM");
    assertThat(redis.command("FLUSHALL")).startsWith("-NOPERM");
  }

  private static RedisURI uri(String role) {
    return RedisURI.builder()
        .withHost("127.0.0.1")
        .withPort(redis.port())
        .withAuthentication(role, password(role))
        .withTimeout(Duration.ofSeconds(10))
        .build();
  }

  /** Declares these as a role would, with its own user, each one expected to pass. */
  private static void declareAs(String role, java.util.Collection<Declarable> declarables) {
    var connections = new CachingConnectionFactory("127.0.0.1", rabbit.port());
    connections.setUsername(role);
    connections.setPassword(password(role));
    try {
      var admin = new RabbitAdmin(connections);
      for (var declarable : declarables) {
        assertThatCode(() -> declare(admin, declarable))
            .as("%s declares %s", role, declarable)
            .doesNotThrowAnyException();
      }
    } finally {
      connections.destroy();
    }
  }

  /** Removes every shared queue and exchange, as the operator, so the next declare creates them. */
  private static void deleteTopology() throws Exception {
    try (Connection operator = amqp("operator")) {
      Channel channel = operator.createChannel();
      for (String queue : TOPOLOGY.queueNames()) {
        channel.queueDelete(queue);
      }
      for (String exchange : TOPOLOGY.exchangeNames()) {
        channel.exchangeDelete(exchange);
      }
    }
  }

  /** The topology, declared once as the scheduler would, so publishes have somewhere to go. */
  private static void declareTopology() {
    var connections = new CachingConnectionFactory("127.0.0.1", rabbit.port());
    connections.setUsername("scheduler");
    connections.setPassword(password("scheduler"));
    try {
      var admin = new RabbitAdmin(connections);
      TOPOLOGY.declarables().getDeclarables().forEach(d -> declare(admin, d));
      // what an earlier test left in the queues is not this test's
      TOPOLOGY.queueNames().forEach(admin::purgeQueue);
    } finally {
      connections.destroy();
    }
  }

  private static void declare(RabbitAdmin admin, Declarable declarable) {
    switch (declarable) {
      case Exchange exchange -> admin.declareExchange(exchange);
      case Queue queue -> admin.declareQueue(queue);
      case Binding binding -> admin.declareBinding(binding);
      default -> throw new IllegalStateException("not a declarable of the topology: " + declarable);
    }
  }

  private interface ChannelAction {
    void run(Channel channel) throws Exception;
  }

  private static void publish(Channel channel, String exchange, String routingKey)
      throws Exception {
    channel.confirmSelect();
    channel.basicPublish(exchange, routingKey, null, bytes("forged"));
    channel.waitForConfirmsOrDie(10_000);
  }

  /**
   * The broker's reason for closing a new channel on {@code action}, or a failed assertion when it
   * let the action through. RabbitMQ refuses an action by closing the channel with 403.
   */
  private static String refusal(Connection connection, ChannelAction action) throws Exception {
    Channel channel = connection.createChannel();
    try {
      action.run(channel);
    } catch (Exception e) {
      for (Throwable t = e; t != null; t = t.getCause()) {
        if (t instanceof com.rabbitmq.client.ShutdownSignalException s
            && s.getReason() instanceof AMQP.Channel.Close close) {
          return close.getReplyCode() + " " + close.getReplyText();
        }
      }
      throw e;
    }
    throw new AssertionError("the broker let the action through");
  }

  private static String failure(Runnable call) {
    try {
      call.run();
    } catch (RuntimeException e) {
      return e.getMessage();
    }
    throw new AssertionError("Redis let the command through");
  }

  private static byte[] bytes(String text) {
    return text.getBytes(StandardCharsets.UTF_8);
  }

  private static String bodyOf(GetResponse response) {
    assertThat(response).as("a message in the queue").isNotNull();
    return new String(response.getBody(), StandardCharsets.UTF_8);
  }
}
