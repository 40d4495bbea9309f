package dev.shepherd.store;

import dev.shepherd.model.Json;
import dev.shepherd.model.MetricNames;
import io.lettuce.core.LettuceFutures;
import io.lettuce.core.RedisFuture;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.api.async.RedisAsyncCommands;
import io.lettuce.core.api.async.RedisScriptingAsyncCommands;
import io.lettuce.core.cluster.SlotHash;
import io.lettuce.core.cluster.api.async.RedisAdvancedClusterAsyncCommands;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.IntFunction;
import java.util.function.ObjIntConsumer;
import org.springframework.dao.DataAccessException;
import org.springframework.dao.TransientDataAccessResourceException;
import org.springframework.data.redis.RedisSystemException;
import org.springframework.data.redis.connection.RedisConnection;
import org.springframework.data.redis.connection.ReturnType;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;
import org.springframework.data.redis.connection.lettuce.LettuceExceptionConverter;
import org.springframework.data.redis.core.RedisCallback;
import org.springframework.data.redis.core.StringRedisTemplate;
import org.springframework.data.redis.core.script.RedisScript;
import tools.jackson.databind.JsonNode;

/**
 * Runs one {@link Script} on one partition (its key base is the script's only key) and reads the
 * JSON reply. Every call counts on {@link MetricNames#REDIS_CALLS}, tagged with the script, in the
 * registry it was given. A partition of -1 (a foreign job id) runs nothing and reads as {@code
 * {"outcome":"MISSING","found":false}}.
 *
 * <p>A single call of a script on a job's path ({@link Script#onJobPath}) goes through the {@link
 * BlockingRedis} client when there is one (on the calling thread); every other call goes through
 * Lettuce's shared connection, and so do the calls {@link #runOnEvery} sends together, which it
 * pipelines (ADR 57).
 */
final class ScriptRunner {

  private final StringRedisTemplate redis;
  private final BlockingRedis blocking;
  private final Keys keys;
  private final Scripts scripts;
  private final MeterRegistry meters;
  private final Map<Script, Counter> calls = new ConcurrentHashMap<>();
  private final int replicasToAcknowledge;
  private final long replicationTimeoutMillis;

  ScriptRunner(
      StringRedisTemplate redis,
      BlockingRedis blocking,
      Keys keys,
      Scripts scripts,
      MeterRegistry meters,
      StoreSettings settings) {
    this.redis = redis;
    this.blocking = blocking;
    this.keys = keys;
    this.scripts = scripts;
    this.meters = meters;
    this.replicasToAcknowledge = settings.replicasToAcknowledge();
    this.replicationTimeoutMillis = settings.replicationTimeout().toMillis();
  }

  JsonNode run(Script script, int partition, String... args) {
    if (partition < 0) {
      return Json.mapper().readTree("{\"outcome\":\"MISSING\",\"found\":false}");
    }
    count(script);
    RedisScript<String> redisScript = scripts.get(script);
    byte[][] keysAndArgs = keysAndArgs(partition, args);
    // a submission that waits for replicas takes Lettuce's shared connection: WAIT counts the
    // writes of the connection it is sent on
    boolean replicated = script == Script.SUBMIT && replicasToAcknowledge > 0;
    if (script.onJobPath && blocking.isOn() && !replicated) {
      return Json.mapper()
          .readTree(blocking.eval(redisScript, scripts.sha1Bytes(script), keysAndArgs));
    }
    // on the connection itself, not a proxy of it made per call (RedisTemplate's default), and
    // without the script executor's lookups: this runs several times per job
    byte[] reply =
        redis.execute(
            (RedisCallback<byte[]>)
                c -> {
                  byte[] result = eval(c, redisScript, keysAndArgs);
                  if (replicated) {
                    awaitReplicas(c, keysAndArgs[0]);
                  }
                  return result;
                },
            true);
    return Json.mapper().readTree(reply);
  }

  /**
   * Runs {@code script} once per call, each on its own partition, as {@link #run} runs one: on the
   * blocking client, when it is on and the script is on a job's path, the calls go out together in
   * one pipeline (one round trip instead of one per call); otherwise one after the other.
   *
   * @return each call's reply, or its failure (translated as {@link #run} throws it), in order
   */
  List<Object> runEach(Script script, List<PartitionCall> calls) {
    boolean replicated = script == Script.SUBMIT && replicasToAcknowledge > 0;
    if (calls.size() < 2 || !script.onJobPath || !blocking.isOn() || replicated) {
      List<Object> replies = new ArrayList<>(calls.size());
      for (PartitionCall call : calls) {
        try {
          replies.add(run(script, call.partition(), call.args()));
        } catch (RuntimeException e) {
          replies.add(e);
        }
      }
      return replies;
    }
    List<byte[][]> sent = new ArrayList<>(calls.size());
    for (PartitionCall call : calls) {
      count(script);
      sent.add(keysAndArgs(call.partition(), call.args()));
    }
    List<Object> replies = blocking.evalEach(scripts.get(script), scripts.sha1Bytes(script), sent);
    replies.replaceAll(r -> r instanceof byte[] bytes ? Json.mapper().readTree(bytes) : r);
    return replies;
  }

  /** One call of {@link #runEach}: its partition (not -1) and the arguments after its key base. */
  record PartitionCall(int partition, String... args) {}

  /**
   * Runs {@code script} on the partitions from {@code from} to the last, at once, with {@code args}
   * of each: the calls go out together on the shared connection, so they wait for one round trip
   * instead of one per partition (in a cluster, Lettuce sends each to its slot's master), and
   * {@code each} is given every partition's reply, in partition order. A failed call does not hide
   * the others' replies: {@code each} gets those first, then the first failure is thrown (the
   * others suppressed in it), translated as {@link #run} translates it. A script Redis does not
   * know (it restarted, or was flushed) is sent whole for that partition, as {@link #run} does.
   *
   * @param args the arguments after the partition's key base
   * @param each a partition's reply and the partition
   */
  void runOnEvery(
      Script script, int from, IntFunction<String[]> args, ObjIntConsumer<JsonNode> each) {
    int partitions = keys.partitions();
    if (from >= partitions) {
      return;
    }
    RedisScript<String> redisScript = scripts.get(script);
    List<byte[][]> sent = new ArrayList<>(partitions - from);
    for (int p = from; p < partitions; p++) {
      count(script);
      sent.add(keysAndArgs(p, args.apply(p)));
    }
    List<Object> replies =
        redis.execute((RedisCallback<List<Object>>) c -> evalOnEvery(c, redisScript, sent), true);
    RuntimeException failure = null;
    for (int p = from; p < partitions; p++) {
      Object reply = replies.get(p - from);
      if (reply instanceof byte[] bytes) {
        each.accept(Json.mapper().readTree(bytes), p);
      } else if (failure == null) {
        failure = (RuntimeException) reply;
      } else {
        failure.addSuppressed((RuntimeException) reply);
      }
    }
    if (failure != null) {
      throw failure;
    }
  }

  /**
   * EVALSHA of every entry of {@code sent}, all sent before any reply is awaited; each one's reply
   * (bytes) or its failure (a translated exception), in order.
   */
  @SuppressWarnings("unchecked")
  private List<Object> evalOnEvery(
      RedisConnection c, RedisScript<String> script, List<byte[][]> sent) {
    if (!(c.getNativeConnection() instanceof RedisScriptingAsyncCommands<?, ?> nativeCommands)) {
      throw new IllegalStateException(
          "cannot pipeline scripts on " + c.getNativeConnection().getClass().getName());
    }
    var commands = (RedisScriptingAsyncCommands<byte[], byte[]>) nativeCommands;
    List<RedisFuture<byte[]>> futures = new ArrayList<>(sent.size());
    for (byte[][] keysAndArgs : sent) {
      byte[][] key = {keysAndArgs[0]};
      byte[][] arguments = Arrays.copyOfRange(keysAndArgs, 1, keysAndArgs.length);
      futures.add(commands.evalsha(script.getSha1(), ScriptOutputType.VALUE, key, arguments));
    }
    long timeout = commandTimeout().toMillis();
    List<Object> replies = new ArrayList<>(sent.size());
    for (int i = 0; i < futures.size(); i++) {
      try {
        replies.add(LettuceFutures.awaitOrCancel(futures.get(i), timeout, TimeUnit.MILLISECONDS));
      } catch (RuntimeException e) {
        if (!isNoScript(e)) {
          replies.add(translated(e));
          continue;
        }
        try {
          replies.add(eval(c, script, sent.get(i)));
        } catch (RuntimeException again) {
          replies.add(again);
        }
      }
    }
    return replies;
  }

  /** How long a pipelined call may take: the connection factory's command timeout. */
  private Duration commandTimeout() {
    return redis.getConnectionFactory() instanceof LettuceConnectionFactory lettuce
        ? lettuce.getClientConfiguration().getCommandTimeout()
        : Duration.ofSeconds(60);
  }

  /** As Spring's own calls translate Lettuce's exceptions. */
  private static RuntimeException translated(RuntimeException e) {
    DataAccessException translated = new LettuceExceptionConverter().translate(e);
    return translated != null ? translated : new RedisSystemException(e.getMessage(), e);
  }

  private void count(Script script) {
    calls
        .computeIfAbsent(script, s -> meters.counter(MetricNames.REDIS_CALLS, "op", s.file))
        .increment();
  }

  /** The partition's key base, then {@code args}, as bytes. */
  private byte[][] keysAndArgs(int partition, String... args) {
    byte[][] keysAndArgs = new byte[1 + args.length][];
    keysAndArgs[0] = keys.base(partition).getBytes(StandardCharsets.UTF_8);
    for (int i = 0; i < args.length; i++) {
      keysAndArgs[i + 1] = args[i].getBytes(StandardCharsets.UTF_8);
    }
    return keysAndArgs;
  }

  /**
   * {@code WAIT} for the replicas on the very connection that ran the script (WAIT counts the
   * writes of its own connection): the shared connection of one Redis or Sentinel's master, or, in
   * a cluster, the connection to the master of the key's slot that Lettuce's router used. Fewer
   * replicas than asked within the timeout refuse the submission (a transient failure: it is
   * retried, or the producer is told to submit again), since a failover could lose it.
   */
  @SuppressWarnings("unchecked")
  private void awaitReplicas(RedisConnection c, byte[] key) {
    Object nativeConnection = c.getNativeConnection();
    long acknowledged;
    try {
      if (nativeConnection instanceof RedisAdvancedClusterAsyncCommands<?, ?> cluster) {
        var stateful = cluster.getStatefulConnection();
        var master = stateful.getPartitions().getMasterBySlot(SlotHash.getSlot(key));
        if (master == null) {
          throw new TransientDataAccessResourceException("no master serves the submission's slot");
        }
        acknowledged =
            stateful
                .getConnection(master.getUri().getHost(), master.getUri().getPort())
                .sync()
                .waitForReplication(replicasToAcknowledge, replicationTimeoutMillis);
      } else if (nativeConnection instanceof RedisAsyncCommands<?, ?> single) {
        acknowledged =
            single
                .waitForReplication(replicasToAcknowledge, replicationTimeoutMillis)
                .get(replicationTimeoutMillis + 5_000, TimeUnit.MILLISECONDS);
      } else {
        throw new IllegalStateException(
            "cannot WAIT for replicas on " + nativeConnection.getClass().getName());
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new TransientDataAccessResourceException("interrupted waiting for replicas", e);
    } catch (ExecutionException | TimeoutException e) {
      throw new TransientDataAccessResourceException("WAIT for replicas failed", e);
    }
    if (acknowledged < replicasToAcknowledge) {
      throw new TransientDataAccessResourceException(
          "the submission reached Redis but "
              + acknowledged
              + " of the "
              + replicasToAcknowledge
              + " replicas asked (shepherd.store.replicas-to-acknowledge) had it within "
              + replicationTimeoutMillis
              + " ms; a failover could lose it, so it is not accepted: submit it again (with its"
              + " idempotency key, a copy that survived is found)");
    }
  }

  /** EVALSHA, and EVAL when Redis does not know the script (it restarted, or was flushed). */
  private static byte[] eval(RedisConnection c, RedisScript<String> script, byte[][] keysAndArgs) {
    try {
      return c.scriptingCommands().evalSha(script.getSha1(), ReturnType.VALUE, 1, keysAndArgs);
    } catch (RuntimeException e) {
      if (!isNoScript(e)) {
        throw e;
      }
      return c.scriptingCommands()
          .eval(
              script.getScriptAsString().getBytes(StandardCharsets.UTF_8),
              ReturnType.VALUE,
              1,
              keysAndArgs);
    }
  }

  private static boolean isNoScript(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t.getMessage() != null && t.getMessage().contains("NOSCRIPT")) {
        return true;
      }
    }
    return false;
  }

  JsonNode run(Script script, int partition, List<String> args) {
    return run(script, partition, args.toArray(String[]::new));
  }
}
