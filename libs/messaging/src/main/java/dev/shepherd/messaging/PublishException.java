package dev.shepherd.messaging;

/** The broker did not confirm a publish (nack, return, time-out or lost connection). */
public class PublishException extends RuntimeException {

  public PublishException(String message) {
    super(message);
  }

  public PublishException(String message, Throwable cause) {
    super(message, cause);
  }
}
