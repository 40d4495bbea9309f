package dev.shepherd.worker.app;

import dev.shepherd.worker.JobContext;
import dev.shepherd.worker.JobHandler;
import dev.shepherd.worker.PermanentJobException;
import java.time.Duration;
import java.util.List;
import org.springframework.stereotype.Component;

/**
 * {@code site.generate}: the three phases of a site generation (download the bug list, render the
 * dashboard, publish), each taking {@code phaseMillis}, with progress after each. Cancelled, it
 * stops before its next phase, and its current phase ends when the worker interrupts it after the
 * cancel grace. With {@code ignoreCancel} it is the handler every platform meets one day: it looks
 * at neither, and runs to the end (tests show its outcome is not applied).
 */
@Component
class SiteGenerateHandler implements JobHandler<SiteGenerateHandler.Payload> {

  static final List<String> PHASES = List.of("bug_list_download", "dashboard_render", "publish");

  /** The payload: which site, how long each phase takes, whether it ignores cancellation. */
  record Payload(String site, Integer phaseMillis, Boolean ignoreCancel) {}

  private final DemoProperties demo;

  SiteGenerateHandler(DemoProperties demo) {
    this.demo = demo;
  }

  @Override
  public String type() {
    return "site.generate";
  }

  @Override
  public Class<Payload> payloadType() {
    return Payload.class;
  }

  @Override
  public void handle(JobContext<Payload> job) throws Exception {
    Payload payload = job.payload();
    if (payload.site() == null || payload.site().isBlank()) {
      throw new PermanentJobException("site.generate needs a site in its payload");
    }
    Duration each =
        payload.phaseMillis() == null ? demo.phaseTime() : Duration.ofMillis(payload.phaseMillis());
    boolean stubborn = Boolean.TRUE.equals(payload.ignoreCancel());
    for (int i = 0; i < PHASES.size(); i++) {
      if (job.isCancelled() && !stubborn) {
        return; // cancelled: nothing of what follows is wanted, and nothing is reported
      }
      String phase = PHASES.get(i);
      if (stubborn) {
        job.phase(phase, () -> Work.takeIgnoringInterrupts(each));
      } else {
        job.phase(phase, () -> Work.take(each));
      }
      job.progress((i + 1) * 100 / PHASES.size(), phase + " done for " + payload.site());
    }
  }
}
