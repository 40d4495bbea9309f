package dev.shepherd.engine.access;

import java.util.regex.Pattern;

/** Tenant names: lower-case letters, digits and dashes, or {@code *} for every tenant. */
public final class Tenants {

  private static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9-]{0,62}");

  private Tenants() {}

  /** Throws a clear error unless {@code tenant} is a tenant name or {@code *}. */
  public static void requireValid(String tenant, String where) {
    if (!Caller.ALL_TENANTS.equals(tenant) && !NAME.matcher(tenant).matches()) {
      throw new IllegalArgumentException(
          where
              + ": tenant '"
              + tenant
              + "' must be lower-case letters, digits and dashes (at most 63), or * for every"
              + " tenant");
    }
  }
}
