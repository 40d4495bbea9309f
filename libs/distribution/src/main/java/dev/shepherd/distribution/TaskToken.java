package dev.shepherd.distribution;

/**
 * What a distributor gave back for the task it started for one attempt: opaque to Shepherd, stored
 * with the attempt, and handed back to the same distributor to cancel the task, ask its status or
 * point a person at it.
 */
public record TaskToken(String value) {

  /**
   * Long enough for a Kubernetes namespace and Job name or a URL, short enough to store per
   * attempt.
   */
  public static final int MAX_LENGTH = 1024;

  public TaskToken {
    if (value == null || value.isBlank() || value.length() > MAX_LENGTH) {
      throw new IllegalArgumentException(
          "a task token is 1 to " + MAX_LENGTH + " characters, was '" + value + "'");
    }
  }

  @Override
  public String toString() {
    return value;
  }
}
