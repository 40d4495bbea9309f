/**
 * The Java client producers embed: {@link dev.shepherd.client.ShepherdClient} submits jobs over
 * HTTP or AMQP, reads them, and awaits their end.
 *
 * <pre>{@code
 * try (var client = ShepherdClient.builder().httpBaseUri(URI.create("http://localhost:8081")).build()) {
 *   String id = client.submit(JobSubmission.of("demo.noop", payload)).jobId();
 *   JobView done = client.await(id, Duration.ofMinutes(1)).join();
 * }
 * }</pre>
 */
package dev.shepherd.client;
