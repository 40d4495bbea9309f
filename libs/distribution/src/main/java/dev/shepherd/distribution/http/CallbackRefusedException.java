package dev.shepherd.distribution.http;

import dev.shepherd.distribution.PermanentDistributorException;

/** A callback that is not accepted for the attempt it was sent to, with why. */
public final class CallbackRefusedException extends PermanentDistributorException {

  private final CallbackSignatures.Refusal refusal;

  public CallbackRefusedException(CallbackSignatures.Refusal refusal, String reason) {
    super("callback refused (" + refusal + "): " + reason);
    this.refusal = refusal;
  }

  public CallbackSignatures.Refusal refusal() {
    return refusal;
  }
}
