package dev.shepherd.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.shepherd.distribution.Notification;
import dev.shepherd.distribution.http.CallbackSignatures;
import dev.shepherd.distribution.http.CallbackSignatures.AttemptKey;
import dev.shepherd.distribution.http.HttpAttemptRequest;
import dev.shepherd.distribution.http.HttpCallbacks;
import dev.shepherd.distribution.http.HttpDistributor;
import dev.shepherd.engine.callbacks.AttemptCallbacks;
import dev.shepherd.engine.callbacks.AttemptCallbacks.Answer;
import dev.shepherd.engine.cancel.WorkerOrders;
import dev.shepherd.model.JobState;
import dev.shepherd.model.Json;
import dev.shepherd.model.StatusEvent;
import dev.shepherd.model.WorkerControl;
import dev.shepherd.store.NewJob;
import dev.shepherd.testsupport.RabbitCleanup;
import dev.shepherd.testsupport.ServiceEndpoints;
import dev.shepherd.testsupport.TestNames;
import dev.shepherd.testsupport.WithRealServices;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.amqp.rabbit.core.RabbitTemplate;

/**
 * The callbacks of an HTTP service that runs attempts (ADR 45), against real Redis and RabbitMQ:
 * one signed for the running attempt reaches its worker's control queue as a NOTIFY order; a
 * forged, replayed, stale-claim, unreadable or late one is refused with its reason and reaches
 * nobody.
 */
@WithRealServices
class AttemptCallbacksIT {

  private static final byte[] SERVER_KEY =
      "attempt-callbacks-it-server-key-0123456789".getBytes(StandardCharsets.UTF_8);

  private EngineFixture fixture;
  private final SimpleMeterRegistry meters = new SimpleMeterRegistry();
  private CallbackSignatures signatures;
  private AttemptCallbacks callbacks;

  @BeforeEach
  void setUp(ServiceEndpoints endpoints, TestNames names) {
    fixture = new EngineFixture(endpoints, names);
    signatures = new CallbackSignatures(SERVER_KEY, Duration.ofMinutes(5), fixture.clock);
    callbacks =
        new AttemptCallbacks(
            fixture.store.queries(),
            new HttpCallbacks(signatures),
            new WorkerOrders(fixture.topology, fixture.publisher),
            meters);
  }

  @AfterEach
  void tearDown() {
    fixture.close(); // with the worker control queues ordersTo declared
  }

  private long ordersIn(String queue) {
    return RabbitCleanup.messageCount(fixture.rabbitConnections, queue);
  }

  private String submitted() {
    return fixture
        .store
        .submissions()
        .submit(new NewJob("report.render", "default", "{}", null, null, 3, null, null))
        .jobId();
  }

  private static String progress(String id, int attempt, long token, long sequence) {
    return Json.mapper()
        .writeValueAsString(
            new StatusEvent.Progress(
                id, "report.render", attempt, token, sequence, "svc", Instant.EPOCH, 40, "half"));
  }

  /** A callback as the service sends it: signed with {@code key}'s secret at {@code at}. */
  private Notification callback(AttemptKey key, String body, Instant at) {
    String path = HttpAttemptRequest.callbackPath(key.jobId(), key.attempt());
    String timestamp = Long.toString(at.getEpochSecond());
    return new Notification(
        Map.of(
            HttpDistributor.METHOD,
            "POST",
            HttpDistributor.PATH,
            path,
            CallbackSignatures.TIMESTAMP_HEADER,
            timestamp,
            CallbackSignatures.SIGNATURE_HEADER,
            CallbackSignatures.sign(signatures.secret(key), "POST", path, timestamp, body)),
        body);
  }

  private double answered(String answer) {
    var counter =
        meters
            .find("shepherd.attempt.callbacks")
            .tags("distributor", "http", "answer", answer)
            .counter();
    return counter == null ? 0 : counter.count();
  }

  @Test
  void aSignedCallbackForTheRunningAttemptReachesItsWorkerAsANotifyOrder() {
    String toW1 = fixture.ordersTo("w1");
    String id = submitted();
    long token = fixture.claim(id, 1, "w1");
    var key = new AttemptKey(id, 1, token);

    Answer answer = callbacks.receive(id, 1, callback(key, progress(id, 1, token, 1), now()));

    assertThat(answer).isInstanceOf(Answer.Accepted.class);
    assertThat(((Answer.Accepted) answer).workerId()).isEqualTo("w1");
    var message = new RabbitTemplate(fixture.rabbitConnections).receive(toW1, 5_000);
    assertThat(message).as("an order to w1").isNotNull();
    WorkerControl order = Json.mapper().readValue(message.getBody(), WorkerControl.class);
    assertThat(order.kind()).isEqualTo(WorkerControl.Kind.NOTIFY);
    assertThat(order.jobId()).isEqualTo(id);
    assertThat(order.fencingToken()).isEqualTo(token);
    assertThat(order.events()).singleElement().isInstanceOf(StatusEvent.Progress.class);
    assertThat(((StatusEvent.Progress) order.events().get(0)).percent()).isEqualTo(40);
    assertThat(answered("accepted")).isEqualTo(1.0);
    // the job itself is the worker's to change: a callback writes nothing
    assertThat(fixture.store.queries().find(id).orElseThrow().progressPercent()).isNull();
  }

  @Test
  void aForgedOrReplayedOrUnreadableCallbackIsRefusedAndReachesNobody() {
    String toW1 = fixture.ordersTo("w1");
    String id = submitted();
    long token = fixture.claim(id, 1, "w1");
    var key = new AttemptKey(id, 1, token);
    String body = progress(id, 1, token, 1);

    // signed with another Shepherd's key: the secret differs
    var otherKey = new CallbackSignatures(new byte[32], Duration.ofMinutes(5), fixture.clock);
    String path = HttpAttemptRequest.callbackPath(id, 1);
    String ts = Long.toString(now().getEpochSecond());
    var forged =
        new Notification(
            Map.of(
                HttpDistributor.METHOD,
                "POST",
                HttpDistributor.PATH,
                path,
                CallbackSignatures.TIMESTAMP_HEADER,
                ts,
                CallbackSignatures.SIGNATURE_HEADER,
                CallbackSignatures.sign(otherKey.secret(key), "POST", path, ts, body)),
            body);
    assertRefused(callbacks.receive(id, 1, forged), CallbackSignatures.Refusal.BAD_SIGNATURE);

    // a genuine callback sent again ten minutes later
    var replayed = callback(key, body, now().minus(Duration.ofMinutes(10)));
    assertRefused(callbacks.receive(id, 1, replayed), CallbackSignatures.Refusal.STALE_TIMESTAMP);

    // a body tampered with after signing
    var genuine = callback(key, body, now());
    var tampered =
        new Notification(genuine.attributes(), body.replace("\"percent\":40", "\"percent\":100"));
    assertRefused(callbacks.receive(id, 1, tampered), CallbackSignatures.Refusal.BAD_SIGNATURE);

    assertRefused(
        callbacks.receive(id, 1, callback(key, "{\"event\":\"EXPLODED\"}", now())),
        CallbackSignatures.Refusal.UNREADABLE);

    assertThat(ordersIn(toW1)).as("orders to the worker").isZero();
    assertThat(answered("bad_signature")).isEqualTo(2.0);
    assertThat(answered("stale_timestamp")).isEqualTo(1.0);
    assertThat(answered("unreadable")).isEqualTo(1.0);
  }

  @Test
  void aCallbackFromAnAttemptThatANewerOneReplacedIsRefused() {
    String toW1 = fixture.ordersTo("w1");
    String toW2 = fixture.ordersTo("w2");
    String id = submitted();
    long first = fixture.claim(id, 1, "w1");
    // attempt 1 fails; attempt 2 runs on w2
    fixture
        .store
        .reports()
        .report(
            new StatusEvent.Failed(id, "report.render", 1, first, 1, "w1", now(), "boom", true),
            Duration.ZERO);
    long second = fixture.claim(id, 2, "w2");
    assertThat(second).isGreaterThan(first);

    // the old attempt's service reports late, at its own path
    Answer late =
        callbacks.receive(
            id, 1, callback(new AttemptKey(id, 1, first), progress(id, 1, first, 2), now()));
    assertThat(late).isInstanceOf(Answer.NotCurrent.class);
    assertThat(((Answer.NotCurrent) late).currentAttempt()).isEqualTo(2);
    assertThat(((Answer.NotCurrent) late).state()).isEqualTo(JobState.RUNNING);

    // or at the new attempt's path, with its old claim and secret
    var oldClaimAtNewPath =
        callback(new AttemptKey(id, 2, first), progress(id, 2, first, 2), now());
    assertRefused(
        callbacks.receive(id, 2, oldClaimAtNewPath), CallbackSignatures.Refusal.WRONG_ATTEMPT);

    // the new attempt's own callback goes to its worker, w2
    Answer current =
        callbacks.receive(
            id, 2, callback(new AttemptKey(id, 2, second), progress(id, 2, second, 1), now()));
    assertThat(current).isInstanceOf(Answer.Accepted.class);
    assertThat(((Answer.Accepted) current).workerId()).isEqualTo("w2");
    assertThat(ordersIn(toW1)).isZero();
    assertThat(ordersIn(toW2)).isEqualTo(1);
  }

  @Test
  void anUnknownJobAndAWorkerWithoutAControlQueueAreToldApart() {
    String id = submitted();
    long token = fixture.claim(id, 1, "w1"); // w1 has no control queue: it is gone
    var key = new AttemptKey(id, 1, token);

    assertThat(callbacks.receive(id, 1, callback(key, progress(id, 1, token, 1), now())))
        .isInstanceOf(Answer.WorkerUnreachable.class);
    String unknown = id.substring(0, id.length() - 4) + "zzzz";
    assertThat(
            callbacks.receive(
                unknown,
                1,
                callback(new AttemptKey(unknown, 1, token), progress(unknown, 1, token, 1), now())))
        .isInstanceOf(Answer.UnknownJob.class);
    assertThat(answered("worker_unreachable")).isEqualTo(1.0);
    assertThat(answered("unknown_job")).isEqualTo(1.0);
  }

  private Instant now() {
    return fixture.clock.instant();
  }

  private static void assertRefused(Answer answer, CallbackSignatures.Refusal refusal) {
    assertThat(answer).isInstanceOf(Answer.Refused.class);
    assertThat(((Answer.Refused) answer).refusal()).as(answer.toString()).isEqualTo(refusal);
  }
}
