package dev.shepherd.messaging;

import static org.assertj.core.api.Assertions.assertThat;

import io.lettuce.core.RedisCommandExecutionException;
import io.lettuce.core.RedisCommandTimeoutException;
import io.lettuce.core.RedisConnectionException;
import io.lettuce.core.RedisException;
import io.lettuce.core.RedisLoadingException;
import java.io.IOException;
import java.net.ConnectException;
import java.net.SocketTimeoutException;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.springframework.amqp.AmqpConnectException;
import org.springframework.amqp.AmqpException;
import org.springframework.dao.DataAccessResourceFailureException;
import org.springframework.dao.QueryTimeoutException;
import org.springframework.data.redis.RedisConnectionFailureException;
import org.springframework.data.redis.RedisSystemException;
import redis.clients.jedis.exceptions.JedisConnectionException;
import redis.clients.jedis.exceptions.JedisDataException;

/**
 * The classifier over exceptions built as they reach a consumer: Spring Data Redis's translation of
 * Lettuce's, with Redis's error replies as Redis 7 words them.
 */
class FailureKindTest {

  /** What the store throws for an error reply of Redis: Spring's wrapper around Lettuce's. */
  private static RuntimeException reply(String redisError) {
    return new RedisSystemException(
        "Error in execution", new RedisCommandExecutionException(redisError));
  }

  /**
   * The same through the store's blocking client (Jedis, ADR 57), as {@code BlockingRedis} wraps
   * it.
   */
  private static RuntimeException jedisReply(String redisError) {
    return new RedisSystemException(
        "Redis (JedisDataException): " + redisError, new JedisDataException(redisError));
  }

  static Stream<RuntimeException> infrastructure() {
    return Stream.of(
        jedisReply("OOM command not allowed when used memory > 'maxmemory'."),
        jedisReply("READONLY You can't write against a read only replica."),
        jedisReply("LOADING Redis is loading the dataset in memory"),
        jedisReply("CLUSTERDOWN The cluster is down"),
        new RedisConnectionFailureException(
            "Redis (JedisConnectionException): Failed to connect",
            new JedisConnectionException(new ConnectException("Connection refused"))),
        new QueryTimeoutException(
            "Redis (JedisConnectionException): Read timed out",
            new JedisConnectionException(new SocketTimeoutException("Read timed out"))),
        reply("OOM command not allowed when used memory > 'maxmemory'."),
        reply(
            "OOM command not allowed when used memory > 'maxmemory'. script:"
                + " 71e6319f97b0fe8bdfa1c5df3ce4489946dda479, on @user_script:1."),
        reply("LOADING Redis is loading the dataset in memory"),
        new RedisSystemException(
            "Error in execution",
            new RedisLoadingException("LOADING Redis is loading the dataset in memory")),
        reply("READONLY You can't write against a read only replica."),
        reply(
            "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE."),
        reply("MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'."),
        reply("NOSCRIPT No matching script. Please use EVAL."),
        reply("CLUSTERDOWN The cluster is down"),
        reply("TRYAGAIN Multiple keys request during rehashing of slot"),
        reply(
            "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk."),
        new RedisConnectionFailureException(
            "Unable to connect to Redis",
            new RedisConnectionException(
                "Unable to connect to 127.0.0.1:6390", new ConnectException("Connection refused"))),
        new QueryTimeoutException(
            "Redis command timed out",
            new RedisCommandTimeoutException("Command timed out after 1 minute(s)")),
        new RedisSystemException("Error in execution", new RedisException("Connection closed")),
        new RedisSystemException(
            "Error in execution",
            new RedisException("Currently not connected. Commands are rejected.")),
        new DataAccessResourceFailureException("pool exhausted"),
        new AmqpConnectException(new ConnectException("Connection refused")),
        new IllegalStateException("wrapped", new SocketTimeoutException("Read timed out")));
  }

  static Stream<RuntimeException> bugs() {
    return Stream.of(
        jedisReply(
            "ERR user_script:12: Script attempted to access nonexistent global variable 'x'"),
        jedisReply("WRONGTYPE Operation against a key holding the wrong kind of value"),
        reply("ERR user_script:12: Script attempted to access nonexistent global variable 'x'"),
        reply("WRONGTYPE Operation against a key holding the wrong kind of value"),
        reply("ERR wrong number of arguments for 'hset' command"),
        reply("BUSYKEY Target key name already exists."),
        new IllegalStateException("the claim script answered 'whatever'"),
        new NullPointerException(),
        new IllegalArgumentException("no partition in job id"),
        new AmqpException("unexpected"),
        new java.io.UncheckedIOException(new IOException("disk")));
  }

  @ParameterizedTest
  @MethodSource("infrastructure")
  void aFailureOfRedisOrTheBrokerIsInfrastructure(RuntimeException failure) {
    assertThat(FailureKind.of(failure))
        .as(failure.toString())
        .isEqualTo(FailureKind.INFRASTRUCTURE);
  }

  @ParameterizedTest
  @MethodSource("bugs")
  void anythingElseIsABugInProcessingTheMessage(RuntimeException failure) {
    assertThat(FailureKind.of(failure)).as(failure.toString()).isEqualTo(FailureKind.BUG);
  }

  @Test
  void aCycleOfCausesEnds() {
    var a = new IllegalStateException("a");
    var b = new IllegalStateException("b", a);
    a.initCause(b);
    assertThat(FailureKind.of(b)).isEqualTo(FailureKind.BUG);
  }
}
