package dev.shepherd.distribution.kubernetes;

import dev.shepherd.distribution.TaskStatus;
import io.fabric8.kubernetes.api.model.ContainerStateTerminated;
import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.batch.v1.JobCondition;
import io.fabric8.kubernetes.api.model.batch.v1.JobStatus;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * What a Job's status means to Shepherd, and, for a failed Job, why it failed in the words an
 * operator searches for: {@code exit code 3}, {@code OOMKilled (exit code 137)}, {@code Evicted:
 * <the kubelet's message>}, {@code DeadlineExceeded: <the controller's message>}. A failure is
 * always retryable: a pod that failed once may succeed on the next attempt, and the type's attempts
 * bound how often it is tried.
 */
final class JobStatuses {

  private static final int MAX_REASON = 500;

  private JobStatuses() {}

  /**
   * @param pods the Job's pods, asked only when the Job failed
   */
  static TaskStatus of(Job job, Supplier<List<Pod>> pods) {
    JobStatus status = job.getStatus();
    if (status == null) {
      return new TaskStatus.Pending();
    }
    if (succeeded(status)) {
      return new TaskStatus.Succeeded();
    }
    if (failed(status)) {
      return new TaskStatus.Failed(reason(status, pods.get()), true);
    }
    return positive(status.getReady()) ? new TaskStatus.Running() : new TaskStatus.Pending();
  }

  /** Completed or failed: its pod will not run again. */
  static boolean isFinished(Job job) {
    return job.getStatus() != null && (succeeded(job.getStatus()) || failed(job.getStatus()));
  }

  private static boolean succeeded(JobStatus status) {
    return condition(status, "Complete").isPresent()
        || condition(status, "SuccessCriteriaMet").isPresent()
        || positive(status.getSucceeded());
  }

  private static boolean failed(JobStatus status) {
    return condition(status, "Failed").isPresent()
        || condition(status, "FailureTarget").isPresent()
        || positive(status.getFailed());
  }

  /** The Job's deadline, else what ended its newest failed pod, else the Job's condition. */
  static String reason(JobStatus status, List<Pod> pods) {
    Optional<JobCondition> failed =
        condition(status, "Failed").or(() -> condition(status, "FailureTarget"));
    if (failed.isPresent() && "DeadlineExceeded".equals(failed.get().getReason())) {
      return truncate(withMessage("DeadlineExceeded", failed.get().getMessage()));
    }
    Optional<String> ofPod =
        pods.stream()
            .filter(p -> p.getStatus() != null)
            .sorted(
                Comparator.comparing(
                        (Pod p) -> String.valueOf(p.getMetadata().getCreationTimestamp()))
                    .reversed())
            .map(JobStatuses::reasonOf)
            .flatMap(Optional::stream)
            .findFirst();
    if (ofPod.isPresent()) {
      return truncate(ofPod.get());
    }
    return failed
        .map(c -> truncate(withMessage(String.valueOf(c.getReason()), c.getMessage())))
        .orElse("the Job failed");
  }

  private static Optional<String> reasonOf(Pod pod) {
    var podStatus = pod.getStatus();
    if (podStatus.getReason() != null) {
      return Optional.of(withMessage(podStatus.getReason(), podStatus.getMessage()));
    }
    var containers = new ArrayList<ContainerStatus>();
    if (podStatus.getInitContainerStatuses() != null) {
      containers.addAll(podStatus.getInitContainerStatuses());
    }
    if (podStatus.getContainerStatuses() != null) {
      containers.addAll(podStatus.getContainerStatuses());
    }
    for (ContainerStatus container : containers) {
      ContainerStateTerminated ended =
          container.getState() == null ? null : container.getState().getTerminated();
      if (ended == null) {
        continue;
      }
      int exit = ended.getExitCode() == null ? -1 : ended.getExitCode();
      if ("OOMKilled".equals(ended.getReason())) {
        return Optional.of("OOMKilled (exit code " + exit + ")");
      }
      if (exit != 0) {
        // the container's termination message, when it wrote one, says more than "Error"
        return Optional.of(withMessage("exit code " + exit, ended.getMessage()));
      }
    }
    return Optional.empty();
  }

  private static Optional<JobCondition> condition(JobStatus status, String type) {
    if (status.getConditions() == null) {
      return Optional.empty();
    }
    return status.getConditions().stream()
        .filter(c -> type.equals(c.getType()) && "True".equals(c.getStatus()))
        .findFirst();
  }

  private static boolean positive(Integer count) {
    return count != null && count > 0;
  }

  private static String withMessage(String reason, String message) {
    return message == null || message.isBlank() ? reason : reason + ": " + message.strip();
  }

  private static String truncate(String text) {
    return text.length() <= MAX_REASON ? text : text.substring(0, MAX_REASON) + "...";
  }
}
