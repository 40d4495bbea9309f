package dev.shepherd.distribution.http;

import dev.shepherd.distribution.Notification;
import dev.shepherd.distribution.http.CallbackSignatures.AttemptKey;
import dev.shepherd.distribution.http.CallbackSignatures.Verdict;
import dev.shepherd.model.Json;
import dev.shepherd.model.StatusEvent;
import tools.jackson.core.JacksonException;

/**
 * Reads and checks one callback of an HTTP service: its body must be a {@link StatusEvent} in its
 * wire form for the attempt and claim it was sent to, at that attempt's path, signed with that
 * attempt's secret within the timestamp tolerance. The scheduler's callback endpoint calls it with
 * the attempt Redis holds, so a callback for an older claim is refused here, before anything reads
 * its event.
 */
public final class HttpCallbacks {

  private final CallbackSignatures signatures;

  public HttpCallbacks(CallbackSignatures signatures) {
    this.signatures = signatures;
  }

  /**
   * @param expected the attempt Shepherd holds for the path's job and attempt number, with its
   *     fencing token
   * @param notification the body, with the {@link HttpDistributor#METHOD} and {@link
   *     HttpDistributor#PATH} the request came with and the two signature headers
   * @return the event, as the service sent it
   * @throws CallbackRefusedException naming what is wrong
   */
  public StatusEvent verify(AttemptKey expected, Notification notification) {
    StatusEvent event;
    try {
      event = Json.mapper().readValue(notification.body(), StatusEvent.class);
    } catch (JacksonException e) {
      throw new CallbackRefusedException(
          CallbackSignatures.Refusal.UNREADABLE,
          "the body is not a status event: " + e.getOriginalMessage());
    }
    if (event.jobId() == null) {
      throw new CallbackRefusedException(
          CallbackSignatures.Refusal.UNREADABLE, "the status event has no jobId");
    }
    String path = notification.attribute(HttpDistributor.PATH);
    String expectedPath = HttpAttemptRequest.callbackPath(expected.jobId(), expected.attempt());
    Verdict verdict =
        expectedPath.equals(path)
            ? signatures.verify(
                expected,
                new AttemptKey(event.jobId(), event.attempt(), event.fencingToken()),
                notification.attribute(HttpDistributor.METHOD),
                path,
                notification.attribute(CallbackSignatures.TIMESTAMP_HEADER),
                notification.attribute(CallbackSignatures.SIGNATURE_HEADER),
                notification.body())
            : new Verdict.Refused(
                CallbackSignatures.Refusal.WRONG_ATTEMPT,
                "the callback was sent to " + path + ", not " + expectedPath);
    if (verdict instanceof Verdict.Refused(var refusal, var reason)) {
      throw new CallbackRefusedException(refusal, reason);
    }
    return event;
  }
}
