package dev.shepherd.messaging.config;

import dev.shepherd.messaging.Topology;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * Broker-side settings shared by every service ({@code shepherd.messaging.*}).
 *
 * @param prefix first part of every exchange and queue name
 * @param deliveryLimit deliveries of one message before the broker dead-letters it
 * @param confirmTimeout how long a publish waits for the broker's confirm
 * @param pools worker pools and the job types each consumes
 * @param declareTopology whether this service declares the shared exchanges, queues and bindings
 *     when it connects (true by default, so one service alone brings the topology up); a
 *     least-privilege deployment lets only the scheduler declare (ADR 41) and sets it false for the
 *     other services, whose broker users then need no configure permission on shared names
 */
@ConfigurationProperties("shepherd.messaging")
public record MessagingProperties(
    String prefix,
    Integer deliveryLimit,
    Duration confirmTimeout,
    Map<String, List<String>> pools,
    Boolean declareTopology) {

  /** The demo job types all run in one pool unless configured otherwise. */
  public static final Map<String, List<String>> DEFAULT_POOLS =
      Map.of("default", List.of("site.generate", "demo.flaky", "demo.poison", "demo.noop"));

  public MessagingProperties {
    prefix = prefix == null ? Topology.DEFAULT_PREFIX : prefix;
    deliveryLimit = deliveryLimit == null ? Topology.DEFAULT_DELIVERY_LIMIT : deliveryLimit;
    confirmTimeout = confirmTimeout == null ? Duration.ofSeconds(10) : confirmTimeout;
    pools = pools == null || pools.isEmpty() ? DEFAULT_POOLS : pools;
    declareTopology = declareTopology == null || declareTopology;
    if (deliveryLimit < 1) {
      throw new IllegalArgumentException("shepherd.messaging.delivery-limit must be >= 1");
    }
  }

  public Topology topology() {
    return new Topology(prefix, pools, deliveryLimit);
  }
}
