package dev.shepherd.scheduler;

/**
 * Who acts on a job through the API: the {@code X-Shepherd-Actor} header, else the {@code by}
 * parameter, else "anonymous". It is kept on what the call changes (a redrive's history line, a
 * discard, a cancel).
 */
final class Actors {

  static final String HEADER = "X-Shepherd-Actor";

  private Actors() {}

  static String who(String actor, String by) {
    String who = actor != null && !actor.isBlank() ? actor : by;
    return who == null || who.isBlank() ? "anonymous" : who.trim();
  }
}
