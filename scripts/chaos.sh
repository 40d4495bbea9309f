#!/usr/bin/env bash
# make chaos: build, then run the full-size fault tests CHAOS_RUNS times in a row (default 3):
# ChaosE2EIT (2,000 jobs through killed, frozen and restarted workers, services, broker and Redis,
# then Redis out of memory, frozen and LOADING) and RedisOutageE2EIT (jobs submitted over AMQP
# through the same three Redis faults), each Redis fault held 20 s (make test holds them 5 s), and
# JobKeysE2EIT at 50 ordering keys x 100 jobs (make test runs 8 x 12), and ClusteredChaosE2EIT at
# 100,000 jobs (CHAOS_CLUSTERED_JOBS=n; make test runs 600) on a Redis Cluster and a three-node
# RabbitMQ cluster through worker, scheduler, Redis master and broker node failures, and
# RabbitClusterE2EIT (a three-node RabbitMQ cluster whose work-queue leader, then busiest node, is
# SIGKILLed and restarted under a steady stream of jobs; not in make test, whose ClusteredChaosE2EIT
# kills one broker node).
# Stops at the first failed run. Logs go to build/chaos/run-N.log, each run's result lines to
# build/chaos/results.txt. CHAOS_SKIP_BUILD=1 runs what is already built; CHAOS_TESTS names other
# test classes (comma-separated), e.g. CHAOS_TESTS=ChaosE2EIT.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${JAVA_HOME:?JAVA_HOME must point at a JDK >= 21 (the Makefile finds one)}"
scripts/check-services.sh
MVN=$(command -v mvn || echo ./mvnw)
runs=${CHAOS_RUNS:-3}
tests=${CHAOS_TESTS:-ChaosE2EIT,RedisOutageE2EIT,JobKeysE2EIT,ClusteredChaosE2EIT,RabbitClusterE2EIT}
mkdir -p build/chaos
if [ "${CHAOS_SKIP_BUILD:-}" != "1" ]; then
  echo "Building (log in build/chaos/build.log)..."
  if ! JAVA_HOME="$JAVA_HOME" "$MVN" -B -q -ntp -DskipTests -Dspotless.check.skip=true clean install >build/chaos/build.log 2>&1; then
    tail -n 40 build/chaos/build.log
    exit 1
  fi
fi
: >build/chaos/results.txt
for run in $(seq 1 "$runs"); do
  log="build/chaos/run-$run.log"
  echo "Chaos run $run of $runs (log in $log)..."
  started=$(date +%s)
  if JAVA_HOME="$JAVA_HOME" "$MVN" -B -ntp -Dstyle.color=never -pl e2e-tests verify \
      -Dspotless.check.skip=true -Dtest=NONE -Dsurefire.failIfNoSpecifiedTests=false \
      -Dit.test="$tests" -Dshepherd.chaos.fault-seconds=20 -De2e.parallel.enabled=false \
      -Dshepherd.chaos.clustered-jobs="${CHAOS_CLUSTERED_JOBS:-100000}" \
      -Dshepherd.keys.ordering-keys=50 -Dshepherd.keys.jobs-per-key=100 -Dshepherd.keys.down-seconds=30 >"$log" 2>&1; then
    verdict=passed
  else
    verdict=FAILED
  fi
  {
    echo "run $run of $runs, $(date -u '+%Y-%m-%d %H:%M UTC'), $(( $(date +%s) - started )) s: $verdict"
    grep -E "CHAOS RESULT|CLUSTERED CHAOS RESULT|RABBIT CLUSTER RESULT|CHAOS REFUSED|KEYS RESULT|^Redis outage:|Tests run:.*in dev" "$log" || true
  } | tee -a build/chaos/results.txt
  if [ "$verdict" != passed ]; then
    grep -E "\[ERROR\]" "$log" | head -n 20
    exit 1
  fi
done
echo "$runs chaos runs in a row passed; results in build/chaos/results.txt"
