package dev.shepherd.scheduler;

import dev.shepherd.engine.access.PolicyDocument;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.util.unit.DataSize;

/**
 * Who may call the API (ADR 40, docs/SECURITY.md): {@code shepherd.security.*}.
 *
 * @param enabled false only for a closed development setup: every call is then anonymous and may do
 *     everything, in no tenant (true when not set)
 * @param apiKeys static API keys (name, SHA-256 hash, tenant, groups)
 * @param grants who may do what on which types
 * @param amqpUsers RabbitMQ users as principals (name, tenant, groups): an AMQP submission is its
 *     broker-validated {@code user_id}'s
 * @param pools worker pools and the job types each may run; once one is listed, a job goes only to
 *     a pool granted its type
 * @param policyFile a YAML file of more {@code apiKeys} and {@code grants} (a mounted Secret), read
 *     again when it changes; null for none
 * @param policyRefresh how often the policy file is checked for a change (5 s when not set)
 * @param jwt how a bearer token's claims name the caller's tenant and groups (the issuer and its
 *     keys are Spring's {@code spring.security.oauth2.resourceserver.jwt.*})
 * @param submitRate the submissions each principal may make, per scheduler replica
 * @param maxBody the largest request body read; a larger one is refused with 413 before it is read
 *     further (320 KB when not set: a 256 KiB payload and its envelope)
 */
@ConfigurationProperties("shepherd.security")
public record AccessProperties(
    Boolean enabled,
    List<PolicyDocument.KeyEntry> apiKeys,
    List<PolicyDocument.GrantEntry> grants,
    List<PolicyDocument.UserEntry> amqpUsers,
    List<PolicyDocument.PoolEntry> pools,
    Path policyFile,
    Duration policyRefresh,
    Jwt jwt,
    SubmitRate submitRate,
    DataSize maxBody) {

  public AccessProperties {
    enabled = enabled == null || enabled;
    apiKeys = apiKeys == null ? List.of() : List.copyOf(apiKeys);
    grants = grants == null ? List.of() : List.copyOf(grants);
    amqpUsers = amqpUsers == null ? List.of() : List.copyOf(amqpUsers);
    pools = pools == null ? List.of() : List.copyOf(pools);
    policyRefresh = policyRefresh == null ? Duration.ofSeconds(5) : policyRefresh;
    jwt = jwt == null ? new Jwt(null, null) : jwt;
    submitRate = submitRate == null ? new SubmitRate(null, null) : submitRate;
    maxBody = maxBody == null ? DataSize.ofKilobytes(320) : maxBody;
  }

  /**
   * @param tenantClaim the claim that names the caller's tenant; a token without it is refused
   *     ({@code tenant} when not set)
   * @param groupsClaim the claim that lists the caller's groups, a list or a space-separated string
   *     ({@code groups} when not set)
   */
  public record Jwt(String tenantClaim, String groupsClaim) {
    public Jwt {
      tenantClaim = tenantClaim == null ? "tenant" : tenantClaim;
      groupsClaim = groupsClaim == null ? "groups" : groupsClaim;
    }
  }

  /**
   * @param perSecond submissions a second each principal may make on average; 0 for no limit (the
   *     default)
   * @param burst how many it may make at once (100 when not set)
   */
  public record SubmitRate(Double perSecond, Integer burst) {
    public SubmitRate {
      perSecond = perSecond == null ? 0 : perSecond;
      burst = burst == null ? 100 : burst;
    }
  }

  /** The keys and grants of the configuration itself. */
  PolicyDocument configured() {
    return new PolicyDocument(apiKeys, grants, amqpUsers, pools);
  }
}
