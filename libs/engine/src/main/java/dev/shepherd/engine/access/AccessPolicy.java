package dev.shepherd.engine.access;

import java.util.List;

/**
 * The grants of an installation: who may do what with the jobs of which types. Nothing is allowed
 * that no grant allows. Immutable; a changed policy is a new one ({@link PolicySource}).
 */
public final class AccessPolicy {

  /** A policy that allows nothing. */
  public static final AccessPolicy NONE = new AccessPolicy(List.of());

  private final List<Grant> grants;
  private final java.util.Map<String, Grant> pools;
  private final java.util.Map<String, java.util.Set<String>> poolTenants;

  public AccessPolicy(List<Grant> grants) {
    this(grants, java.util.Map.of());
  }

  /**
   * @param poolTypes the type patterns each worker pool may run; empty: every pool runs every type
   *     it takes
   */
  public AccessPolicy(List<Grant> grants, java.util.Map<String, List<String>> poolTypes) {
    this(grants, poolTypes, java.util.Map.of());
  }

  /**
   * @param poolTypes the type patterns each worker pool may run; empty: every pool runs every type
   *     it takes
   * @param poolTenants the tenants whose jobs a listed pool may run; a pool not in it runs every
   *     tenant's
   */
  public AccessPolicy(
      List<Grant> grants,
      java.util.Map<String, List<String>> poolTypes,
      java.util.Map<String, java.util.Set<String>> poolTenants) {
    this.grants = List.copyOf(grants);
    java.util.Map<String, java.util.Set<String>> tenants = new java.util.HashMap<>();
    poolTenants.forEach((pool, names) -> tenants.put(pool, java.util.Set.copyOf(names)));
    this.poolTenants = java.util.Map.copyOf(tenants);
    java.util.Map<String, Grant> byPool = new java.util.HashMap<>();
    poolTypes.forEach(
        (pool, types) ->
            byPool.put(
                pool, new Grant(List.of(pool), null, types, java.util.Set.of(Operation.READ))));
    this.pools = java.util.Map.copyOf(byPool);
  }

  /**
   * Whether the workers of {@code pool} may run jobs of {@code type}: always when no pool is listed
   * in the policy, else only when {@code pool} is listed with a pattern that matches.
   */
  public boolean poolMayRun(String pool, String type) {
    if (pools.isEmpty()) {
      return true;
    }
    Grant granted = pools.get(pool);
    return granted != null && granted.matches(type);
  }

  /**
   * Whether the workers of {@code pool} may run a job of {@code type} that belongs to {@code
   * tenant}: {@link #poolMayRun(String, String)}, and when the pool is listed with tenants, the
   * job's tenant is one of them.
   */
  public boolean poolMayRun(String pool, String type, String tenant) {
    if (!poolMayRun(pool, type)) {
      return false;
    }
    java.util.Set<String> tenants = poolTenants.get(pool);
    return tenants == null || tenants.contains(tenant == null ? Caller.NO_TENANT : tenant);
  }

  public List<Grant> grants() {
    return grants;
  }

  /** Whether {@code caller} may do {@code operation} on a job of {@code type}. */
  public boolean allows(Caller caller, Operation operation, String type) {
    if (caller == Caller.UNCHECKED) {
      return true;
    }
    for (Grant grant : grants) {
      if (grant.covers(caller) && grant.allows(operation) && grant.matches(type)) {
        return true;
      }
    }
    return false;
  }

  /**
   * Whether {@code caller} may do {@code operation} on the jobs of at least one type: may it ask at
   * all (a list, which then shows only the types it may read).
   */
  public boolean allowsSomeType(Caller caller, Operation operation) {
    if (caller == Caller.UNCHECKED) {
      return true;
    }
    for (Grant grant : grants) {
      if (grant.covers(caller) && grant.allows(operation)) {
        return true;
      }
    }
    return false;
  }

  /**
   * Whether {@code caller} is an administrator: granted {@code admin} on every type. Only they see
   * the installation's own views (workers, announced types, ordering keys) and fencing tokens.
   */
  public boolean isAdmin(Caller caller) {
    if (caller == Caller.UNCHECKED) {
      return true;
    }
    for (Grant grant : grants) {
      if (grant.covers(caller)
          && grant.operations().contains(Operation.ADMIN)
          && grant.coversEveryType()) {
        return true;
      }
    }
    return false;
  }
}
