#!/usr/bin/env bash
# Go-built tools the chart tests run, installed with `go install` from the Go module proxy into
# .cache/go/bin (DESIGN.md §6): kubeconform (schema validation of every rendered manifest) and
# kube-score (workload lint). kube-linter was the first choice, but its module is not served by
# the proxy (golang.stackrox.io and github.com/stackrox/kube-linter both answer 403), so
# kube-score, which the issue allows, takes its place. stripe-mock is Stripe's own API mock
# server: payment-service's Stripe adapter is tested against it (scripts/local-stack/stripe-mock.ts),
# which also reads the fixtures bundled with it: copied to .cache/go/stripe-mock before the Go
# caches are released (lib/install.sh). vegeta is bench:gateway's open-loop load generator (a fixed
# rate: each request sent on schedule whatever the answers to earlier ones).
# Idempotent and stamp-based: well under a second when the pinned versions are present.
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/setup/lib/install.sh

# Pinned versions; bump here.
tools=(
  "github.com/yannh/kubeconform/cmd/kubeconform@v0.8.0"
  "github.com/zegl/kube-score/cmd/kube-score@v1.20.0"
  "github.com/stripe/stripe-mock@v0.203.0"
)
# Built with the compiler's inlining, which the tools above go without to build faster: the CPU a
# load generator spends per request is taken from the services it measures.
bench_tools=(
  "github.com/tsenart/vegeta/v12@v12.13.0"
)

root="$PWD/.cache/go"
bin="$root/bin"
stamp="$bin/.tools"
fixtures="$root/stripe-mock/fixtures3.json"
want="$(printf '%s\n' "${tools[@]}" "${bench_tools[@]}")
$(cat "$0" scripts/setup/lib/install.sh | sha256sum | cut -d' ' -f1)"

if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] \
  && [ -x "$bin/kubeconform" ] && [ -x "$bin/kube-score" ] && [ -x "$bin/stripe-mock" ] && [ -x "$bin/vegeta" ] && [ -f "$fixtures" ]; then
  exit 0
fi

if ! command -v go >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "setup: installing golang-go with apt-get"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq golang-go >/dev/null
  else
    echo "setup: go is missing; run: sudo apt-get install -y golang-go" >&2
    exit 1
  fi
fi

mkdir -p "$bin" "$(dirname "$fixtures")"
use_go_caches
for tool in "${tools[@]}"; do
  echo "setup: go install $tool"
  GOBIN="$bin" go install "$tool"
done
for tool in "${bench_tools[@]}"; do
  echo "setup: go install $tool"
  GOBIN="$bin" GOFLAGS=-mod=mod go install "$tool"
done
stripe_mock="${tools[2]}"
cp "$GOMODCACHE/${stripe_mock%%@*}@${stripe_mock##*@}/embedded/openapi/fixtures3.json" "$fixtures"
chmod 644 "$fixtures"
printf '%s' "$want" > "$stamp"
release_go_caches
echo "setup: kubeconform, kube-score, stripe-mock and vegeta installed in $bin"
