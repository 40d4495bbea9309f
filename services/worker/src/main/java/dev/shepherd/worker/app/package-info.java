/**
 * The worker service: the worker runtime of {@code libs/worker-sdk} with the demo handlers ({@code
 * site.generate}, {@code demo.flaky}, {@code demo.poison}, {@code demo.noop}).
 */
package dev.shepherd.worker.app;
