#!/usr/bin/env bash
# Prints the home of a JDK >= 21: JAVA_HOME first, then the usual system locations.
# Exits 1 with an explanation on stderr when there is none.
set -u
min=21

major_of() { # $1 = JDK home; prints the major version or nothing
  local java="$1/bin/java"
  [ -x "$java" ] && [ -x "$1/bin/javac" ] || return 0
  "$java" -XshowSettings:properties -version 2>&1 \
    | awk -F'= ' '/java.specification.version/ {print $2; exit}' | cut -d. -f1
}

candidates=()
[ -n "${JAVA_HOME:-}" ] && candidates+=("$JAVA_HOME")
for dir in /usr/lib/jvm/* /usr/java/* /opt/java/* /opt/jdk* /Library/Java/JavaVirtualMachines/*/Contents/Home "$HOME"/.sdkman/candidates/java/*; do
  [ -d "$dir" ] && candidates+=("$dir")
done
if command -v javac >/dev/null 2>&1; then
  candidates+=("$(dirname "$(dirname "$(readlink -f "$(command -v javac)")")")")
fi

tried=()
for home in "${candidates[@]}"; do
  major=$(major_of "$home")
  tried+=("$home (${major:-no JDK})")
  if [ -n "$major" ] && [ "$major" -ge "$min" ] 2>/dev/null; then
    echo "$home"
    exit 0
  fi
done

{
  echo "No JDK >= $min found. Shepherd builds with any JDK $min or newer."
  echo "Tried:"
  for t in "${tried[@]}"; do echo "  - $t"; done
  echo "Install one (for example: apt-get install openjdk-21-jdk-headless) or set JAVA_HOME to it."
} >&2
exit 1
