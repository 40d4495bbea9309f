package dev.shepherd.distribution;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The SPI's values refuse what cannot be right and cannot change once made. */
class DistributorRecordsTest {

  @Test
  void aConfigSnapshotDoesNotChangeWhenTheConfigurationItCameFromDoes() {
    var live = new HashMap<String, String>(Map.of("endpoint", "https://a.example/run"));
    var snapshot = new DistributorConfig("http", live);

    live.put("endpoint", "https://b.example/run");

    assertThat(snapshot.setting("endpoint")).isEqualTo("https://a.example/run");
    assertThatThrownBy(() -> snapshot.settings().put("x", "y"))
        .isInstanceOf(UnsupportedOperationException.class);
    assertThat(snapshot)
        .isEqualTo(new DistributorConfig("http", Map.of("endpoint", "https://a.example/run")));
  }

  @Test
  void aConfigNeedsADistributorAndNamedValuedSettings() {
    assertThatThrownBy(() -> new DistributorConfig(" ", Map.of()))
        .hasMessageContaining("needs a distributor name");
    var withNull = new HashMap<String, String>();
    withNull.put("endpoint", null);
    assertThatThrownBy(() -> new DistributorConfig("http", withNull))
        .hasMessageContaining("distributor 'http' has a setting without a name or value");
    assertThat(new DistributorConfig("http", null).settings()).isEmpty();
  }

  @Test
  void theLimitsARunAsksForArePositiveOrAbsent() {
    var token = new TaskToken("t");
    assertThat(new Started(token, Duration.ofMinutes(1), null, null).timeToRun()).isNull();
    assertThatThrownBy(() -> new Started(token, null, Duration.ZERO, null))
        .hasMessage("timeToRun must be a positive duration, was PT0S");
    assertThatThrownBy(() -> new Started(null, null, null, null))
        .hasMessageContaining("needs its token");
  }

  @Test
  void aTaskTokenIsNeitherBlankNorUnbounded() {
    assertThatThrownBy(() -> new TaskToken("")).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new TaskToken("x".repeat(TaskToken.MAX_LENGTH + 1)))
        .isInstanceOf(IllegalArgumentException.class);
    assertThat(new TaskToken("x".repeat(TaskToken.MAX_LENGTH)).value())
        .hasSize(TaskToken.MAX_LENGTH);
  }

  @Test
  void anAttemptRequestCarriesAClaimAndItsConfiguration() {
    var config = new DistributorConfig("http", Map.of());
    assertThatThrownBy(() -> new AttemptRequest("j", "t", 0, 1, null, config, null))
        .hasMessage("attempts count from 1, was 0");
    assertThatThrownBy(() -> new AttemptRequest("j", "t", 1, -1, null, config, null))
        .hasMessage("a fencing token is positive, or 0 before the claim, was -1");
    // worker-pool runs an attempt before its claim; http and kubernetes-job only claimed ones
    var unclaimed = new AttemptRequest("j", "t", 1, 0, null, config, null);
    assertThat(unclaimed.submittedAt()).isNull();
    assertThatThrownBy(() -> unclaimed.requireClaimed("http"))
        .hasMessage(
            "http runs claimed attempts only (a worker's handler runs them): attempt 1 of job j"
                + " has no fencing token");
    assertThat(new AttemptRequest("j", "t", 1, 5, null, config, null).requireClaimed("http"))
        .extracting(AttemptRequest::fencingToken)
        .isEqualTo(5L);
    assertThatThrownBy(() -> new AttemptRequest("j", "t", 1, 1, null, null, null))
        .hasMessageContaining("needs its distributor configuration");
  }

  @Test
  void notificationAttributesAreFoundWhateverTheirCase() {
    var n = new Notification(Map.of("Shepherd-Signature", "v1=ab"), null);

    assertThat(n.attribute("shepherd-signature")).isEqualTo("v1=ab");
    assertThat(n.body()).isEmpty();
  }

  @Test
  void oneProblemReadsAsOneSentence() {
    assertThat(new InvalidDistributorConfigException("report.render", "endpoint", "is required"))
        .hasMessage(
            "invalid distributor configuration: job type 'report.render': endpoint is required");
  }
}
