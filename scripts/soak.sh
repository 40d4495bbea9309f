#!/usr/bin/env bash
# make soak: build, then push 200,000 jobs (SOAK_JOBS=n for another count) through the services
# and workers with a 10 s retention, on a private Redis and the local RabbitMQ
# (SHEPHERD_RABBITMQ_URI to point elsewhere); passes when Redis's used_memory is back within 10 %
# of where it started and no key points at nothing. Figures go to build/soak/soak-full.json.
# SOAK_SKIP_BUILD=1 runs what is already built.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${JAVA_HOME:?JAVA_HOME must point at a JDK >= 21 (the Makefile finds one)}"
scripts/check-services.sh
MVN=$(command -v mvn || echo ./mvnw)
mkdir -p build
if [ "${SOAK_SKIP_BUILD:-}" != "1" ]; then
  echo "Building (log in build/soak-build.log)..."
  if ! JAVA_HOME="$JAVA_HOME" "$MVN" -B -q -ntp -DskipTests -Dspotless.check.skip=true clean install >build/soak-build.log 2>&1; then
    tail -n 40 build/soak-build.log
    exit 1
  fi
fi
cp="e2e-tests/target/classes:$(cat e2e-tests/target/classpath.txt)"
exec "$JAVA_HOME/bin/java" -Xmx512m -Dorg.slf4j.simpleLogger.defaultLogLevel=warn \
  -Dshepherd.root="$PWD" -cp "$cp" dev.shepherd.e2e.soak.Soak "$@"
