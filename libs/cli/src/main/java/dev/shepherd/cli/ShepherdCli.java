package dev.shepherd.cli;

import dev.shepherd.client.ShepherdClient;
import dev.shepherd.client.ShepherdClientException;
import dev.shepherd.model.DeadJob;
import dev.shepherd.model.JobState;
import dev.shepherd.model.JobSubmission;
import dev.shepherd.model.JobSummary;
import dev.shepherd.model.JobTypeView;
import dev.shepherd.model.JobView;
import dev.shepherd.model.Json;
import dev.shepherd.model.WorkerView;
import java.io.PrintWriter;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;
import tools.jackson.databind.JsonNode;

/**
 * {@code shepherd}: the operators' command line over the scheduler's REST API (issue 18, item 6).
 * Every command reads the scheduler's address from {@code --url} or {@code SHEPHERD_URL}. Exit
 * codes: 0 done, 1 the API refused (its problem's title and detail are printed), 2 a usage error, 3
 * a job that ended other than SUCCEEDED under {@code submit --wait} or {@code watch}.
 */
@Command(
    name = "shepherd",
    mixinStandardHelpOptions = true,
    version = "shepherd 0.1.0",
    description = "Submit, watch and repair Shepherd jobs.",
    subcommands = {
      ShepherdCli.Submit.class,
      ShepherdCli.Get.class,
      ShepherdCli.Watch.class,
      ShepherdCli.ListJobs.class,
      ShepherdCli.Cancel.class,
      ShepherdCli.RetryNow.class,
      ShepherdCli.Dead.class,
      ShepherdCli.Redrive.class,
      ShepherdCli.Discard.class,
      ShepherdCli.Workers.class,
      ShepherdCli.Types.class,
      ShepherdCli.Key.class
    })
public final class ShepherdCli {

  /** A job that ended DEAD or CANCELLED where the command waited for it. */
  static final int NOT_SUCCEEDED = 3;

  @Option(
      names = "--url",
      defaultValue = "${env:SHEPHERD_URL:-http://localhost:8081}",
      description = "The scheduler's base URL (default: $SHEPHERD_URL, else ${DEFAULT-VALUE}).")
  URI url;

  @Spec CommandSpec spec;

  public static void main(String[] args) {
    System.exit(run(new PrintWriter(System.out, true), new PrintWriter(System.err, true), args));
  }

  /** Runs one command line; answers its exit code. */
  public static int run(PrintWriter out, PrintWriter err, String... args) {
    CommandLine line = new CommandLine(new ShepherdCli());
    line.setOut(out);
    line.setErr(err);
    line.setExecutionExceptionHandler(
        (e, cmd, parsed) -> {
          if (e instanceof ShepherdClientException api) {
            cmd.getErr().println("shepherd: " + api.getMessage());
            return 1;
          }
          throw e;
        });
    return line.execute(args);
  }

  @Option(
      names = "--api-key",
      defaultValue = "${env:SHEPHERD_API_KEY}",
      description = "The API key every call carries (default: $SHEPHERD_API_KEY).")
  String apiKey;

  ShepherdClient client() {
    return ShepherdClient.builder().httpBaseUri(url).apiKey(apiKey).build();
  }

  PrintWriter out() {
    return spec.commandLine().getOut();
  }

  /** A command of this tool: the client to the configured scheduler and the output. */
  abstract static class Sub implements Callable<Integer> {
    @ParentCommand ShepherdCli root;

    @Override
    public Integer call() throws Exception {
      try (ShepherdClient client = root.client()) {
        return run(client, root.out());
      }
    }

    abstract int run(ShepherdClient client, PrintWriter out) throws Exception;
  }

  @Command(name = "submit", description = "Submit a job; prints its id.")
  static final class Submit extends Sub {
    @Parameters(index = "0", description = "The job type, such as site.generate.")
    String type;

    @Option(names = "--payload", description = "The payload as JSON (default {}).")
    String payload;

    @Option(names = "--payload-file", description = "Read the payload from this JSON file.")
    Path payloadFile;

    @Option(names = "--idempotency-key")
    String idempotencyKey;

    @Option(names = "--ordering-key", description = "Run in this key's order (ADR 29).")
    String orderingKey;

    @Option(names = "--max-attempts")
    Integer maxAttempts;

    @Option(names = "--wait", description = "Wait for the job's end and print it.")
    boolean waitForEnd;

    @Option(names = "--timeout", defaultValue = "PT10M", description = "With --wait (ISO-8601).")
    Duration timeout;

    @Override
    int run(ShepherdClient client, PrintWriter out) throws Exception {
      String json = payloadFile != null ? Files.readString(payloadFile) : payload;
      JsonNode body =
          json == null ? Json.mapper().createObjectNode() : Json.mapper().readTree(json);
      JobSubmission submission =
          JobSubmission.of(type, body)
              .withIdempotencyKey(idempotencyKey)
              .withOrderingKey(orderingKey)
              .withMaxAttempts(maxAttempts);
      String id = client.submit(submission).jobId();
      out.println(id);
      if (!waitForEnd) {
        return 0;
      }
      JobView end =
          client.await(id, timeout).get(timeout.toMillis() + 5_000, TimeUnit.MILLISECONDS);
      out.println(end.state() + " after " + end.attempt() + " attempt(s)");
      return end.state() == JobState.SUCCEEDED ? 0 : NOT_SUCCEEDED;
    }
  }

  @Command(name = "get", description = "Print a job as JSON: state, attempts, phases, history.")
  static final class Get extends Sub {
    @Parameters(index = "0")
    String id;

    @Override
    int run(ShepherdClient client, PrintWriter out) {
      var job = client.get(id);
      if (job.isEmpty()) {
        root.spec.commandLine().getErr().println("shepherd: no job " + id);
        return 1;
      }
      out.println(Json.mapper().writerWithDefaultPrettyPrinter().writeValueAsString(job.get()));
      return 0;
    }
  }

  @Command(name = "watch", description = "Show a job's progress until it ends.")
  static final class Watch extends Sub {
    @Parameters(index = "0")
    String id;

    @Option(names = "--every", defaultValue = "PT0.5S", description = "How often to look.")
    Duration every;

    @Override
    int run(ShepherdClient client, PrintWriter out) throws InterruptedException {
      String last = null;
      while (true) {
        var job = client.get(id);
        if (job.isEmpty()) {
          root.spec.commandLine().getErr().println("shepherd: no job " + id);
          return 1;
        }
        String line = progressLine(job.get());
        if (!line.equals(last)) {
          out.println(line);
          last = line;
        }
        if (job.get().state().isTerminal()) {
          return job.get().state() == JobState.SUCCEEDED ? 0 : NOT_SUCCEEDED;
        }
        Thread.sleep(every.toMillis());
      }
    }
  }

  /** {@code [##########----------] 50% rendering RUNNING (attempt 1)}. */
  static String progressLine(JobView job) {
    int percent =
        job.state() == JobState.SUCCEEDED
            ? 100
            : job.progressPercent() == null ? 0 : job.progressPercent();
    int filled = percent / 5;
    String bar = "#".repeat(filled) + "-".repeat(20 - filled);
    String message = job.progressMessage() == null ? "" : "  " + job.progressMessage();
    String error =
        job.state() == JobState.DEAD && job.lastError() != null ? "  " + job.lastError() : "";
    return "[%s] %3d%%%s  %s (attempt %d)%s"
        .formatted(bar, percent, message, job.state(), job.attempt(), error);
  }

  @Command(name = "list", description = "List jobs, newest first.")
  static final class ListJobs extends Sub {
    @Option(names = "--state")
    JobState state;

    @Option(names = "--type")
    String type;

    @Option(names = "--limit", defaultValue = "20")
    int limit;

    @Override
    int run(ShepherdClient client, PrintWriter out) {
      List<JobSummary> jobs = client.list(state, type, limit);
      out.printf("%-38s %-20s %-11s %s%n", "ID", "TYPE", "STATE", "ATTEMPT");
      for (JobSummary job : jobs) {
        out.printf("%-38s %-20s %-11s %d%n", job.id(), job.type(), job.state(), job.attempt());
      }
      return 0;
    }
  }

  @Command(name = "cancel", description = "Cancel a job; prints the state it left.")
  static final class Cancel extends Sub {
    @Parameters(index = "0")
    String id;

    @Option(names = "--by")
    String by;

    @Option(names = "--reason")
    String reason;

    @Override
    int run(ShepherdClient client, PrintWriter out) {
      var previous = client.cancel(id, by, reason);
      out.println(previous.map(p -> "CANCELLED (was " + p + ")").orElse("CANCELLED (already)"));
      return 0;
    }
  }

  @Command(
      name = "retry-now",
      description = "Publish a job waiting out its retry backoff (RETRY_WAIT) at once.")
  static final class RetryNow extends Sub {
    @Parameters(index = "0")
    String id;

    @Option(names = "--by")
    String by;

    @Override
    int run(ShepherdClient client, PrintWriter out) {
      var dueBefore = client.retryNow(id, by);
      out.println(
          dueBefore
              .map(t -> "due now (its retry was due at " + t + ")")
              .orElse("due now (it waited for its ordering key or a concurrency slot)"));
      return 0;
    }
  }

  @Command(name = "dead", description = "List dead-job records.")
  static final class Dead extends Sub {
    @Option(names = "--limit", defaultValue = "20")
    int limit;

    @Override
    int run(ShepherdClient client, PrintWriter out) {
      out.printf("%-38s %-20s %s%n", "RECORD", "TYPE", "REASON");
      for (DeadJob dead : client.deadJobs(limit)) {
        out.printf("%-38s %-20s %s%n", dead.id(), dead.type(), dead.reason());
      }
      return 0;
    }
  }

  @Command(name = "redrive", description = "Give a dead job one more attempt.")
  static final class Redrive extends Sub {
    @Parameters(index = "0", description = "The dead-job record (a job's record has its id).")
    String record;

    @Option(names = "--by")
    String by;

    @Override
    int run(ShepherdClient client, PrintWriter out) {
      client.redriveDead(record, by);
      out.println("redriven " + record);
      return 0;
    }
  }

  @Command(name = "discard", description = "Discard a dead-job record.")
  static final class Discard extends Sub {
    @Parameters(index = "0")
    String record;

    @Option(names = "--by")
    String by;

    @Override
    int run(ShepherdClient client, PrintWriter out) {
      client.discardDead(record, by);
      out.println("discarded " + record);
      return 0;
    }
  }

  @Command(name = "workers", description = "List the registered workers.")
  static final class Workers extends Sub {
    @Override
    int run(ShepherdClient client, PrintWriter out) {
      out.printf("%-30s %-12s %-9s %s%n", "WORKER", "POOL", "STATE", "CAPACITY");
      for (WorkerView worker : client.workers()) {
        out.printf(
            "%-30s %-12s %-9s %d%n", worker.id(), worker.pool(), worker.state(), worker.capacity());
      }
      return 0;
    }
  }

  @Command(
      name = "types",
      description = "List the job types the scheduler accepts, configured or announced by workers.")
  static final class Types extends Sub {
    @Option(names = "--schema", description = "Print each type's payload schema too.")
    boolean schema;

    @Override
    int run(ShepherdClient client, PrintWriter out) {
      out.printf("%-30s %-12s %-13s %-8s %s%n", "TYPE", "POOL", "SOURCE", "ATTEMPTS", "WORKERS");
      for (JobTypeView type : client.types()) {
        out.printf(
            "%-30s %-12s %-13s %-8d %s%n",
            type.type(),
            type.pool(),
            type.source(),
            type.maxAttempts(),
            type.workers().isEmpty() ? "none" : String.join(",", type.workers()));
        if (schema && type.payloadSchema() != null) {
          out.println("  " + type.payloadSchema());
        }
      }
      return 0;
    }
  }

  @Command(name = "key", description = "Show an ordering key: UP or DOWN, backlog, head.")
  static final class Key extends Sub {
    @Parameters(index = "0")
    String key;

    @Override
    int run(ShepherdClient client, PrintWriter out) {
      var view = client.orderingKey(key);
      out.printf(
          "%s %s, %d waiting, head %s%s%n",
          view.key(),
          view.state(),
          view.backlog(),
          view.head() == null ? "none" : view.head() + " (" + view.headState() + ")",
          view.blocked() ? ", blocked: redrive or discard the head" : "");
      return 0;
    }
  }
}
