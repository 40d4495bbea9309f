package dev.shepherd.engine.access;

import com.fasterxml.jackson.annotation.JsonInclude;
import dev.shepherd.model.Json;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * A caller's identity as a job keeps it, {@code {"name": ..., "groups": [...]}}, so the grant it
 * submitted under can be checked again when the job is handed out (ADR 40).
 */
public final class Callers {

  /**
   * What a job stores, without what is empty: no groups and no tenant are left out, so a broker
   * user of no group is {@code {"name":"guest"}} (24 bytes fewer per job in Redis than with the
   * empty fields, ADR 54).
   *
   * @param groups absent for none
   * @param tenant absent for none (and in identities stored before it was kept: no tenant)
   */
  @JsonInclude(JsonInclude.Include.NON_EMPTY)
  private record Identity(String name, List<String> groups, String tenant) {
    Identity {
      groups = groups == null ? List.of() : groups;
    }
  }

  private Callers() {}

  /** The JSON a job stores for {@code caller}. */
  public static String identity(Caller caller) {
    return Json.mapper()
        .writeValueAsString(
            new Identity(
                caller.name(),
                new ArrayList<>(new TreeSet<>(caller.groups())),
                caller.tenantOfNewJobs()));
  }

  /**
   * The caller a stored identity names, as the policy sees it now: its groups are the policy's when
   * it knows the name (an API key, a broker user), else the stored ones (a token's).
   */
  public static Caller of(String identity, PolicySource.Snapshot now) {
    return of(Json.mapper().readValue(identity, Identity.class), now);
  }

  private static Caller of(Identity stored, PolicySource.Snapshot now) {
    Caller known = now.keys().byName(stored.name());
    if (known == null) {
      known = now.brokerUsers().get(stored.name());
    }
    Set<String> groups = known != null ? known.groups() : Set.copyOf(stored.groups());
    return new Caller(stored.name(), known != null ? known.tenant() : Caller.NO_TENANT, groups);
  }

  /**
   * Why the job {@code identity} submitted may not be handed out to {@code pool} any more, or null
   * when the pool is granted {@code type} and the submitter's grant of {@code submit} on it still
   * holds.
   */
  public static String refusal(
      String identity, String type, String pool, PolicySource.Snapshot now) {
    if (!now.policy().poolMayRun(pool, type)) {
      return "forbidden: worker pool '" + pool + "' is not granted jobs of type '" + type + "'";
    }
    if (identity == null) {
      return now.policy().poolMayRun(pool, type, Caller.NO_TENANT)
          ? null
          : "forbidden: worker pool '" + pool + "' is not granted jobs of no tenant";
    }
    Identity stored;
    Caller caller;
    try {
      stored = Json.mapper().readValue(identity, Identity.class);
      caller = of(stored, now);
    } catch (RuntimeException e) {
      return "forbidden: the job's submitter cannot be read (" + e.getMessage() + ")";
    }
    String tenant = stored.tenant() == null ? Caller.NO_TENANT : stored.tenant();
    if (!now.policy().poolMayRun(pool, type, tenant)) {
      return "forbidden: worker pool '" + pool + "' is not granted jobs of tenant '" + tenant + "'";
    }
    return now.policy().allows(caller, Operation.SUBMIT, type)
        ? null
        : "forbidden: "
            + caller.name()
            + " may no longer submit jobs of type '"
            + type
            + "' (the grant was revoked after the job was accepted)";
  }
}
