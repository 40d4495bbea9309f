package dev.shepherd.worker.app;

import dev.shepherd.worker.Batch;
import dev.shepherd.worker.BatchHandler;
import dev.shepherd.worker.JobContext;
import org.springframework.stereotype.Component;
import tools.jackson.databind.JsonNode;

/**
 * {@code demo.noop}: does nothing; measures Shepherd's own cost per job. Where the scheduler lets
 * it take batches ({@code shepherd.scheduler.batch-size.demo.noop}, ADR 31), it reports which jobs
 * a transaction carried, in order, as the claimed job's progress message ({@code transaction <id>:
 * <job id>,<job id>,...}), so a test can see what the handler was given.
 */
@Component
class NoopHandler implements BatchHandler<JsonNode> {

  @Override
  public String type() {
    return "demo.noop";
  }

  @Override
  public Class<JsonNode> payloadType() {
    return JsonNode.class;
  }

  @Override
  public void handle(Batch<JsonNode> batch, JobContext<JsonNode> job) {
    if (batch.transactionId() != 0) {
      job.progress(
          100,
          "transaction "
              + batch.transactionId()
              + ": "
              + String.join(",", batch.jobs().stream().map(Batch.Job::jobId).toList()));
    }
  }
}
