package dev.shepherd.engine.access;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** The dispatcher's remembered answers follow the policy, never outlive it. */
class DispatchRefusalsTest {

  private static final String ANN = Callers.identity(new Caller("ann", "acme", Set.of()));

  private static PolicySource.Snapshot granting(String... types) {
    var keys =
        new ApiKeys(
            List.of(new ApiKeys.ApiKey("ann", ApiKeys.sha256("k"), "acme", Set.of("producers"))));
    var policy =
        new AccessPolicy(
            List.of(
                new Grant(
                    List.of(), List.of("producers"), List.of(types), Set.of(Operation.SUBMIT))));
    return new PolicySource.Snapshot(keys, policy, Map.of());
  }

  @Test
  void theAnswersAreCallersAndARevokedGrantRefusesOnceThePolicyChanged() {
    var policy = new AtomicReference<>(granting("report.*", "demo.noop"));
    var refusals = new DispatchRefusals(policy::get);

    assertThat(refusals.refusal(ANN, "report.render", "default")).isNull();
    assertThat(refusals.refusal(ANN, "report.render", "default")).as("remembered").isNull();
    assertThat(refusals.refusal(ANN, "billing.charge", "default"))
        .isEqualTo(Callers.refusal(ANN, "billing.charge", "default", policy.get()))
        .startsWith("forbidden: ann may no longer submit");
    assertThat(refusals.refusal(null, "billing.charge", "default")).isNull();

    policy.set(granting("demo.noop")); // report.* revoked: a reloaded policy file
    assertThat(refusals.refusal(ANN, "report.render", "default"))
        .as("not the answer remembered under the old policy")
        .startsWith("forbidden: ann may no longer submit jobs of type 'report.render'");
    assertThat(refusals.refusal(ANN, "demo.noop", "default")).isNull();
  }

  @Test
  void aFullMemoryStartsAfreshAndStillAnswersRight() {
    var policy = new AtomicReference<>(granting("demo.noop"));
    var refusals = new DispatchRefusals(policy::get);
    for (int i = 0; i < DispatchRefusals.MAX_REMEMBERED + 5; i++) {
      assertThat(refusals.refusal(ANN, "demo.noop", "pool-" + i)).isNull();
    }
    assertThat(refusals.refusal(ANN, "report.render", "pool-1")).startsWith("forbidden");
  }
}
