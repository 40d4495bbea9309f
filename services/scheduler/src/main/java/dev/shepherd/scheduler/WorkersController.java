package dev.shepherd.scheduler;

import dev.shepherd.model.WorkerView;
import dev.shepherd.store.LeaseRecovery;
import dev.shepherd.store.WorkerRegistry;
import java.util.List;
import java.util.Map;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RestController;

/** {@code GET /api/v1/workers}: every registered worker, its state and the leases it holds. */
@RestController
@RequestMapping("/api/v1")
class WorkersController {

  private final WorkerRegistry registry;
  private final LeaseRecovery recovery;
  private final Access access;

  WorkersController(WorkerRegistry registry, LeaseRecovery recovery, Access access) {
    this.registry = registry;
    this.recovery = recovery;
    this.access = access;
  }

  /** The workers: an administrator's view (ADR 40). */
  @GetMapping("/workers")
  ResponseEntity<String> workers() {
    return JsonResponses.ok(listed());
  }

  /** The workers with the leases each holds (the API's and the console's one way to list them). */
  List<WorkerView> listed() {
    access.requireAdmin("list the workers");
    Map<String, Integer> leases = recovery.leasesByWorker();
    return registry.list().stream().map(w -> w.withLeases(leases.getOrDefault(w.id(), 0))).toList();
  }
}
