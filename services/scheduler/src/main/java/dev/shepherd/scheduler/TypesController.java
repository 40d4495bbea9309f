package dev.shepherd.scheduler;

import dev.shepherd.engine.intake.JobTypeCatalog;
import dev.shepherd.store.WorkerRegistry;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RestController;

/**
 * {@code GET /api/v1/types}: every job type the scheduler accepts, configured or announced by a
 * worker (ADR 35), with its pool, payload schema, defaults and the live workers that run it.
 */
@RestController
@RequestMapping("/api/v1")
class TypesController {

  private final JobTypeCatalog catalog;
  private final WorkerRegistry workers;
  private final Access access;

  TypesController(JobTypeCatalog catalog, WorkerRegistry workers, Access access) {
    this.catalog = catalog;
    this.workers = workers;
    this.access = access;
  }

  /** The types the caller may read jobs of (ADR 40). */
  @GetMapping("/types")
  ResponseEntity<String> types() {
    access.requireSome(dev.shepherd.engine.access.Operation.READ);
    var caller = access.caller();
    return JsonResponses.ok(
        catalog.views(workers.list()).stream()
            .filter(
                t ->
                    access
                        .policy()
                        .allows(caller, dev.shepherd.engine.access.Operation.READ, t.type()))
            .toList());
  }
}
