package dev.shepherd.engine.access;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * API keys and grants as configured: in {@code shepherd.security} or in the policy file, both the
 * same shape (docs/SECURITY.md).
 *
 * <pre>{@code
 * apiKeys:
 *   - {name: report-service, sha256: 9f86d0..., tenant: acme, groups: [producers]}
 * grants:
 *   - {groups: [producers], types: ["report.*"], operations: [submit, read, cancel]}
 * amqpUsers:
 *   - {name: reports-producer, tenant: acme, groups: [producers]}
 * }</pre>
 */
public record PolicyDocument(
    List<KeyEntry> apiKeys,
    List<GrantEntry> grants,
    List<UserEntry> amqpUsers,
    List<PoolEntry> pools) {

  /**
   * A worker pool, the job types its workers may run (exact, {@code prefix.*} or {@code *}; none
   * listed: every type) and the tenants whose jobs they may run (none listed: every tenant's): once
   * any pool is listed, a job is handed out only to a pool granted its type and its tenant (ADR
   * 40).
   */
  public record PoolEntry(String pool, List<String> types, List<String> tenants) {

    public PoolEntry {
      types = types == null || types.isEmpty() ? List.of("*") : List.copyOf(types);
      tenants = tenants == null ? List.of() : List.copyOf(tenants);
    }
  }

  public PolicyDocument(
      List<KeyEntry> apiKeys, List<GrantEntry> grants, List<UserEntry> amqpUsers) {
    this(apiKeys, grants, amqpUsers, List.of());
  }

  /**
   * A RabbitMQ user as a principal: the broker validates a message's {@code user_id} against the
   * connection's user, so a submission that carries one comes from that user (ADR 40).
   */
  public record UserEntry(String name, String tenant, List<String> groups) {}

  public PolicyDocument(List<KeyEntry> apiKeys, List<GrantEntry> grants) {
    this(apiKeys, grants, List.of(), List.of());
  }

  /** One API key: the principal's name, its SHA-256 hash, its tenant and groups. */
  public record KeyEntry(String name, String sha256, String tenant, List<String> groups) {}

  /** One grant: principals and groups, type patterns, operations by name. */
  public record GrantEntry(
      List<String> principals, List<String> groups, List<String> types, List<String> operations) {}

  public static final PolicyDocument EMPTY =
      new PolicyDocument(List.of(), List.of(), List.of(), List.of());

  public PolicyDocument {
    apiKeys = apiKeys == null ? List.of() : List.copyOf(apiKeys);
    grants = grants == null ? List.of() : List.copyOf(grants);
    amqpUsers = amqpUsers == null ? List.of() : List.copyOf(amqpUsers);
    pools = pools == null ? List.of() : List.copyOf(pools);
  }

  /** This document's entries followed by {@code other}'s. */
  public PolicyDocument and(PolicyDocument other) {
    List<KeyEntry> keys = new ArrayList<>(apiKeys);
    keys.addAll(other.apiKeys);
    List<GrantEntry> all = new ArrayList<>(grants);
    all.addAll(other.grants);
    List<UserEntry> users = new ArrayList<>(amqpUsers);
    users.addAll(other.amqpUsers);
    List<PoolEntry> allPools = new ArrayList<>(pools);
    allPools.addAll(other.pools);
    return new PolicyDocument(keys, all, users, allPools);
  }

  /**
   * The broker users as callers, by name; a user not listed is a caller of no tenant and no groups
   * (see {@link PolicySource.Snapshot#brokerUser}).
   */
  public Map<String, Caller> brokerUsers() {
    Map<String, Caller> users = new HashMap<>();
    for (UserEntry entry : amqpUsers) {
      String tenant = entry.tenant() == null ? Caller.NO_TENANT : entry.tenant();
      if (!tenant.isEmpty()) {
        Tenants.requireValid(tenant, "AMQP user '" + entry.name() + "'");
      }
      Caller caller =
          new Caller(
              entry.name(),
              tenant,
              entry.groups() == null ? Set.of() : new LinkedHashSet<>(entry.groups()));
      if (users.put(entry.name(), caller) != null) {
        throw new IllegalArgumentException("AMQP user '" + entry.name() + "' is listed twice");
      }
    }
    return Map.copyOf(users);
  }

  /** The keys, checked; a clear error names the first wrong entry. */
  public ApiKeys keys() {
    List<ApiKeys.ApiKey> keys = new ArrayList<>();
    for (KeyEntry entry : apiKeys) {
      keys.add(
          new ApiKeys.ApiKey(
              entry.name(),
              entry.sha256(),
              entry.tenant(),
              entry.groups() == null ? Set.of() : new LinkedHashSet<>(entry.groups())));
    }
    return new ApiKeys(keys);
  }

  /** The grants, checked; a clear error names the first wrong entry. */
  public AccessPolicy policy() {
    List<Grant> all = new ArrayList<>();
    for (int i = 0; i < grants.size(); i++) {
      GrantEntry entry = grants.get(i);
      try {
        Set<Operation> operations = new LinkedHashSet<>();
        for (String name : entry.operations() == null ? List.<String>of() : entry.operations()) {
          operations.add(Operation.named(name));
        }
        all.add(new Grant(entry.principals(), entry.groups(), entry.types(), operations));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("grant " + (i + 1) + ": " + e.getMessage(), e);
      }
    }
    Map<String, List<String>> poolTypes = new HashMap<>();
    Map<String, Set<String>> poolTenants = new HashMap<>();
    for (PoolEntry entry : pools) {
      if (entry.pool() == null || entry.pool().isBlank()) {
        throw new IllegalArgumentException("a pools entry names no pool");
      }
      // checked as a grant's patterns are
      new Grant(List.of(entry.pool()), null, entry.types(), Set.of(Operation.READ));
      for (String tenant : entry.tenants()) {
        Tenants.requireValid(tenant, "pool '" + entry.pool() + "'");
      }
      poolTypes.computeIfAbsent(entry.pool(), p -> new ArrayList<>()).addAll(entry.types());
      if (!entry.tenants().isEmpty()) {
        poolTenants
            .computeIfAbsent(entry.pool(), p -> new java.util.HashSet<>())
            .addAll(entry.tenants());
      }
    }
    return new AccessPolicy(all, poolTypes, poolTenants);
  }
}
