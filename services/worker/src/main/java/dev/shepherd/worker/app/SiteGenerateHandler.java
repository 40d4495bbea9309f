package dev.shepherd.worker.app;

import dev.shepherd.worker.JobContext;
import dev.shepherd.worker.JobHandler;
import java.time.Duration;
import java.util.List;
import org.springframework.stereotype.Component;

/**
 * {@code site.generate}: the three phases of a site generation in seed 000 (download the bug list,
 * render the dashboard, publish), each taking {@code phaseMillis}.
 */
@Component
class SiteGenerateHandler implements JobHandler<SiteGenerateHandler.Payload> {

  static final List<String> PHASES = List.of("bug_list_download", "dashboard_render", "publish");

  /** The payload: which site, and how long each phase takes (optional). */
  record Payload(String site, Integer phaseMillis) {}

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
    Duration each =
        job.payload().phaseMillis() == null
            ? demo.phaseTime()
            : Duration.ofMillis(job.payload().phaseMillis());
    for (int i = 0; i < PHASES.size(); i++) {
      job.phase(PHASES.get(i), () -> Work.take(each));
      job.progress(
          (i + 1) * 100 / PHASES.size(), PHASES.get(i) + " done for " + job.payload().site());
    }
  }
}
