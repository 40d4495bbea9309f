package dev.shepherd.scheduler;

import dev.shepherd.store.JobQueries;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

/**
 * Ordering keys (ADR 29): {@code GET /api/v1/keys/{key}}, one key's state, backlog, head and next
 * retry; {@code GET /api/v1/keys?state=DOWN}, the keys that are down, longest down first.
 */
@RestController
@RequestMapping("/api/v1")
class KeysController {

  private final JobQueries queries;
  private final Access access;

  KeysController(JobQueries queries, Access access) {
    this.queries = queries;
    this.access = access;
  }

  /** An ordering key: an administrator's view, since keys are shared by every tenant (ADR 40). */
  @GetMapping("/keys/{key}")
  ResponseEntity<?> key(@PathVariable String key) {
    access.requireAdmin("read ordering keys");
    return JsonResponses.ok(queries.orderingKey(key));
  }

  @GetMapping("/keys")
  ResponseEntity<?> keys(
      @RequestParam(required = false) String state, @RequestParam(defaultValue = "100") int limit) {
    access.requireAdmin("list ordering keys");
    if (limit < 1 || limit > Problems.MAX_LIST) {
      return Problems.limitOutOfRange();
    }
    if (!"DOWN".equals(state)) {
      return Problems.badRequest(
          "state",
          "lists only the keys that are DOWN (state=DOWN); a key that is UP is read with"
              + " /api/v1/keys/{key}");
    }
    return JsonResponses.ok(queries.downOrderingKeys(limit));
  }
}
