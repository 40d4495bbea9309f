#!/usr/bin/env bash
# make test (ADR 58): every module built and installed once without its tests; then two lanes at
# once. The first runs the end-to-end classes one at a time (ADR 43), but for a few light ones;
# the second runs the modules' own tests, two modules at a time (ADR 47), and then those light
# end-to-end classes, one at a time. Each lane starts the services from its own copies of their
# jars (build/e2e-jars-*), so that the other modules may package theirs again meanwhile and the
# lanes never share an extracted jar or a class-data archive. The second lane's output goes to
# build/test-modules.log and build/test-e2e-second.log, printed when both lanes are done (the first
# lane's, printed as it runs, is also kept in build/test-e2e-first.log); the failed tests of all
# three are listed again at the end, and the
# command fails when any part failed, and says which.
set -uo pipefail
cd "$(dirname "$0")/.."
: "${JAVA_HOME:?JAVA_HOME must point at a JDK >= 21 (the Makefile finds one)}"
MVN=(${MVN_CMD:-$(command -v mvn || echo ./mvnw)} -B -ntp -Dstyle.color=never)
scripts/check-services.sh || exit 1

began=$SECONDS
echo "== building every module, tests compiled but not run"
"${MVN[@]}" -T 2 clean install -DskipTests || exit 1

# The end-to-end classes the second lane runs once the modules' tests are done: short ones whose
# waits have a wide margin. The first lane runs every other class (RabbitClusterE2EIT stays in
# make chaos, as e2e-tests/pom.xml says). Balance: on a clean clone the modules' tests take 7 to 10
# minutes beside the first lane, these 4 to 6, the rest of the end-to-end classes 12 to 18.
second_lane=(ConsoleIT LeastPrivilegeIT JobTypesE2EIT HttpDistributorE2EIT CancelE2EIT JobPathOnRedisClusterE2EIT
  HungHandlerE2EIT JobKeysE2EIT SoakQuickIT BadInputE2EIT)
# "*IT" first: with exclusions alone, failsafe would take every class, the module's unit tests too
first_lane_tests=$(printf "!%s," "${second_lane[@]}" RabbitClusterE2EIT)
first_lane_tests="*IT,$first_lane_tests"
first_lane_tests=${first_lane_tests%,}
second_lane_tests=$(IFS=,; echo "${second_lane[*]}")

# copies the one jar the module in $1 built (target/shepherd-*.jar, whatever its version; not the
# repackager's *.original nor a sources, javadoc, plain or tests jar) to the folder $2 under its
# own name, the name Cluster.builtJar reads; fails, saying what it found, unless there is exactly
# one
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
  cp "${found[0]}" "$2"/
}
jars_first=$PWD/build/e2e-jars-first
jars_second=$PWD/build/e2e-jars-second
for jars in "$jars_first" "$jars_second"; do
  rm -rf "$jars" && mkdir -p "$jars"
  for module in services/*/ examples/report-worker/; do
    copy_jar "${module%/}" "$jars" || exit 1
  done
done

modules_log=build/test-modules.log
second_log=build/test-e2e-second.log
status=build/test-status
rm -f "$status".*
echo "== the modules' tests (log: $modules_log), then ${#second_lane[@]} end-to-end classes (log: $second_log), beside the other end-to-end classes"
(
  "${MVN[@]}" -T 2 --fail-at-end verify -pl '!e2e-tests' >"$modules_log" 2>&1
  echo $? >"$status.modules"
  echo "== the modules' tests done ($(( (SECONDS - began) / 60 )) min since the build began)" >>"$modules_log"
  # the goals alone, not the lifecycle: the first lane compiled the module and is running from
  # its target/ folder, which a second build of it would write over
  "${MVN[@]}" -pl e2e-tests failsafe:integration-test failsafe:verify \
    -Dit.test="$second_lane_tests" -De2e.jars="$jars_second" \
    -De2e.reports=target/failsafe-reports-second >"$second_log" 2>&1
  echo $? >"$status.second"
) &
second=$!
# stopped with this script (Ctrl-C, a CI time-out), the second lane stops too
trap 'kill "$second" 2>/dev/null; pkill -P "$second" 2>/dev/null' EXIT

first_log=build/test-e2e-first.log
"${MVN[@]}" verify -pl e2e-tests -De2e.jars="$jars_first" -Dit.test="$first_lane_tests" 2>&1 | tee "$first_log"
e2e=${PIPESTATUS[0]}
echo "== first lane's end-to-end classes done ($(( (SECONDS - began) / 60 )) min since the build began); waiting for the second lane"
wait "$second"
trap - EXIT
mods=$(cat "$status.modules" 2>/dev/null || echo 1)
sec=$(cat "$status.second" 2>/dev/null || echo 1)
echo "== the modules' tests (from $modules_log):"
cat "$modules_log"
echo "== the second lane's end-to-end classes (from $second_log):"
cat "$second_log"
# what failed, from all three logs, last: a CI that keeps only the end of the output still shows it
failed=$(grep -hE '<<< (FAILURE|ERROR)!|^\[ERROR\]   [^ ]' "$first_log" "$modules_log" "$second_log" 2>/dev/null | cut -c1-400 | head -80)
if [ -n "$failed" ]; then
  echo "== what failed (from $first_log, $modules_log and $second_log):"
  echo "$failed"
fi
verdict() { [ "$1" -eq 0 ] && echo passed || echo FAILED; }
echo "== make test: modules $(verdict "$mods"), end-to-end $(verdict "$e2e") (first lane) and $(verdict "$sec") (second lane: ${second_lane[*]}), $(( (SECONDS - began) / 60 )) min $(( (SECONDS - began) % 60 )) s"
[ "$mods" -eq 0 ] && [ "$e2e" -eq 0 ] && [ "$sec" -eq 0 ]
