package dev.shepherd.worker.app;

import dev.shepherd.worker.JobContext;
import dev.shepherd.worker.JobHandler;
import dev.shepherd.worker.PermanentJobException;
import org.springframework.stereotype.Component;
import tools.jackson.databind.JsonNode;

/** {@code demo.poison}: always fails permanently, so the job goes to DEAD on its first attempt. */
@Component
class PoisonHandler implements JobHandler<JsonNode> {

  @Override
  public String type() {
    return "demo.poison";
  }

  @Override
  public Class<JsonNode> payloadType() {
    return JsonNode.class;
  }

  @Override
  public void handle(JobContext<JsonNode> job) throws PermanentJobException {
    throw new PermanentJobException("poison payload");
  }
}
