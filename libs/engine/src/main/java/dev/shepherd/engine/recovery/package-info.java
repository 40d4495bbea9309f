/**
 * Recovery: the lease reaper takes back attempts whose lease deadline passed (their worker died or
 * hung) and sends the jobs to RETRY_WAIT or DEAD; the timeout pass ends running attempts past their
 * startToClose or stall timeout the same way (ADR 18); the dead-letter intake turns every message
 * the broker gave up on into a dead-job record with the reason and the raw message; the index trim
 * drops index entries of jobs and records their retention expired, so Redis memory stays bounded.
 */
package dev.shepherd.engine.recovery;
