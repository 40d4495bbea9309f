package dev.shepherd.e2e.bench;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The one place that says which stage of a job's path a profiled stack belongs to: frame patterns
 * to stage, named after the classes of the services and libs. A stack belongs to the first rule, in
 * the order below, that matches any of its frames, so a rule deeper in the path wins over the one
 * that called it: the claim's {@code DeliveryListener} runs the handler's {@code AttemptExecution},
 * which runs the {@code OutcomePublisher}, and the outcome's publish counts as outcome publish, not
 * as claim. The client libraries (Lettuce, Netty, amqp-client, Spring AMQP) and the kernel's socket
 * calls count as I/O only when no Shepherd stage called them: their own threads (event loops,
 * connection readers) and the listener containers' work before and after a listener.
 */
final class Stages {

  static final String SUBMIT_INTAKE = "submit intake";
  static final String DISPATCH = "dispatch";
  static final String CLAIM = "claim";
  static final String HANDLER = "handler wrapper";
  static final String OUTCOME_PUBLISH = "outcome publish";
  static final String STATUS_APPLY = "status apply";
  static final String RECOVERY = "recovery passes";
  static final String IDLE = "idle background";
  static final String IO = "broker/Redis client I/O";
  static final String JIT = "JIT compilation";
  static final String GC = "GC";
  static final String OTHER = "other";

  /** Every stage, in the order the tables list them. */
  static final List<String> ALL =
      List.of(
          SUBMIT_INTAKE,
          DISPATCH,
          CLAIM,
          HANDLER,
          OUTCOME_PUBLISH,
          STATUS_APPLY,
          RECOVERY,
          IDLE,
          IO,
          JIT,
          GC,
          OTHER);

  /** A stage and the frame substrings (class names with dots) that put a stack in it. */
  record Rule(String stage, List<String> frames) {}

  /** First match wins; see the class comment. */
  static final List<Rule> RULES =
      List.of(
          new Rule(
              JIT,
              List.of(
                  "CompileBroker::",
                  "C2Compiler::",
                  "Compiler::compile",
                  "Compile::Compile",
                  "CompilationPolicy::",
                  "JVMCI")),
          new Rule(
              GC,
              List.of(
                  "VM_GenCollect",
                  "VM_CollectForAllocation",
                  "VM_G1",
                  "VM_GC_",
                  "SerialHeap::",
                  "GenCollectedHeap::",
                  "DefNewGeneration::",
                  "TenuredGeneration::",
                  "SerialFullGC::",
                  "G1CollectedHeap::",
                  "G1ConcurrentMark",
                  "ParallelScavengeHeap::",
                  "PSScavenge::",
                  "ShenandoahHeap::",
                  "ZDriver",
                  "ZWorker",
                  "GCTaskThread",
                  "ConcurrentGCThread::")),
          new Rule(
              OUTCOME_PUBLISH,
              List.of(
                  "dev.shepherd.worker.OutcomePublisher", "dev.shepherd.worker.StatusPublisher")),
          new Rule(
              HANDLER,
              List.of(
                  "dev.shepherd.worker.AttemptExecution",
                  "dev.shepherd.worker.Handlers",
                  "dev.shepherd.worker.PayloadBinding",
                  "dev.shepherd.worker.app.")),
          new Rule(
              CLAIM,
              List.of(
                  "dev.shepherd.worker.DeliveryListener",
                  "dev.shepherd.worker.Slots",
                  "dev.shepherd.worker.Resubscriber",
                  "dev.shepherd.store.Leases.claim")),
          new Rule(
              SUBMIT_INTAKE,
              List.of(
                  "dev.shepherd.engine.intake.",
                  "dev.shepherd.scheduler.JobsController",
                  "dev.shepherd.scheduler.SchedulerWiring.lambda$submit",
                  "dev.shepherd.store.Submissions",
                  "dev.shepherd.contracts.")),
          new Rule(
              DISPATCH,
              List.of("dev.shepherd.engine.dispatch.Dispatcher", "dev.shepherd.store.Outbox")),
          new Rule(
              STATUS_APPLY,
              List.of(
                  "dev.shepherd.engine.status.",
                  "dev.shepherd.statustracker.",
                  "dev.shepherd.store.Reports")),
          new Rule(
              RECOVERY,
              List.of(
                  "dev.shepherd.engine.recovery.LeaseReaper",
                  "dev.shepherd.engine.recovery.Timeouts",
                  "dev.shepherd.engine.recovery.LostWorkers",
                  "dev.shepherd.engine.recovery.StaleQueued",
                  "dev.shepherd.engine.recovery.IndexTrim",
                  "dev.shepherd.engine.recovery.DeadLetterIntake",
                  "dev.shepherd.recovery.PodWatch",
                  "dev.shepherd.store.LeaseRecovery")),
          new Rule(
              IDLE,
              List.of(
                  "dev.shepherd.worker.WorkerHeartbeat",
                  "dev.shepherd.worker.LeaseKeeper",
                  "dev.shepherd.worker.LocalTimeouts",
                  "dev.shepherd.worker.CancelGrace",
                  "dev.shepherd.worker.ControlOrders",
                  "dev.shepherd.store.WorkerRegistry",
                  "dev.shepherd.engine.dispatch.OutboxGauges",
                  "dev.shepherd.engine.recovery.BacklogGauges",
                  "dev.shepherd.engine.WorkLoop",
                  "java.util.concurrent.ThreadPoolExecutor.getTask",
                  "java.util.TimerThread",
                  "io.netty.util.HashedWheelTimer",
                  "org.springframework.boot.actuate",
                  "io.micrometer.prometheusmetrics",
                  "io.prometheus",
                  "org.apache.catalina",
                  "org.apache.coyote",
                  "org.apache.tomcat")),
          new Rule(
              IO,
              List.of(
                  "io.lettuce.",
                  "io.netty.",
                  "com.rabbitmq.client.",
                  "org.springframework.amqp.",
                  "sun.nio.ch.",
                  "java.net.Socket",
                  "sun.nio.ch.SocketDispatcher",
                  "__sys_sendto",
                  "__sys_recvfrom",
                  "tcp_sendmsg",
                  "tcp_recvmsg",
                  "do_epoll_wait",
                  "sock_read_iter",
                  "sock_write_iter")));

  private Stages() {}

  /** The stage of one stack: its frames from the root, separated by ';' as in collapsed output. */
  static String classify(String stack) {
    String frames = stack.replace('/', '.');
    for (Rule rule : RULES) {
      for (String frame : rule.frames()) {
        if (frames.contains(frame)) {
          return rule.stage();
        }
      }
    }
    return OTHER;
  }

  /**
   * Samples per stage from a profile's collapsed stacks ({@code frame;frame;... count} per line),
   * every stage present, in the order of {@link #ALL}.
   */
  static Map<String, Long> samplesByStage(List<String> collapsed) {
    Map<String, Long> m = new LinkedHashMap<>();
    ALL.forEach(s -> m.put(s, 0L));
    for (String line : collapsed) {
      int space = line.lastIndexOf(' ');
      if (space <= 0) {
        continue;
      }
      long samples;
      try {
        samples = Long.parseLong(line.substring(space + 1).trim());
      } catch (NumberFormatException e) {
        continue; // not a stack line
      }
      m.merge(classify(line.substring(0, space)), samples, Long::sum);
    }
    return m;
  }
}
