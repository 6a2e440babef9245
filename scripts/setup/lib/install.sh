# Shared by the scripts of scripts/setup/ (sourced, not run: setup-tools.sh runs only the *.sh
# beside it). Each function does one installation step the same way everywhere.

# apt_install <script name> <package>...: installs Debian packages as root, with a temporary
# policy-rc.d so that no package starts its daemon (the harness starts its own servers on ports
# of its choosing; without systemd the start would fail the install anyway). Not root: stops with
# the one command to run.
apt_install() {
  local script=$1
  shift
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "setup: missing Debian packages: $*; run: sudo apt-get install -y --no-install-recommends $*" >&2
    exit 1
  fi
  echo "setup: installing $* with apt-get"
  # setup-tools.sh runs the package installs beside the Go builds, and both lanes may get here:
  # one apt-get at a time (flock waits for the other), the policy file held only inside the lock.
  mkdir -p .cache
  (
    flock 9
    # policy-rc.d exit 101 = "action forbidden".
    policy=/usr/sbin/policy-rc.d
    if [ ! -e "$policy" ]; then
      printf '#!/bin/sh\n# temporary, %s: no daemon starts during apt-get install\nexit 101\n' "$script" > "$policy"
      chmod 755 "$policy"
      trap 'rm -f /usr/sbin/policy-rc.d' EXIT
    fi
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
  ) 9>.cache/setup-apt.lock
}

# use_go_caches: the Go module and build caches, and the build's scratch folder, in .cache/go of
# the repository (the caller's working directory): on the repository's disk, not in /tmp, which may
# be smaller. Modules as published, no toolchain download, static binaries.
# Compiled without inlining (-gcflags=all=-l): these builds are one-time but cold on every CI
# machine, where they take most of the run; inlining costs about a quarter of their compile time
# (Prometheus: 335 s of CPU with it, 251 s without) and buys run-time speed the tests do not need.
# The code is upstream's, unchanged; only the compiler's optimisation differs from a release.
use_go_caches() {
  export GOPATH="$PWD/.cache/go/path" GOMODCACHE="$PWD/.cache/go/pkg/mod" GOCACHE="$PWD/.cache/go/build-cache"
  export GOTMPDIR="$PWD/.cache/go/tmp"
  export GOFLAGS="-mod=mod -gcflags=all=-l" GOTOOLCHAIN=local CGO_ENABLED=0
  mkdir -p "$GOTMPDIR"
}

# release_go_caches: after a tool is built and stamped, removes the module and build caches of
# use_go_caches. Each tool is built once per pinned version, so the caches would serve only a
# rebuild after a version bump, while holding gigabytes: left in place, the builds of Kubernetes,
# Vault, the Flux controllers, cert-manager and the rest together fill more disk than a fresh CI
# machine has free. Released after each build, the peak is that of the largest single build.
# setup-tools.sh sets SETUP_SHARED_GO_BUILD_CACHE: the build cache then stays for the next build,
# which finds the standard library (a fifth of a small build's compile time) and any package of
# identical versions already compiled, and setup-tools.sh removes it when all are built. It holds
# compiled packages only, under a gigabyte for most builds; should the disk run low (under 20 GB
# free), it goes at once all the same.
release_go_caches() {
  # The module cache is read-only by design; go clean is the tool that removes it.
  go clean -modcache
  rm -rf "$GOTMPDIR" "$GOPATH"
  if [ -n "${SETUP_SHARED_GO_BUILD_CACHE:-}" ] && [ "$(df -Pk "$GOCACHE" | awk 'NR == 2 { print $4 }')" -gt $((20 * 1024 * 1024)) ]; then
    return
  fi
  rm -rf "$GOCACHE"
}

# go_module_build <module@version> <package> <binary> <src dir> <out dir> [ldflags]: builds a
# published module as it is, from a copy of the proxy's checksum-verified module dir (so its own
# go.mod and go.sum decide the dependencies). A `prepare_module <binary>` function, when the caller
# defines one, runs in the copy first.
go_module_build() {
  local dir
  dir=$(go mod download -json "$1" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  [ -n "$dir" ] || { echo "setup: go mod download $1 gave no module dir" >&2; exit 1; }
  cp -r "$dir" "$4/$3"
  chmod -R u+w "$4/$3"
  (
    cd "$4/$3"
    if declare -F prepare_module >/dev/null; then prepare_module "$3"; fi
    go build -trimpath -ldflags "-s -w ${6:-}" -o "$5/$3" "$2"
  )
}
