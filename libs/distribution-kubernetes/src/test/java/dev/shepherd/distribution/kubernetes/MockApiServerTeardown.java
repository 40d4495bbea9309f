package dev.shepherd.distribution.kubernetes;

import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Closes a distributor that ran against fabric8's mock API server without stalling the server's own
 * stop. The mock server sends each watch event from a thread of its own, and when a watch closes it
 * blocks its event loop until that thread is done; an event still being sent then waits for the
 * blocked loop, and the server's close timed out after 10 s (one run in a few: a status read from
 * the API server had let a test end before its informer had the last event). So the informers catch
 * up first, and no event is in flight when their watches close.
 */
final class MockApiServerTeardown {

  private MockApiServerTeardown() {}

  /**
   * Waits (at most {@code wait}) until each of the distributor's informers holds every Job of
   * Shepherd's in its namespace at the API server's resource version, then closes the distributor.
   * A Job the informer holds and the server no longer has is not waited for: the mock server does
   * not replay a delete made between an informer's list and its watch, so that event may never
   * come.
   */
  static void closeCaughtUp(
      KubernetesJobDistributor distributor, KubernetesClient client, Duration wait) {
    await().atMost(wait).until(() -> caughtUp(distributor, client));
    distributor.close();
  }

  private static boolean caughtUp(KubernetesJobDistributor distributor, KubernetesClient client) {
    return distributor.informers().entrySet().stream()
        .allMatch(
            e ->
                versions(e.getValue().getStore().list())
                    .entrySet()
                    .containsAll(
                        versions(
                                client
                                    .batch()
                                    .v1()
                                    .jobs()
                                    .inNamespace(e.getKey())
                                    .withLabel(JobNames.MANAGED_BY, JobNames.SHEPHERD)
                                    .list()
                                    .getItems())
                            .entrySet()));
  }

  private static Map<String, String> versions(List<Job> jobs) {
    return jobs.stream()
        .collect(
            Collectors.toMap(
                j -> j.getMetadata().getName(), j -> j.getMetadata().getResourceVersion()));
  }
}
