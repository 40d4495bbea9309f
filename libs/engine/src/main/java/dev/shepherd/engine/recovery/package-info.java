/**
 * Recovery: the lease reaper takes back attempts whose lease deadline passed (their worker died or
 * hung) and sends the jobs to RETRY_WAIT or DEAD; the dead-letter intake turns every message the
 * broker gave up on into a dead-job record with the reason and the raw message.
 */
package dev.shepherd.engine.recovery;
