package com.example.resize;

import dev.shepherd.worker.JobContext;
import dev.shepherd.worker.JobHandler;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.context.annotation.Bean;

/**
 * A team's worker, outside Shepherd's packages, written as the starter's documentation shows: an
 * application and one handler bean, nothing imported, no Shepherd setting but where things are.
 */
@SpringBootApplication
public class ResizeWorker {

  /** The payloads the handler was given, in order. */
  public static final List<String> RESIZED = new CopyOnWriteArrayList<>();

  /** The payload of {@code example.resize}. */
  public record Resize(String image, int width) {}

  @Bean
  JobHandler<Resize> resize() {
    return new JobHandler<>() {
      @Override
      public String type() {
        return "example.resize";
      }

      @Override
      public Class<Resize> payloadType() {
        return Resize.class;
      }

      @Override
      public void handle(JobContext<Resize> job) {
        RESIZED.add(job.payload().image() + "@" + job.payload().width());
      }
    };
  }
}
