package dev.shepherd.distribution.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.shepherd.distribution.AttemptRequest;
import dev.shepherd.distribution.DistributorConfig;
import dev.shepherd.distribution.Fixtures;
import dev.shepherd.model.Json;
import java.net.URI;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The POST carries everything the service needs to run the attempt and report for it. */
class HttpAttemptRequestTest {

  private final AttemptRequest attempt =
      Fixtures.attempt(new DistributorConfig("http", Map.of("endpoint", "https://svc/run")));

  @Test
  void theBodyCarriesTheJobItsClaimAndWhereToReport() {
    URI callback = HttpAttemptRequest.callbackUrl(URI.create("https://shepherd.example/"), attempt);

    var body = Json.mapper().readTree(HttpAttemptRequest.body(attempt, callback, "ab12"));

    assertThat(callback)
        .hasToString(
            "https://shepherd.example/api/v1/attempts/07-3f2a9c0d4e5f60718293a4b5c6d7e8f9.2/events");
    assertThat(body.path("jobId").asString()).isEqualTo(attempt.jobId());
    assertThat(body.path("type").asString()).isEqualTo("report.render");
    assertThat(body.path("attempt").asInt()).isEqualTo(2);
    assertThat(body.path("fencingToken").asLong()).isEqualTo(1_796_170_800_000_017L);
    assertThat(body.path("payload")).isEqualTo(attempt.payload());
    assertThat(body.path("deadline").asString()).isEqualTo("2026-12-01T10:00:00Z");
    assertThat(body.path("callbackUrl").asString()).isEqualTo(callback.toString());
    assertThat(body.path("callbackSecret").asString()).isEqualTo("ab12");
  }

  @Test
  void anAttemptWithoutDeadlineSendsNone() {
    var open =
        new AttemptRequest(attempt.jobId(), attempt.type(), 1, 5, null, attempt.config(), null);

    var body =
        Json.mapper().readTree(HttpAttemptRequest.body(open, URI.create("https://s/cb"), "ab12"));

    assertThat(body.has("deadline")).isFalse();
    assertThat(body.path("payload").isNull()).isTrue();
  }
}
