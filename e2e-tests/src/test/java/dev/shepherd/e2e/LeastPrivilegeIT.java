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
import dev.shepherd.testsupport.PrivateRabbit;
import dev.shepherd.testsupport.PrivateRedis;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import io.lettuce.core.pubsub.RedisPubSubAdapter;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
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
   * Every service declares the whole topology when it connects (MessagingConfiguration, Spring's
   * RabbitAdmin), and a worker its pool's bindings and its control queue as well: with too narrow a
   * permission the service would not start. Declared as the service does it, with its own user.
   */
  @ParameterizedTest
  @ValueSource(strings = {"scheduler", "status-tracker", "recovery", "worker"})
  void eachServiceDeclaresTheTopologyAsItsOwnUser(String role) {
    var connections = new CachingConnectionFactory("127.0.0.1", rabbit.port());
    connections.setUsername(role);
    connections.setPassword(password(role));
    try {
      var admin = new RabbitAdmin(connections);
      var declarables = new ArrayList<Declarable>(TOPOLOGY.declarables().getDeclarables());
      if (role.equals("worker")) {
        declarables.addAll(TOPOLOGY.workerControlDeclarables("w-" + role).getDeclarables());
      }
      for (var declarable : declarables) {
        assertThatCode(() -> declare(admin, declarable))
            .as("%s declares %s", role, declarable)
            .doesNotThrowAnyException();
      }
    } finally {
      connections.destroy();
    }
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
