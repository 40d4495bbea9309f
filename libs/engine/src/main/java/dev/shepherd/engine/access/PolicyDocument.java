package dev.shepherd.engine.access;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
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
 * }</pre>
 */
public record PolicyDocument(List<KeyEntry> apiKeys, List<GrantEntry> grants) {

  /** One API key: the principal's name, its SHA-256 hash, its tenant and groups. */
  public record KeyEntry(String name, String sha256, String tenant, List<String> groups) {}

  /** One grant: principals and groups, type patterns, operations by name. */
  public record GrantEntry(
      List<String> principals, List<String> groups, List<String> types, List<String> operations) {}

  public static final PolicyDocument EMPTY = new PolicyDocument(List.of(), List.of());

  public PolicyDocument {
    apiKeys = apiKeys == null ? List.of() : List.copyOf(apiKeys);
    grants = grants == null ? List.of() : List.copyOf(grants);
  }

  /** This document's entries followed by {@code other}'s. */
  public PolicyDocument and(PolicyDocument other) {
    List<KeyEntry> keys = new ArrayList<>(apiKeys);
    keys.addAll(other.apiKeys);
    List<GrantEntry> all = new ArrayList<>(grants);
    all.addAll(other.grants);
    return new PolicyDocument(keys, all);
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
    return new AccessPolicy(all);
  }
}
