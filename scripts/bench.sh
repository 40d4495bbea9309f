#!/usr/bin/env bash
# make bench / make bench-quick / make bench-celery / make bench-soak: build, then run the scenarios against the
# local RabbitMQ and Redis (SHEPHERD_RABBITMQ_URI / SHEPHERD_REDIS_URI to point elsewhere). Full
# and Celery results go to bench/results/ (JSON, table, plots); quick ones to build/bench-quick/.
# BENCH_MAVEN_ARGS adds arguments to the build (-o to build offline); MAVEN_OPTS reaches mvn as
# usual. The Celery scenario needs Debian's python3-celery and python3-redis and installs nothing:
# without them it is skipped, and the results say why. --soak runs the backlog soak alone
# (BacklogSoak: BENCH_SOAK_JOBS jobs, 500,000 by default) instead of the bench; --redis-calls
# compares one Redis script call through Lettuce and through a blocking client (RedisCalls).
set -euo pipefail
cd "$(dirname "$0")/.."
: "${JAVA_HOME:?JAVA_HOME must point at a JDK >= 21 (the Makefile finds one)}"
scripts/check-services.sh
MVN=$(command -v mvn || echo ./mvnw)
mkdir -p build
echo "Building (log in build/bench-build.log)..."
if ! JAVA_HOME="$JAVA_HOME" "$MVN" -B -q -ntp ${BENCH_MAVEN_ARGS:-} -DskipTests -Dspotless.check.skip=true clean install >build/bench-build.log 2>&1; then
  tail -n 40 build/bench-build.log
  exit 1
fi
cp="e2e-tests/target/classes:$(cat e2e-tests/target/classpath.txt)"
main=dev.shepherd.e2e.bench.Bench
if [ "${1:-}" = "--soak" ]; then
  main=dev.shepherd.e2e.bench.BacklogSoak
  shift
fi
if [ "${1:-}" = "--redis-calls" ]; then
  main=dev.shepherd.e2e.bench.RedisCalls
  shift
fi
if [ "${1:-}" = "--scaling" ]; then
  main=dev.shepherd.e2e.bench.Scaling
  shift
fi
exec "$JAVA_HOME/bin/java" -Xmx1g -Djava.awt.headless=true -Dorg.slf4j.simpleLogger.defaultLogLevel=warn \
  -Dshepherd.root="$PWD" -cp "$cp" "$main" "$@"
