package dev.shepherd.e2e.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class StagesTest {

  private static final String WORKER_THREAD =
      "java/lang/Thread.run;dev/shepherd/worker/Slots$Slot.run;"
          + "dev/shepherd/worker/DeliveryListener.accept;";

  @Test
  void theDeepestShepherdStageOfAStackWins() {
    assertThat(
            Stages.classify(WORKER_THREAD + "dev/shepherd/store/Leases.claim;io/lettuce/core/X.y"))
        .isEqualTo(Stages.CLAIM);
    assertThat(
            Stages.classify(
                WORKER_THREAD
                    + "dev/shepherd/worker/AttemptExecution.run;"
                    + "dev/shepherd/worker/app/NoopHandler.handle"))
        .isEqualTo(Stages.HANDLER);
    assertThat(
            Stages.classify(
                WORKER_THREAD
                    + "dev/shepherd/worker/AttemptExecution.run;"
                    + "dev/shepherd/worker/OutcomePublisher.publish;"
                    + "com/rabbitmq/client/impl/ChannelN.basicPublish;__sys_sendto_[k]"))
        .isEqualTo(Stages.OUTCOME_PUBLISH);
  }

  @Test
  void eachServiceStageIsNamedByItsClass() {
    assertThat(
            Stages.classify(
                "org/springframework/amqp/rabbit/listener/X.run;"
                    + "dev/shepherd/scheduler/SchedulerWiring.lambda$submitListener$3;"
                    + "dev/shepherd/engine/intake/SubmissionIntake.submit;"
                    + "tools/jackson/databind/ObjectMapper.readTree"))
        .isEqualTo(Stages.SUBMIT_INTAKE);
    assertThat(
            Stages.classify(
                "dev/shepherd/engine/WorkLoop.run;dev/shepherd/engine/dispatch/Dispatcher.dispatchNext"))
        .isEqualTo(Stages.DISPATCH);
    assertThat(
            Stages.classify(
                "dev/shepherd/statustracker/StatusTrackerApplication.lambda$x$0;"
                    + "dev/shepherd/engine/status/StatusApplier.apply"))
        .isEqualTo(Stages.STATUS_APPLY);
    assertThat(
            Stages.classify(
                "dev/shepherd/engine/WorkLoop.run;dev/shepherd/engine/recovery/LeaseReaper.reapOnce"))
        .isEqualTo(Stages.RECOVERY);
  }

  @Test
  void timersGaugesAndScrapesAreIdleBackgroundWork() {
    assertThat(
            Stages.classify(
                "java/util/concurrent/ScheduledThreadPoolExecutor$Worker.run;"
                    + "dev/shepherd/worker/WorkerHeartbeat.beat"))
        .isEqualTo(Stages.IDLE);
    assertThat(Stages.classify("dev/shepherd/worker/LeaseKeeper.renewWaiting"))
        .isEqualTo(Stages.IDLE);
    // a pool thread waking up to find no task, and the timer of Lettuce's Netty
    assertThat(
            Stages.classify(
                "java/util/concurrent/ThreadPoolExecutor.runWorker;"
                    + "java/util/concurrent/ThreadPoolExecutor.getTask;"
                    + "java/util/concurrent/ScheduledThreadPoolExecutor$DelayedWorkQueue.take"))
        .isEqualTo(Stages.IDLE);
    // a profiled stack as text (a timer thread asleep in a service), not a sleep of this test
    assertThat(
            Stages.classify(
                "io/netty/util/HashedWheelTimer$Worker.run;java/lang/Thread.sleep;__x64_sys_nanosleep_[k]"))
        .isEqualTo(Stages.IDLE);
    assertThat(
            Stages.classify(
                "org/apache/tomcat/util/threads/TaskThread.run;"
                    + "org/springframework/boot/actuate/metrics/export/X.scrape"))
        .isEqualTo(Stages.IDLE);
  }

  @Test
  void clientThreadsAreIoAndTheJvmsOwnThreadsAreJitAndGc() {
    assertThat(
            Stages.classify(
                "io/netty/channel/nio/NioEventLoop.run;io/lettuce/core/protocol/CommandHandler.decode"))
        .isEqualTo(Stages.IO);
    assertThat(Stages.classify("java/lang/Thread.run;com/rabbitmq/client/impl/AMQConnection$X.run"))
        .isEqualTo(Stages.IO);
    assertThat(
            Stages.classify(
                "start_thread;thread_native_entry;Thread::call_run;JavaThread::thread_main_inner;"
                    + "CompileBroker::compiler_thread_loop;C2Compiler::compile_method"))
        .isEqualTo(Stages.JIT);
    assertThat(
            Stages.classify(
                "start_thread;VMThread::run;VMThread::evaluate_operation;"
                    + "VM_GenCollectForAllocation::doit;SerialHeap::collect_at_safepoint"))
        .isEqualTo(Stages.GC);
    assertThat(Stages.classify("start_thread;[unknown]")).isEqualTo(Stages.OTHER);
  }

  @Test
  void collapsedStacksAreSummedPerStageWithEveryStagePresent() {
    var samples =
        Stages.samplesByStage(
            List.of(
                "dev/shepherd/engine/dispatch/Dispatcher.dispatchNext;x 7",
                "dev/shepherd/engine/dispatch/Dispatcher.dispatchNext;y 3",
                "CompileBroker::compiler_thread_loop 5",
                "a;b;c 2",
                "not a stack line",
                ""));

    assertThat(samples.keySet()).containsExactlyElementsOf(Stages.ALL);
    assertThat(samples.get(Stages.DISPATCH)).isEqualTo(10);
    assertThat(samples.get(Stages.JIT)).isEqualTo(5);
    assertThat(samples.get(Stages.OTHER)).isEqualTo(2);
    assertThat(samples.get(Stages.CLAIM)).isZero();
  }
}
