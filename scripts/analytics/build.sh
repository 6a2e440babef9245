#!/usr/bin/env bash
# Builds the analytics Flink job: analytics/target/analytics-job.jar (shaded, reproducible) and the
# provided Flink runtime in analytics/target/runtime-lib/ for local runs, running the Java unit
# tests on the way (mvn package). Idempotent: skipped when the stamp of the sources' hash (pom,
# src/, warehouse/) matches, so a fresh clone builds and an unchanged tree costs a hash.
# Silent on success; on failure one line names what failed (the full log is in the target folder).
set -euo pipefail
self="$(cd "$(dirname "$0")" && pwd)/$(basename "$0")"
cd "$(dirname "$self")/../.."

target=analytics/target
jar="$target/analytics-job.jar"
stamp="$target/.sources.sha256"
log="$target/build.log"

# Parallel callers (jest workers) wait for one build instead of racing in one target folder.
exec 9<"$self"
flock 9

sources_hash() {
  { sha256sum analytics/pom.xml
    find analytics/src analytics/warehouse -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum
  } | sha256sum | cut -d' ' -f1
}

want=$(sources_hash)
if [ -f "$jar" ] && [ -d "$target/runtime-lib" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  exit 0
fi

if ! command -v mvn >/dev/null 2>&1; then
  echo "analytics build: mvn not found (Debian package maven); run: npm run setup" >&2
  exit 1
fi

mkdir -p "$target"
rm -f "$stamp"
rm -rf "$target/runtime-lib" # no jars left over from an older pom
# Maven's local repository is a cache folder of this repository, not ~/.m2 (DESIGN.md §6).
if ! mvn -B -q -Dmaven.repo.local="$PWD/.cache/m2" -f analytics/pom.xml package >"$log" 2>&1; then
  if grep -q 'maven-surefire-plugin' "$log"; then
    failed=$(grep -hoE '^\[ERROR\] +[A-Za-z]+Test\.[A-Za-z0-9_]+' "$log" | awk '{print $2}' | sort -u | paste -sd, - || true)
    echo "analytics build: Java unit tests failed${failed:+: $failed} (log: $log)" >&2
  elif grep -q 'COMPILATION ERROR' "$log"; then
    first=$(grep -m1 -oE '[^/ ]+\.java:\[[0-9]+,[0-9]+\].*' "$log" || true)
    echo "analytics build: compilation failed${first:+: $first} (log: $log)" >&2
  else
    what=$(grep -m1 -oE 'Failed to execute goal [^ ]+' "$log" | sed 's/Failed to execute goal //' || true)
    echo "analytics build: mvn package failed${what:+ in $what} (log: $log)" >&2
  fi
  exit 1
fi
echo "$want" > "$stamp"
