/**
 * Who may do what (issue 17, ADR 40): callers authenticated by API key or token, an access policy
 * of grants (principals and groups, type patterns, operations), tenants and a per-principal rate
 * limit. Pure logic; the scheduler's web layer applies it.
 */
package dev.shepherd.engine.access;
