package dev.shepherd.distribution;

import static dev.shepherd.distribution.Fixtures.config;
import static dev.shepherd.distribution.Fixtures.named;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.shepherd.distribution.InvalidDistributorConfigException.Problem;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** A job type finds its distributor by name, and a wrong configuration stops the start-up. */
class DistributorsTest {

  @Test
  void twoDistributorsCannotShareAName() {
    var registry = Distributors.of(named("worker-pool"), named("http"));

    assertThatThrownBy(() -> registry.register(named("http")))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("two distributors are named 'http'");
    assertThat(registry.names()).containsExactly("http", "worker-pool");
  }

  @Test
  void aTypeFindsTheDistributorItsConfigurationNames() {
    var http = named("http");
    var registry = Distributors.of(named("worker-pool"), http);

    assertThat(registry.forConfig(config("http", Map.of()))).isSameAs(http);
  }

  @Test
  void anUnknownDistributorIsRefusedWithEveryKnownName() {
    var registry = Distributors.of(named("worker-pool"), named("http"));

    assertThatThrownBy(() -> registry.forConfig(config("kubernetes-job", Map.of())))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("names no known distributor 'kubernetes-job' (known: http, worker-pool)");
  }

  @Test
  void validationListsEveryProblemOfEveryType() {
    var registry = Distributors.of(named("worker-pool"), named("http"));
    var configs = new HashMap<String, DistributorConfig>();
    configs.put("report.render", config("http", Map.of())); // no queue
    configs.put("site.generate", config("kubernetes-job", Map.of())); // unknown
    configs.put("mail.send", null); // no distributor at all
    configs.put("demo.noop", config("worker-pool", Map.of("queue", "default"))); // fine

    var e =
        catchThrowableOfType(
            InvalidDistributorConfigException.class, () -> registry.validateAll(configs));

    assertThat(e.problems())
        .containsExactly(
            new Problem("mail.send", "distributor", "is not set"),
            new Problem("report.render", "queue", "is required"),
            new Problem(
                "site.generate",
                "distributor",
                "names no known distributor 'kubernetes-job' (known: http, worker-pool)"));
    assertThat(e)
        .hasMessageStartingWith("invalid distributor configuration, 3 problems: ")
        .hasMessageContaining("job type 'report.render': queue is required");
  }

  @Test
  void aValidConfigurationPasses() {
    var registry = Distributors.of(named("worker-pool"));

    registry.validateAll(Map.of("demo.noop", config("worker-pool", Map.of("queue", "default"))));
  }
}
