package dev.shepherd.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.shepherd.client.ShepherdClient;
import dev.shepherd.client.ShepherdClientException;
import dev.shepherd.model.JobState;
import dev.shepherd.model.JobSubmission;
import dev.shepherd.model.JobTypeView;
import dev.shepherd.model.JobView;
import dev.shepherd.model.Json;
import dev.shepherd.testsupport.ManagedProcess;
import dev.shepherd.testsupport.ServiceEndpoints;
import dev.shepherd.testsupport.TestNames;
import dev.shepherd.testsupport.WithRealServices;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/**
 * Job types are registered, not compiled in (issue 18 item 1, ADR 35): a team's worker built
 * outside Shepherd's modules ({@code examples/report-worker}, package {@code com.example.reports},
 * on the starter alone) brings {@code report.render} in pool {@code reports}, which no Shepherd
 * configuration names. Before it runs the scheduler refuses the type; once it runs the type is
 * listed with its schema, pool and worker, payloads are validated against the announced schema at
 * submission, and its jobs run to the end, with the handler's own attempts default. After the
 * worker stops, the type stays accepted (recently seen) and its jobs wait for the next one.
 */
@WithRealServices
class JobTypesE2EIT {

  private static final String TYPE = "report.render";

  @Test
  void aWorkerBuiltOutsideShepherdBringsItsOwnJobTypeAndSchema(
      ServiceEndpoints endpoints, TestNames names) throws Exception {
    Path jar =
        Cluster.builtJar(
            Cluster.repositoryRoot(), "examples/report-worker", "shepherd-example-report-worker");
    try (var e2e = new E2eSupport(endpoints, names.prefix(), 0, Map.of());
        var client = e2e.cluster.client().build()) {
      var unknown =
          assertThatThrownBy(() -> client.submit(report("{\"title\":\"Q3\",\"pages\":2}")))
              .isInstanceOf(ShepherdClientException.class)
              .actual();
      assertThat(((ShepherdClientException) unknown).status())
          .as("no worker announced it yet")
          .isEqualTo(422);
      assertThat(find(client, TYPE)).isEmpty();

      // its events go through the status queue (ADR 56's other way), so that the status-tracker,
      // which applies what a worker could not write itself, shows it knows the announced pool
      ManagedProcess worker =
          e2e.cluster.addWorkerFromJar(
              "reports-1", jar, Map.of("shepherd.worker.reports.direct", "false"));

      JobTypeView listed =
          await()
              .atMost(Duration.ofSeconds(30))
              .until(() -> find(client, TYPE), Optional::isPresent)
              .orElseThrow();
      assertThat(listed.source()).isEqualTo(JobTypeView.ANNOUNCED);
      assertThat(listed.pool()).isEqualTo("reports");
      assertThat(listed.workers()).containsExactly("reports-1");
      assertThat(listed.maxAttempts()).as("the handler's own default").isEqualTo(2);
      JsonNode schema = listed.payloadSchema();
      assertThat(schema.path("properties").path("pages").path("type").asString())
          .isEqualTo("integer");
      assertThat(schema.path("required").toString()).isEqualTo("[\"title\",\"pages\"]");
      assertThat(schema.path("properties").path("format").path("enum").toString())
          .contains("\"PDF\"", "\"HTML\"");
      assertThat(find(client, "demo.noop").orElseThrow().source())
          .as("the configured types are listed too")
          .isEqualTo(JobTypeView.CONFIGURATION);

      // the announced schema judges payloads at submission, naming the field
      assertThat(refusal(client, "{\"title\":\"Q3\",\"pages\":\"many\"}"))
          .extracting(ShepherdClientException::status)
          .isEqualTo(422);
      assertThat(fields(refusal(client, "{\"title\":\"Q3\",\"pages\":\"many\"}")))
          .contains("/payload/pages");
      assertThat(fields(refusal(client, "{\"pages\":1}"))).contains("/payload/title");
      assertThat(fields(refusal(client, "{\"title\":\"Q3\"}")))
          .as("a primitive the handler's mapper would refuse to miss")
          .contains("/payload/pages");
      assertThat(fields(refusal(client, "{\"title\":\"Q3\",\"colour\":\"red\"}")))
          .contains("/payload/colour");
      assertThat(fields(refusal(client, "{\"title\":\"Q3\",\"format\":\"DOCX\"}")))
          .contains("/payload/format");

      String id =
          client.submit(report("{\"title\":\"Q3\",\"pages\":3,\"format\":\"HTML\"}")).jobId();
      JobView done = client.await(id, Duration.ofMinutes(1)).get();
      assertThat(done.state()).isEqualTo(JobState.SUCCEEDED);
      assertThat(done.maxAttempts()).isEqualTo(2);
      assertThat(done.progressPercent()).as("the handler's last progress report").isEqualTo(100);
      assertThat(e2e.cluster.metric("status-tracker", "shepherd.jobs.succeeded?tag=pool:reports"))
          .as("the status tracker tags the job with its announced pool")
          .isEqualTo(1.0);

      StringWriter out = new StringWriter();
      int exit =
          dev.shepherd.cli.ShepherdCli.run(
              new PrintWriter(out, true),
              new PrintWriter(new StringWriter(), true),
              "--url",
              e2e.cluster.schedulerUri().toString(),
              "--api-key",
              dev.shepherd.testsupport.TestApiKeys.ADMIN_KEY,
              "types");
      assertThat(exit).isZero();
      assertThat(out.toString())
          .containsPattern("report\\.render +reports +announced +2 +reports-1");

      // recently seen: the type outlives its worker, and its jobs wait for the next one
      e2e.cluster.removeWorker(worker);
      await()
          .atMost(Duration.ofSeconds(30))
          .until(() -> find(client, TYPE).orElseThrow().workers().isEmpty());
      String waiting = client.submit(report("{\"title\":\"Q4\",\"pages\":1}")).jobId();
      assertThat(client.get(waiting).orElseThrow().state())
          .isIn(JobState.SUBMITTED, JobState.QUEUED);
      e2e.cluster.addWorkerFromJar("reports-2", jar, Map.of());
      assertThat(client.await(waiting, Duration.ofMinutes(1)).get().state())
          .isEqualTo(JobState.SUCCEEDED);
    }
  }

  private static JobSubmission report(String payload) {
    return JobSubmission.of(TYPE, Json.mapper().readTree(payload));
  }

  private static Optional<JobTypeView> find(ShepherdClient client, String type) {
    return client.types().stream().filter(t -> t.type().equals(type)).findFirst();
  }

  private static ShepherdClientException refusal(ShepherdClient client, String payload) {
    try {
      client.submit(report(payload));
    } catch (ShepherdClientException e) {
      return e;
    }
    throw new AssertionError("accepted " + payload);
  }

  private static java.util.List<String> fields(ShepherdClientException e) {
    return e.fieldErrors().stream().map(ShepherdClientException.FieldError::field).toList();
  }
}
