/**
 * The worker service: wiring only. It runs the worker runtime of {@code libs/worker-sdk} with the
 * demo handlers ({@code site.generate}, {@code demo.flaky}, {@code demo.poison}, {@code
 * demo.noop}), whose defaults are the {@code shepherd.demo.*} properties.
 */
package dev.shepherd.worker.app;
