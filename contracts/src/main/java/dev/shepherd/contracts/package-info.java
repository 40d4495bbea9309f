/**
 * Shepherd's contracts, enforced. The JSON Schemas (draft 2020-12) of every message and view live
 * under {@code contracts/schemas} on the classpath, the payload schemas of the demo job types under
 * {@code contracts/payloads}, and {@code contracts/asyncapi.yaml} describes the exchanges and
 * queues that carry the messages. {@link dev.shepherd.contracts.Contracts} compiles the schemas
 * once and reports each violation with the field it concerns and the rule it breaks, which is what
 * a problem+json answer and a dead-job reason need. The examples under the module's {@code
 * examples} directory are checked from both sides: against the schemas and through the Java records
 * of {@code dev.shepherd.model}.
 */
package dev.shepherd.contracts;
