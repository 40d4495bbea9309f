package dev.shepherd.recovery;

import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.Watcher;
import java.util.Optional;

/**
 * Reads a pod event as "this worker pod is gone, and why": deleted, evicted, failed, or a container
 * OOM-killed or terminated with an exit code. Empty while the pod is fine.
 */
final class PodFate {

  private PodFate() {}

  static Optional<String> of(Watcher.Action action, Pod pod) {
    if (action == Watcher.Action.DELETED) {
      return Optional.of("deleted" + terminated(pod).map(t -> " (" + t + ")").orElse(""));
    }
    if (pod.getMetadata() != null && pod.getMetadata().getDeletionTimestamp() != null) {
      return Optional.empty(); // terminating gracefully: the worker drains and releases by itself
    }
    var status = pod.getStatus();
    if (status == null) {
      return Optional.empty();
    }
    if ("Evicted".equals(status.getReason())) {
      return Optional.of(
          "evicted" + (status.getMessage() == null ? "" : ": " + status.getMessage()));
    }
    Optional<String> terminated = terminated(pod);
    if (terminated.isPresent()) {
      return terminated;
    }
    if ("Failed".equals(status.getPhase())) {
      return Optional.of("failed" + (status.getReason() == null ? "" : ": " + status.getReason()));
    }
    return Optional.empty();
  }

  /** A container that ended: "OOMKilled (exit code 137)", "Error (exit code 1)". */
  private static Optional<String> terminated(Pod pod) {
    if (pod.getStatus() == null || pod.getStatus().getContainerStatuses() == null) {
      return Optional.empty();
    }
    for (ContainerStatus container : pod.getStatus().getContainerStatuses()) {
      var state = container.getState();
      if (state != null && state.getTerminated() != null) {
        var t = state.getTerminated();
        return Optional.of(
            (t.getReason() == null ? "terminated" : t.getReason())
                + " (exit code "
                + t.getExitCode()
                + ")");
      }
    }
    return Optional.empty();
  }
}
