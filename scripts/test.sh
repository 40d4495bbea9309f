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
# copies the one jar the module in $1 built (target/shepherd-*.jar, whatever its version; not the
# repackager's *.original nor a sources, javadoc, plain or tests jar) to $jars under its own name,
# the name Cluster.builtJar reads; fails, saying what it found, unless there is exactly one
copy_jar() {
  local found=() f
  for f in "$1"/target/shepherd-*.jar; do
    [ -f "$f" ] || continue
    case $f in *-sources.jar | *-javadoc.jar | *-plain.jar | *-tests.jar) continue ;; esac
    found+=("$f")
  done
  if [ ${#found[@]} -ne 1 ]; then
    echo "expected exactly one built jar $1/target/shepherd-*.jar, found ${#found[@]}${found[*]:+: ${found[*]}}" >&2
    return 1
  fi
  cp "${found[0]}" "$jars"/
}
rm -rf "$jars" && mkdir -p "$jars"
for module in services/*/ examples/report-worker/; do
  copy_jar "${module%/}" || exit 1
done

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
