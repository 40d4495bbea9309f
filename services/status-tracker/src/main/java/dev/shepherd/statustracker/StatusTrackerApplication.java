package dev.shepherd.statustracker;

import dev.shepherd.engine.intake.AnnouncedTypes;
import dev.shepherd.engine.status.StatusApplier;
import dev.shepherd.engine.status.StatusSenders;
import dev.shepherd.messaging.InfrastructurePause;
import dev.shepherd.messaging.Listeners;
import dev.shepherd.messaging.Topology;
import dev.shepherd.messaging.config.MessagingConfiguration;
import dev.shepherd.model.JobMdc;
import dev.shepherd.model.RetryPolicy;
import dev.shepherd.model.StatusMessages;
import dev.shepherd.model.TraceParent;
import dev.shepherd.store.DeadJobs;
import dev.shepherd.store.Reports;
import dev.shepherd.store.WorkerRegistry;
import dev.shepherd.store.config.StoreConfiguration;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.util.List;
import java.util.SplittableRandom;
import org.slf4j.MDC;
import org.springframework.amqp.core.Message;
import org.springframework.amqp.rabbit.connection.ConnectionFactory;
import org.springframework.amqp.rabbit.listener.SimpleMessageListenerContainer;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Import;

@SpringBootApplication
@Import({StoreConfiguration.class, MessagingConfiguration.class})
@EnableConfigurationProperties(StatusTrackerProperties.class)
public class StatusTrackerApplication {

  public static void main(String[] args) {
    SpringApplication.run(StatusTrackerApplication.class, args);
  }

  @Bean
  StatusApplier statusApplier(
      Reports reports,
      DeadJobs deadJobs,
      RetryPolicy retryPolicy,
      MeterRegistry meters,
      Topology topology,
      WorkerRegistry workers,
      Clock clock) {
    // the metrics' pool tag: a type only a worker announced (ADR 35) has its announced pool
    return new StatusApplier(
        reports,
        deadJobs,
        retryPolicy,
        new SplittableRandom(),
        meters,
        AnnouncedTypes.poolOfType(topology, workers.jobTypes(), clock));
  }

  /**
   * One consumer keeps the events of an attempt in the order the worker published them; the
   * sequence numbers make a reordering harmless but would drop the overtaken event. It takes the
   * events in batches and acks each batch once, after every event in it was applied (ADR 26); a
   * batch is applied with one store call per partition, and one event at a time only when that
   * fails or a body cannot be read (ADR 27).
   */
  @Bean
  StatusSenders statusSenders(
      StatusTrackerProperties properties, DeadJobs deadJobs, MeterRegistry meters) {
    return new StatusSenders(properties.workerUsers(), deadJobs, meters);
  }

  @Bean(destroyMethod = "stop")
  SimpleMessageListenerContainer statusListener(
      ConnectionFactory connectionFactory,
      Topology topology,
      StatusApplier applier,
      StatusSenders senders,
      StatusTrackerProperties properties) {
    return Listeners.manualAckBatches(
        connectionFactory,
        topology.statusQueue(),
        properties.prefetch(),
        new Listeners.Batch(properties.batchSize(), properties.batchWait()),
        InfrastructurePause.Backoff.DEFAULT,
        Listeners.WholeBatch.allOrNothing(
            // a batch with a message no worker sent goes one message at a time, below
            messages ->
                messages.stream().allMatch(m -> senders.refusal(sender(m)) == null)
                    && applier.applyAll(
                        messages.stream()
                            .map(m -> new StatusApplier.Incoming(m.getBody(), traceIds(m)))
                            .toList())),
        message -> {
          String refusal = senders.refusal(sender(message));
          if (refusal != null) {
            senders.refuse(refusal, message.getBody(), topology.statusQueue());
            return;
          }
          String traceId = traceId(message);
          if (traceId != null) {
            MDC.put(JobMdc.TRACE_ID, traceId);
          }
          try {
            applier.apply(message.getBody(), topology.statusQueue());
          } finally {
            MDC.remove(JobMdc.TRACE_ID);
          }
        });
  }

  /** The message's broker-checked user_id (Spring AMQP's received one), or null. */
  private static String sender(Message message) {
    return message.getMessageProperties().getReceivedUserId();
  }

  private static String traceId(Message message) {
    Object trace = message.getMessageProperties().getHeader(TraceParent.HEADER);
    return traceIdOf(trace == null ? null : trace.toString());
  }

  /** The trace id of each event of the message: of its array's header, else of its own. */
  private static List<String> traceIds(Message message) {
    List<String> each =
        StatusMessages.traceparents(
            message.getMessageProperties().getHeader(StatusMessages.TRACEPARENTS_HEADER));
    if (each.isEmpty()) {
      String one = traceId(message);
      return one == null ? List.of() : List.of(one);
    }
    return each.stream().map(StatusTrackerApplication::traceIdOf).toList();
  }

  private static String traceIdOf(String traceparent) {
    return TraceParent.parse(traceparent).map(TraceParent::traceId).orElse(null);
  }
}
