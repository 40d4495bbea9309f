package dev.shepherd.worker;

import tools.jackson.core.JacksonException;

/**
 * Says what is wrong with a piece of JSON in words an operator can act on: Jackson's message
 * without its source excerpt, followed by where it happened as a JSON pointer ({@code at
 * /attempt}).
 */
final class JsonProblem {

  private JsonProblem() {}

  static String describe(JacksonException e) {
    StringBuilder pointer = new StringBuilder();
    for (JacksonException.Reference ref : e.getPath()) {
      if (ref.getPropertyName() != null) {
        pointer.append('/').append(ref.getPropertyName());
      } else if (ref.getIndex() >= 0) {
        pointer.append('/').append(ref.getIndex());
      }
    }
    String message = e.getOriginalMessage();
    return pointer.isEmpty() ? message : message + " at " + pointer;
  }
}
