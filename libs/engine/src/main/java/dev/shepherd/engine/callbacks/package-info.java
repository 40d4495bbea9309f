/**
 * The callbacks of services that run attempts for workers (the {@code http} distributor): checked
 * against the attempt Redis holds, then handed to the worker that holds it.
 */
package dev.shepherd.engine.callbacks;
