#!/usr/bin/env bash
# make test (ADR 58): every module built and installed once without its tests; then the modules'
# own tests, two modules at a time (ADR 47), beside the end-to-end suite, one class at a time
# (ADR 43), which starts the services from copies of their jars (build/e2e-jars) so that the other
# modules may package theirs again meanwhile. The modules' output goes to build/test-modules.log
# and is printed when both are done; the command fails when either failed, and says which.
set -uo pipefail
cd "$(dirname "$0")/.."
: "${JAVA_HOME:?JAVA_HOME must point at a JDK >= 21 (the Makefile finds one)}"
MVN=(${MVN_CMD:-$(command -v mvn || echo ./mvnw)} -B -ntp -Dstyle.color=never)
scripts/check-services.sh || exit 1

began=$SECONDS
echo "== building every module, tests compiled but not run"
"${MVN[@]}" -T 2 clean install -DskipTests || exit 1

jars=$PWD/build/e2e-jars
rm -rf "$jars" && mkdir -p "$jars"
cp services/*/target/shepherd-*-0.1.0-SNAPSHOT.jar \
  examples/report-worker/target/shepherd-example-report-worker-0.1.0-SNAPSHOT.jar "$jars"/ || exit 1

modules_log=build/test-modules.log
echo "== the modules' tests (log: $modules_log) beside the end-to-end suite"
"${MVN[@]}" -T 2 verify -pl '!e2e-tests' >"$modules_log" 2>&1 &
modules=$!
# stopped with this script (Ctrl-C, a CI time-out), the modules' build stops too
trap 'kill "$modules" 2>/dev/null' EXIT

"${MVN[@]}" verify -pl e2e-tests -De2e.jars="$jars"
e2e=$?
echo "== end-to-end suite done ($(( (SECONDS - began) / 60 )) min since the build began); waiting for the modules' tests"
wait "$modules"
mods=$?
trap - EXIT
echo "== the modules' tests (from $modules_log):"
cat "$modules_log"
echo "== make test: modules $([ $mods -eq 0 ] && echo passed || echo FAILED), end-to-end $([ $e2e -eq 0 ] && echo passed || echo FAILED), $(( (SECONDS - began) / 60 )) min $(( (SECONDS - began) % 60 )) s"
[ $mods -eq 0 ] && [ $e2e -eq 0 ]
