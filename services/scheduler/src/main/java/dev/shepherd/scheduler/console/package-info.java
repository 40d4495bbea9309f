/**
 * The operators' console (issue 19, ADR 42): pages rendered as HTML on the server from the views
 * the REST API reads ({@code JobView}, {@code JobSummary}, {@code DeadJob}, {@code WorkerView}).
 * These classes only render and compute (escaping, a timeline's bars, a page of a listing); what
 * they show is read and authorised by the scheduler's controllers, through {@code Access}.
 */
package dev.shepherd.scheduler.console;
