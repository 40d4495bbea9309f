package com.example.greet;

import com.fasterxml.jackson.annotation.JsonProperty;
import dev.shepherd.worker.JobContext;
import dev.shepherd.worker.JobHandler;
import dev.shepherd.worker.PermanentJobException;
import dev.shepherd.worker.RetryableJobException;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.context.annotation.Bean;

/** A team's worker outside Shepherd's packages: one handler, its own pool. */
@SpringBootApplication
public class GreetWorker {

  /** Who was greeted, in order. */
  public static final List<String> GREETED = new CopyOnWriteArrayList<>();

  /** Attempts of names that fail once. */
  public static final AtomicInteger FLAKY_ATTEMPTS = new AtomicInteger();

  /** The payload of {@code greet.send}. */
  public record Greeting(@JsonProperty(required = true) String name, int times) {}

  @Bean
  JobHandler<Greeting> greet() {
    return new JobHandler<>() {
      @Override
      public String type() {
        return "greet.send";
      }

      @Override
      public Class<Greeting> payloadType() {
        return Greeting.class;
      }

      @Override
      public void handle(JobContext<Greeting> job)
          throws PermanentJobException, RetryableJobException {
        Greeting greeting = job.payload();
        if (greeting.name().equals("nobody")) {
          throw new PermanentJobException("nobody to greet");
        }
        if (greeting.name().equals("flaky") && FLAKY_ATTEMPTS.incrementAndGet() == 1) {
          throw new RetryableJobException("the mail server said later");
        }
        GREETED.add(greeting.name() + " x" + greeting.times());
      }
    };
  }
}
