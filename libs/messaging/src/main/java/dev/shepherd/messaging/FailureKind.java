package dev.shepherd.messaging;

import io.lettuce.core.RedisCommandExecutionException;
import io.lettuce.core.RedisException;
import java.io.InterruptedIOException;
import java.net.SocketException;
import java.nio.channels.ClosedChannelException;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Set;
import java.util.concurrent.TimeoutException;
import org.springframework.amqp.AmqpConnectException;
import org.springframework.amqp.AmqpIOException;
import org.springframework.amqp.AmqpResourceNotAvailableException;
import org.springframework.amqp.AmqpTimeoutException;
import org.springframework.dao.DataAccessResourceFailureException;
import org.springframework.dao.RecoverableDataAccessException;
import org.springframework.dao.TransientDataAccessException;
import redis.clients.jedis.exceptions.JedisDataException;

/**
 * What an exception thrown while processing a message says about that message.
 *
 * <p>Bad input (a body that cannot be read, a message against the contract) never gets here: the
 * handlers turn it into a dead-job record and return normally. What is thrown is either a failure
 * of the infrastructure the handler needs (Redis or the broker unavailable or refusing work for a
 * while) or a bug in processing this message. The first says nothing about the message, so the
 * consumer must not spend the message's delivery limit on it: it waits for Redis and tries the same
 * delivery again. The second would fail again for this message, so the message goes back to the
 * queue and, past the delivery limit, ends as a dead-job record. See ADR 0013.
 */
public enum FailureKind {
  /** Redis or the broker is unreachable, too slow, or refuses commands for now. */
  INFRASTRUCTURE,
  /** Anything else: processing this message is broken. */
  BUG;

  /**
   * Error codes with which Redis refuses a command for a while, whatever the command: loading the
   * data set, out of memory, a replica or a paused primary, a script busy, a cluster resharding,
   * persistence failing, a script cache emptied by a restart.
   */
  private static final Set<String> TRANSIENT_REDIS_ERRORS =
      Set.of(
          "LOADING",
          "OOM",
          "READONLY",
          "BUSY",
          "MASTERDOWN",
          "NOSCRIPT",
          "CLUSTERDOWN",
          "TRYAGAIN",
          "NOREPLICAS",
          "MISCONF");

  /** Classifies {@code failure} by looking at it and at every cause it wraps. */
  public static FailureKind of(Throwable failure) {
    Set<Throwable> seen = Collections.newSetFromMap(new IdentityHashMap<>());
    for (Throwable t = failure; t != null && seen.add(t); t = t.getCause()) {
      if (isInfrastructure(t)) {
        return INFRASTRUCTURE;
      }
    }
    return BUG;
  }

  private static boolean isInfrastructure(Throwable t) {
    return switch (t) {
      // Spring Data Redis translates Lettuce's exceptions into these: connection failures,
      // command timeouts; an error reply arrives as a RedisSystemException around Lettuce's own.
      case DataAccessResourceFailureException e -> true;
      case TransientDataAccessException e -> true;
      case RecoverableDataAccessException e -> true;
      // An error reply from Redis: only the codes above are Redis's state, not our command's.
      case RedisCommandExecutionException e -> isTransientReply(e.getMessage());
      // Lettuce's other failures: "Connection closed", "Currently not connected", timeouts, and
      // an interrupted wait for a reply (the consumer is stopping; the message is not broken).
      case RedisException e -> true;
      // The store's blocking client (Jedis, ADR 57) translates its failures as Spring does
      // Lettuce's; an error reply keeps Jedis's exception as the cause, Redis's code first.
      case JedisDataException e -> isTransientReply(e.getMessage());
      case AmqpConnectException e -> true;
      case AmqpTimeoutException e -> true;
      case AmqpResourceNotAvailableException e -> true;
      case AmqpIOException e -> true;
      case SocketException e -> true;
      case InterruptedIOException e -> true;
      case ClosedChannelException e -> true;
      case TimeoutException e -> true;
      default -> false;
    };
  }

  /** True when an error reply starts with one of the codes Redis uses for a passing state. */
  static boolean isTransientReply(String reply) {
    if (reply == null) {
      return false;
    }
    String trimmed = reply.strip();
    int end = 0;
    while (end < trimmed.length() && Character.isUpperCase(trimmed.charAt(end))) {
      end++;
    }
    return TRANSIENT_REDIS_ERRORS.contains(trimmed.substring(0, end));
  }
}
