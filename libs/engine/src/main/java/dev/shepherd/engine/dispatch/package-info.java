/**
 * The outbox dispatcher: due entries (new jobs, delayed jobs whose time came, retries after their
 * backoff) are published to the work exchange with confirms, and leave the outbox only after the
 * broker confirmed them. Several schedulers can run it at once; a reservation with a visibility
 * timeout keeps them from publishing the same entry twice in the normal case, and claims make a
 * rare duplicate harmless.
 */
package dev.shepherd.engine.dispatch;
