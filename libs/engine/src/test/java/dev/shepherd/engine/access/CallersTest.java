package dev.shepherd.engine.access;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The submitter's identity a job stores, and the dispatch check that reads it back (ADR 40, 54).
 */
class CallersTest {

  private static final AccessPolicy PRODUCERS_SUBMIT =
      new AccessPolicy(
          List.of(
              new Grant(List.of(), List.of("producers"), List.of("*"), Set.of(Operation.SUBMIT))));

  /** A policy that knows no key and no broker user: a token's stored groups are what counts. */
  private static final PolicySource.Snapshot NOBODY_KNOWN =
      new PolicySource.Snapshot(new ApiKeys(List.of()), PRODUCERS_SUBMIT, Map.of());

  @Test
  void anIdentityStoresNoEmptyGroupsOrTenant() {
    assertThat(Callers.identity(new Caller("guest", Caller.NO_TENANT, Set.of())))
        .isEqualTo("{\"name\":\"guest\"}");
    assertThat(Callers.identity(new Caller("ann", "acme", Set.of("producers", "billing"))))
        .isEqualTo("{\"name\":\"ann\",\"groups\":[\"billing\",\"producers\"],\"tenant\":\"acme\"}");
  }

  @Test
  void theShortAndTheFullFormReadAlike() {
    String shortForm = Callers.identity(new Caller("tok", Caller.NO_TENANT, Set.of()));
    String fullForm = "{\"name\":\"tok\",\"groups\":[],\"tenant\":\"\"}";
    for (String stored : List.of(shortForm, fullForm)) {
      assertThat(Callers.refusal(stored, "report.render", "default", NOBODY_KNOWN))
          .as(stored + ": no group, no grant")
          .isEqualTo(
              "forbidden: tok may no longer submit jobs of type 'report.render' (the grant was"
                  + " revoked after the job was accepted)");
    }
    String withGroup = Callers.identity(new Caller("tok", Caller.NO_TENANT, Set.of("producers")));
    assertThat(Callers.refusal(withGroup, "report.render", "default", NOBODY_KNOWN))
        .as("the stored group grants it")
        .isNull();
  }
}
