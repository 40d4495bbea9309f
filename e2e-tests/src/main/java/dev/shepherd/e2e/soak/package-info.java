/**
 * The memory soak ({@code make soak}): many jobs through the whole cluster with a short retention,
 * then Redis must be back where it started, with nothing left that points at nothing.
 */
package dev.shepherd.e2e.soak;
