package dev.shepherd.worker;

import dev.shepherd.model.WorkMessage;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The worker's handlers by job type, checked when the worker is built (each names a type and a
 * payload type; no type has two), and the binding of a work message to its handler and payload.
 */
final class Handlers {

  /** What a work message binds to: its handler and payload, or why it cannot run. */
  sealed interface Binding {}

  /** This worker has no handler for the job type. */
  record Missing(String type) implements Binding {}

  /** The handler exists, but the payload does not fit its type; {@code problem} says why. */
  record Unbound(JobHandler<?> handler, String problem) implements Binding {}

  /** The handler and the payload it takes. */
  record Bound<P>(JobHandler<P> handler, P payload) implements Binding {}

  private final Map<String, JobHandler<?>> byType = new HashMap<>();

  /**
   * @throws IllegalArgumentException for a handler without a type or payload type, or for two
   *     handlers of one type
   */
  Handlers(List<? extends JobHandler<?>> handlers) {
    for (JobHandler<?> handler : handlers) {
      if (handler.type() == null || handler.type().isBlank() || handler.payloadType() == null) {
        throw new IllegalArgumentException(
            "handler " + handler.getClass().getName() + " needs a type and a payload type");
      }
      JobHandler<?> other = byType.put(handler.type(), handler);
      if (other != null) {
        throw new IllegalArgumentException(
            "two handlers for job type "
                + handler.type()
                + ": "
                + other.getClass().getName()
                + " and "
                + handler.getClass().getName());
      }
    }
  }

  /** The job types there are handlers for. */
  Set<String> types() {
    return Set.copyOf(byType.keySet());
  }

  /** True when there is a handler for {@code type}. */
  boolean has(String type) {
    return byType.containsKey(type);
  }

  /** Finds the work's handler and binds its payload ({@link PayloadBinding}). */
  Binding bind(WorkMessage work) {
    JobHandler<?> handler = byType.get(work.type());
    return handler == null ? new Missing(work.type()) : bind(handler, work);
  }

  private static <P> Binding bind(JobHandler<P> handler, WorkMessage work) {
    return switch (PayloadBinding.bind(work.payload(), handler.payloadType())) {
      case PayloadBinding.Unbound<P> unbound -> new Unbound(handler, unbound.problem());
      case PayloadBinding.Bound<P> bound -> new Bound<>(handler, bound.payload());
    };
  }
}
