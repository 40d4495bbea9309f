/**
 * The contracts of every message and view, enforced: {@link dev.shepherd.contracts.Contracts} loads
 * the JSON Schemas under {@code contracts/schemas} and {@code contracts/payloads} from the
 * classpath once and reports each violation with the field it concerns and the rule it breaks.
 */
package dev.shepherd.contracts;
