/**
 * Reading the services' Prometheus endpoints without a Prometheus: {@link
 * dev.shepherd.e2e.metrics.Scrape} parses one exposition, and {@link
 * dev.shepherd.e2e.metrics.DashboardSnapshot} turns a series of scrapes of a real run into the
 * dashboard's panels as a PNG.
 */
package dev.shepherd.e2e.metrics;
