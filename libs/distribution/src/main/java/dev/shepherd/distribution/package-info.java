/**
 * Distributors: the backends that run a job type's attempts (the worker pool on the work exchange,
 * a Kubernetes Job per attempt, an HTTP service that calls back), behind one small SPI modelled on
 * LUCI Dungeon Master's {@code distributor} package (ADR 44). A job type names its distributor in
 * configuration; {@link dev.shepherd.distribution.Distributors} finds it by that name and checks
 * every type's configuration at start-up; the configuration an attempt started with travels with
 * the attempt ({@link dev.shepherd.distribution.AttemptRequest#config}); {@link
 * dev.shepherd.distribution.DistributorCalls} retries what failed transiently and nothing else.
 * Leases, fencing tokens, phases, retries and timeouts stay the platform's, the same for all.
 */
package dev.shepherd.distribution;
