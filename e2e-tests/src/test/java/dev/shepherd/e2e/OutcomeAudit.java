package dev.shepherd.e2e;

import static org.awaitility.Awaitility.await;

import dev.shepherd.client.ShepherdClient;
import dev.shepherd.model.JobEvent;
import dev.shepherd.model.JobState;
import dev.shepherd.model.JobView;
import dev.shepherd.model.TransitionRecord;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * What became of a set of accepted jobs, read back through the scheduler's API: how many ended in
 * each state, and every job that breaks a promise (not exactly one terminal transition, or a
 * SUCCEEDED outcome not reported by the attempt holding the job's newest fencing token).
 */
record OutcomeAudit(
    int jobs,
    Map<JobState, Integer> byState,
    int exactlyOneTerminal,
    int reRun,
    int leaseExpiries,
    int succeededWithCurrentToken,
    List<String> violations) {

  /** Waits until every job is in a terminal state, polling only those that are not yet. */
  static void awaitAllTerminal(ShepherdClient client, List<String> ids, Duration timeout) {
    Set<String> open = new HashSet<>(ids);
    await()
        .atMost(timeout)
        .pollInterval(Duration.ofSeconds(1))
        .conditionEvaluationListener(
            c -> {
              if (!c.isSatisfied() && c.getElapsedTimeInMS() % 10_000 < 1_000) {
                System.out.printf("%d of %d jobs not finished yet%n", open.size(), ids.size());
              }
            })
        .until(
            () -> {
              open.removeIf(
                  id -> {
                    try {
                      return client.get(id).map(j -> j.state().isTerminal()).orElse(false);
                    } catch (RuntimeException e) {
                      return false; // the scheduler may be restarting
                    }
                  });
              return open.isEmpty();
            });
  }

  static OutcomeAudit of(ShepherdClient client, List<String> ids) {
    Map<JobState, Integer> byState = new EnumMap<>(JobState.class);
    List<String> violations = new ArrayList<>();
    int reRun = 0;
    int expiries = 0;
    int currentToken = 0;
    int oneTerminal = 0;
    for (String id : ids) {
      JobView job = client.get(id).orElse(null);
      if (job == null) {
        violations.add(id + ": accepted but unknown");
        continue;
      }
      byState.merge(job.state(), 1, Integer::sum);
      List<TransitionRecord> history = job.history();
      long terminal = history.stream().filter(h -> h.to().isTerminal()).count();
      if (job.state().isTerminal() && terminal == 1) {
        oneTerminal++;
      } else {
        violations.add(id + ": " + job.state() + " with " + terminal + " terminal transitions");
      }
      List<TransitionRecord> claims =
          history.stream().filter(h -> h.event() == JobEvent.CLAIM).toList();
      if (claims.size() > 1) {
        reRun++;
      }
      expiries += (int) history.stream().filter(h -> h.event() == JobEvent.LEASE_EXPIRED).count();
      if (job.state() == JobState.SUCCEEDED) {
        TransitionRecord succeeded = history.getLast();
        TransitionRecord lastClaim = claims.isEmpty() ? null : claims.getLast();
        boolean fromCurrent =
            succeeded.event() == JobEvent.SUCCEED
                && lastClaim != null
                && succeeded.fencingToken() != null
                && Objects.equals(succeeded.fencingToken(), lastClaim.fencingToken())
                && succeeded.attempt() == job.attempt()
                && claims.stream()
                    .allMatch(
                        c ->
                            c.fencingToken() != null
                                && c.fencingToken() <= succeeded.fencingToken());
        if (fromCurrent) {
          currentToken++;
        } else {
          violations.add(
              id
                  + ": SUCCEEDED by token "
                  + succeeded.fencingToken()
                  + " but the newest claim holds "
                  + (lastClaim == null ? null : lastClaim.fencingToken()));
        }
      }
    }
    return new OutcomeAudit(
        ids.size(), byState, oneTerminal, reRun, expiries, currentToken, violations);
  }

  int count(JobState state) {
    return byState.getOrDefault(state, 0);
  }

  String summary() {
    return String.format(
        "%d accepted jobs %s; %d in exactly one terminal state; %d of %d SUCCEEDED reported by the"
            + " attempt holding the current fencing token; %d ran more than once; %d lease"
            + " expiries; %d violations",
        jobs,
        byState,
        exactlyOneTerminal,
        succeededWithCurrentToken,
        count(JobState.SUCCEEDED),
        reRun,
        leaseExpiries,
        violations.size());
  }
}
