/**
 * The {@code http} distributor (ADR 44): an attempt is a POST of the job to the type's endpoint
 * ({@link dev.shepherd.distribution.http.HttpAttemptRequest}); the service answers 202 and later
 * reports the attempt's phases, progress and outcome to Shepherd's callback, each report signed
 * with a secret only that attempt has ({@link dev.shepherd.distribution.http.CallbackSignatures}).
 */
package dev.shepherd.distribution.http;
