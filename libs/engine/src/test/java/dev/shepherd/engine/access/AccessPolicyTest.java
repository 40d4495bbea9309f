package dev.shepherd.engine.access;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Grants, tenants, keys, the policy file and the rate limit (ADR 40). */
class AccessPolicyTest {

  private static final Caller ANN = new Caller("ann", "acme", Set.of("producers"));
  private static final Caller BOB = new Caller("bob", "acme", Set.of());
  private static final Caller OPS = new Caller("ops", "*", Set.of());

  private final AccessPolicy policy =
      new AccessPolicy(
          List.of(
              new Grant(
                  List.of(),
                  List.of("producers"),
                  List.of("report.*", "demo.noop"),
                  Set.of(Operation.SUBMIT, Operation.READ)),
              new Grant(List.of("ops"), List.of(), List.of("*"), Set.of(Operation.ADMIN))));

  @Test
  void aGrantAllowsItsOperationsOnTheTypesItsPatternsMatch() {
    assertThat(policy.allows(ANN, Operation.SUBMIT, "report.render")).isTrue();
    assertThat(policy.allows(ANN, Operation.SUBMIT, "demo.noop")).isTrue();
    assertThat(policy.allows(ANN, Operation.SUBMIT, "report")).as("not report.*").isFalse();
    assertThat(policy.allows(ANN, Operation.SUBMIT, "reporting.x")).isFalse();
    assertThat(policy.allows(ANN, Operation.SUBMIT, "demo.noopx")).isFalse();
    assertThat(policy.allows(ANN, Operation.CANCEL, "report.render")).isFalse();
    assertThat(policy.allows(BOB, Operation.READ, "report.render")).as("no grant").isFalse();
    assertThat(policy.allowsSomeType(BOB, Operation.READ)).isFalse();
    assertThat(policy.allowsSomeType(ANN, Operation.READ)).isTrue();
  }

  @Test
  void adminAllowsEverythingAndOnlyAdminOnEveryTypeMakesAnAdministrator() {
    assertThat(policy.allows(OPS, Operation.DISCARD, "anything")).isTrue();
    assertThat(policy.isAdmin(OPS)).isTrue();
    assertThat(policy.isAdmin(ANN)).isFalse();
    var narrow =
        new AccessPolicy(
            List.of(new Grant(List.of("ann"), null, List.of("report.*"), Set.of(Operation.ADMIN))));
    assertThat(narrow.allows(ANN, Operation.REDRIVE, "report.x")).isTrue();
    assertThat(narrow.isAdmin(ANN)).as("admin on report.* only").isFalse();
  }

  @Test
  void onceAPoolIsListedAJobGoesOnlyToAPoolGrantedItsType() {
    assertThat(policy.poolMayRun("anything", "any.type")).as("no pool listed").isTrue();
    var pools =
        new PolicyDocument(
                null,
                null,
                null,
                List.of(
                    new PolicyDocument.PoolEntry("reports", List.of("report.*"), null),
                    new PolicyDocument.PoolEntry("acme-only", null, List.of("acme"))))
            .policy();
    assertThat(pools.poolMayRun("reports", "report.render")).isTrue();
    assertThat(pools.poolMayRun("reports", "billing.charge")).isFalse();
    assertThat(pools.poolMayRun("default", "report.render")).as("a pool not listed").isFalse();
    assertThat(pools.poolMayRun("reports", "report.render", "globex")).as("every tenant").isTrue();
    assertThat(pools.poolMayRun("acme-only", "billing.charge", "acme")).as("every type").isTrue();
    assertThat(pools.poolMayRun("acme-only", "billing.charge", "globex")).isFalse();
    assertThat(pools.poolMayRun("acme-only", "billing.charge", "")).as("no tenant").isFalse();
  }

  @Test
  void theDispatchCheckNamesTheRevokedGrantOrThePoolAndKnowsTheKeysGroupsNow() {
    var keyed =
        new PolicySource.Snapshot(
            new ApiKeys(
                List.of(
                    new ApiKeys.ApiKey("ann", ApiKeys.sha256("k"), "acme", Set.of("producers")))),
            policy,
            java.util.Map.of());
    String annAsSubmitted = Callers.identity(new Caller("ann", "acme", Set.of()));
    assertThat(Callers.refusal(annAsSubmitted, "report.render", "reports", keyed))
        .as("the key's groups now: producers")
        .isNull();
    assertThat(Callers.refusal(annAsSubmitted, "billing.charge", "reports", keyed))
        .startsWith("forbidden: ann may no longer submit");
    assertThat(Callers.refusal(null, "billing.charge", "reports", keyed))
        .as("no submitter known: access control was off")
        .isNull();

    var acmePool =
        new PolicySource.Snapshot(
            keyed.keys(),
            new PolicyDocument(
                    null,
                    List.of(
                        new PolicyDocument.GrantEntry(
                            null, List.of("producers"), List.of("*"), List.of("submit"))),
                    null,
                    List.of(new PolicyDocument.PoolEntry("acme-pool", null, List.of("acme"))))
                .policy(),
            java.util.Map.of());
    assertThat(Callers.refusal(annAsSubmitted, "report.render", "acme-pool", acmePool)).isNull();
    String globexJob = Callers.identity(new Caller("ann", "globex", Set.of()));
    assertThat(Callers.refusal(globexJob, "report.render", "acme-pool", acmePool))
        .isEqualTo("forbidden: worker pool 'acme-pool' is not granted jobs of tenant 'globex'");
    assertThat(Callers.refusal(null, "report.render", "acme-pool", acmePool))
        .startsWith("forbidden: worker pool 'acme-pool' is not granted jobs of no tenant");
  }

  @Test
  void aCallerSeesItsOwnTenantsJobsAndAnOperatorSeesEveryTenants() {
    assertThat(ANN.sees("acme")).isTrue();
    assertThat(ANN.sees("globex")).isFalse();
    assertThat(ANN.sees("")).as("a job of no tenant").isFalse();
    assertThat(OPS.sees("globex")).isTrue();
    assertThat(OPS.tenantOfNewJobs()).isEmpty();
    assertThat(ANN.tenantOfNewJobs()).isEqualTo("acme");
  }

  @Test
  void aWrongGrantOrKeyIsRefusedWithItsReason() {
    assertThatThrownBy(
            () -> new Grant(List.of("a"), null, List.of("rep*rt"), Set.of(Operation.READ)))
        .hasMessageContaining("prefix.*");
    assertThatThrownBy(() -> new Grant(null, null, List.of("*"), Set.of(Operation.READ)))
        .hasMessageContaining("principal or group");
    assertThatThrownBy(() -> Operation.named("delete")).hasMessageContaining("unknown operation");
    assertThatThrownBy(() -> new ApiKeys.ApiKey("k", "abc", "acme", null))
        .hasMessageContaining("64 hex digits");
    assertThatThrownBy(() -> new ApiKeys.ApiKey("k", ApiKeys.sha256("x"), "Acme Inc", null))
        .hasMessageContaining("lower-case");
  }

  @Test
  void aKeyAuthenticatesByItsHashOnly() {
    var keys =
        new ApiKeys(
            List.of(new ApiKeys.ApiKey("ann", ApiKeys.sha256("s3cret"), "acme", Set.of("p"))));
    assertThat(keys.authenticate("s3cret"))
        .hasValueSatisfying(c -> assertThat(c.tenant()).isEqualTo("acme"));
    assertThat(keys.authenticate("s3cret ")).isEmpty();
    assertThat(keys.authenticate(ApiKeys.sha256("s3cret"))).as("the hash is no key").isEmpty();
    assertThat(keys.authenticate(null)).isEmpty();
  }

  @Test
  void thePolicyFileIsReadAgainWhenItChangesAndABrokenOneKeepsTheLastGood(@TempDir Path dir)
      throws Exception {
    Path file = dir.resolve("policy.yml");
    Files.writeString(file, "grants:\n  - {principals: [bob], types: ['*'], operations: [read]}\n");
    var source = new PolicySource(PolicyDocument.EMPTY, file);
    assertThat(source.current().policy().allows(BOB, Operation.READ, "x")).isTrue();

    Files.writeString(
        file, "grants:\n  - {principals: [bob], types: ['*'], operations: [cancel]}\n");
    Files.setLastModifiedTime(file, FileTime.from(Instant.now().plusSeconds(5)));
    assertThat(source.refresh()).isTrue();
    assertThat(source.current().policy().allows(BOB, Operation.READ, "x")).isFalse();
    assertThat(source.current().policy().allows(BOB, Operation.CANCEL, "x")).isTrue();

    Files.writeString(file, "grants:\n  - {principals: [bob], types: ['*'], operations: [fly]}\n");
    Files.setLastModifiedTime(file, FileTime.from(Instant.now().plusSeconds(10)));
    assertThat(source.refresh()).as("not applied").isFalse();
    assertThat(source.current().policy().allows(BOB, Operation.CANCEL, "x"))
        .as("the last good")
        .isTrue();
    assertThat(source.refresh()).as("unchanged since").isFalse();
  }

  @Test
  void aBrokenPolicyAtStartUpFailsWithWhereAndWhy(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("policy.yml");
    Files.writeString(file, "grants:\n  - {principals: [bob], types: ['*'], operations: [fly]}\n");
    assertThatThrownBy(() -> new PolicySource(PolicyDocument.EMPTY, file))
        .hasMessageContaining("grant 1")
        .hasMessageContaining("unknown operation 'fly'");
    Files.writeString(file, "- just a list\n");
    assertThatThrownBy(() -> new PolicySource(PolicyDocument.EMPTY, file))
        .hasMessageContaining("map of apiKeys and grants");
  }

  @Test
  void theRateLimitLetsABurstThroughThenOneRequestPerPeriodPerPrincipal() {
    var clock = new dev.shepherd.testsupport.SettableClock(Instant.parse("2026-12-01T00:00:00Z"));
    var limiter = new RateLimiter(2, 3, clock);
    for (int i = 0; i < 3; i++) {
      assertThat(limiter.acquire("ann")).as("burst " + i).isNull();
    }
    assertThat(limiter.acquire("ann")).isEqualTo(Duration.ofMillis(500));
    assertThat(limiter.acquire("bob")).as("bob's own bucket").isNull();
    clock.advance(Duration.ofMillis(500));
    assertThat(limiter.acquire("ann")).isNull();
    assertThat(limiter.acquire("ann")).isNotNull();
    assertThat(new RateLimiter(0, 1, clock).acquire("ann")).as("no limit").isNull();
  }
}
