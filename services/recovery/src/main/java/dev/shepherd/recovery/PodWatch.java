package dev.shepherd.recovery;

import dev.shepherd.engine.recovery.LostWorkers;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.Watch;
import io.fabric8.kubernetes.client.Watcher;
import io.fabric8.kubernetes.client.WatcherException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Watches worker pods and, when one is deleted, evicted, OOM-killed or fails, releases the leases
 * of its workers at once so their jobs re-dispatch without waiting for the lease TTL. The watch
 * re-opens itself when the API server closes it.
 */
final class PodWatch implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(PodWatch.class);

  private final KubernetesClient client;
  private final String namespace;
  private final String selector;
  private final LostWorkers lostWorkers;
  private volatile Watch watch;
  private volatile boolean closed;

  PodWatch(KubernetesClient client, String namespace, String selector, LostWorkers lostWorkers) {
    this.client = client;
    this.namespace = namespace;
    this.selector = selector;
    this.lostWorkers = lostWorkers;
  }

  void start() {
    watch =
        client
            .pods()
            .inNamespace(namespace)
            .withLabelSelector(selector)
            .watch(
                new Watcher<>() {
                  @Override
                  public void eventReceived(Action action, Pod pod) {
                    onEvent(action, pod);
                  }

                  @Override
                  public void onClose(WatcherException cause) {
                    if (!closed) {
                      log.warn("pod watch closed ({}); opening it again", cause.getMessage());
                      start();
                    }
                  }
                });
    log.info("watching worker pods in namespace {} with selector {}", namespace, selector);
  }

  void onEvent(Watcher.Action action, Pod pod) {
    String name = pod.getMetadata().getName();
    PodFate.of(action, pod)
        .ifPresent(
            why -> {
              int released = lostWorkers.podGone(name, why);
              log.info("worker pod {} {}: released {} lease(s)", name, why, released);
            });
  }

  @Override
  public void close() {
    closed = true;
    if (watch != null) {
      watch.close();
    }
  }
}
