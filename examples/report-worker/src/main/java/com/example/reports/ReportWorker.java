package com.example.reports;

import com.fasterxml.jackson.annotation.JsonProperty;
import dev.shepherd.worker.JobContext;
import dev.shepherd.worker.JobHandler;
import dev.shepherd.worker.PermanentJobException;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.context.annotation.Bean;

/**
 * A team's worker, built outside Shepherd on its starter alone. It runs {@code report.render} in
 * pool {@code reports}, which no Shepherd configuration names: at start it announces the type with
 * its payload's JSON Schema (generated from {@link ReportRequest}) and its defaults, declares its
 * pool's queue, and the scheduler accepts the type at once (ADR 35).
 */
@SpringBootApplication
public class ReportWorker {

  /** How a report is rendered. */
  public enum Format {
    PDF,
    HTML
  }

  /**
   * The payload of {@code report.render}.
   *
   * @param title required
   * @param pages how many pages to render, one progress report each
   * @param format PDF when not given
   */
  public record ReportRequest(
      @JsonProperty(required = true) String title, int pages, Format format) {}

  public static void main(String[] args) {
    SpringApplication.run(ReportWorker.class, args);
  }

  @Bean
  JobHandler<ReportRequest> renderReport() {
    return new JobHandler<>() {
      @Override
      public String type() {
        return "report.render";
      }

      @Override
      public Class<ReportRequest> payloadType() {
        return ReportRequest.class;
      }

      /** Two attempts: a report that fails twice needs a person, not a third try. */
      @Override
      public Integer maxAttempts() {
        return 2;
      }

      @Override
      public void handle(JobContext<ReportRequest> job) throws PermanentJobException {
        ReportRequest request = job.payload();
        if (request.pages() < 0) {
          throw new PermanentJobException("pages must not be negative, was " + request.pages());
        }
        for (int page = 1; page <= request.pages(); page++) {
          job.progress(page * 100 / request.pages(), "page " + page + " of " + request.title());
        }
      }
    };
  }
}
