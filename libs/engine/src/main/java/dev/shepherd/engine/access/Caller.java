package dev.shepherd.engine.access;

import java.util.Set;

/**
 * Who calls: an authenticated principal (an API key's name, a token's subject), the tenant its jobs
 * belong to and the groups grants may name.
 *
 * @param tenant the tenant the caller's jobs belong to; {@link #ALL_TENANTS} for an operator of the
 *     whole installation, who sees every tenant's jobs; {@link #NO_TENANT} when access control is
 *     off
 */
public record Caller(String name, String tenant, Set<String> groups) {

  /** The tenant of an installation without access control: jobs carry no tenant. */
  public static final String NO_TENANT = "";

  /** The tenant of an operator who may see the jobs of every tenant. */
  public static final String ALL_TENANTS = "*";

  /** Who calls when access control is off: may do everything, in no tenant. */
  public static final Caller UNCHECKED = new Caller("anonymous", NO_TENANT, Set.of());

  public Caller {
    if (name == null || name.isBlank()) {
      throw new IllegalArgumentException("a caller needs a name");
    }
    tenant = tenant == null ? NO_TENANT : tenant;
    groups = groups == null ? Set.of() : Set.copyOf(groups);
  }

  /**
   * Whether this caller may see a job of {@code jobTenant} (its {@code tenant} field, empty for
   * none): another tenant's jobs are not there for it (a 404, never a 403).
   */
  public boolean sees(String jobTenant) {
    String of = jobTenant == null ? NO_TENANT : jobTenant;
    return ALL_TENANTS.equals(tenant) || tenant.equals(of);
  }

  /**
   * The tenant a new job of this caller's belongs to: its own, or none for an installation-wide
   * operator (whose jobs any other operator sees).
   */
  public String tenantOfNewJobs() {
    return ALL_TENANTS.equals(tenant) ? NO_TENANT : tenant;
  }
}
