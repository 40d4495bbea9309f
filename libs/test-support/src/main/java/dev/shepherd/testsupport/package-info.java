/**
 * What Shepherd's tests share: {@link dev.shepherd.testsupport.WithRealServices} finds a real
 * RabbitMQ and Redis (environment, local ports, Testcontainers) and fails with a clear message when
 * there is none, {@link dev.shepherd.testsupport.TestNames} gives each test class its own prefix,
 * {@link dev.shepherd.testsupport.SettableClock} replaces sleeping, and {@link
 * dev.shepherd.testsupport.ManagedProcess} starts services as separate JVMs for end-to-end tests.
 */
package dev.shepherd.testsupport;
