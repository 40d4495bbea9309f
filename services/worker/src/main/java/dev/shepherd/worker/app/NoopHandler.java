package dev.shepherd.worker.app;

import dev.shepherd.worker.JobContext;
import dev.shepherd.worker.JobHandler;
import org.springframework.stereotype.Component;
import tools.jackson.databind.JsonNode;

/** {@code demo.noop}: does nothing; measures Shepherd's own cost per job. */
@Component
class NoopHandler implements JobHandler<JsonNode> {

  @Override
  public String type() {
    return "demo.noop";
  }

  @Override
  public Class<JsonNode> payloadType() {
    return JsonNode.class;
  }

  @Override
  public void handle(JobContext<JsonNode> job) {}
}
