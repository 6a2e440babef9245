#!/usr/bin/env bash
# KEDA, the release the `keda` Helm chart runs (clusterAddons.keda, chart 2.20.2: appVersion
# 2.20.2, images ghcr.io/kedacore/keda and ghcr.io/kedacore/keda-metrics-apiserver), built from
# the Go module proxy (github.com/kedacore/keda/v2, which serves v2.20.2) into .cache/keda/bin for
# the local cluster's KEDA Deployments (scripts/local-cluster/keda.ts): the operator (cmd/operator,
# the image's /keda) and the metrics API server (cmd/adapter, /keda-adapter). As the release's
# Makefile and Dockerfiles build them: static (CGO_ENABLED=0), -trimpath, and the version ldflags
# it sets on KEDA's version package (Version without the tag's `v`, as the release workflow passes
# it, and the commit), which both log at start. The proxy serves no commit for a version,
# so the tag's commit is written here, as the upstream tag names it. The release's
# CustomResourceDefinitions (the module's config/crd/bases, all six: the operator watches every
# kind of them) go to .cache/keda/crds.
# Unlike the release, the build keeps only the scalers of the trigger types the platform's
# ScaledObjects use (KEDA_TRIGGERS; prepare_module below): KEDA's other scalers, in the same Go
# package, import the SDKs of every system they scale, and compiling those was most of a cold
# build. This KEDA refuses a ScaledObject of any other type as it refuses an unknown one; the
# production cluster's, the chart's images, has every scaler. The trigger types kept, cpu's
# scaler also serving memory, go to .cache/keda/triggers.
# Idempotent and stamp-based: a no-op when the stamp matches this script and lib/install.sh.
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/setup/lib/install.sh

KEDA=v2.20.2
KEDA_COMMIT=68a5b5028f35b22d50597c69819ab32c4e92f21a
# The trigger types of the platform's ScaledObjects (charts/service-chart.ts), the one place the
# build's list is written: test/cluster/keda.test.ts fails when the charts use any other.
KEDA_TRIGGERS="cpu prometheus"

root="$PWD/.cache/keda"
bin="$root/bin"
crds="$root/crds"
stamp="$root/.stamp"
want="$(cat "$0" scripts/setup/lib/install.sh | sha256sum | cut -d' ' -f1)"
triggers="$root/triggers"
if [ -x "$bin/keda" ] && [ -x "$bin/keda-adapter" ] && [ -d "$crds" ] && [ -f "$triggers" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  exit 0
fi

if ! command -v go >/dev/null 2>&1; then
  echo "setup: go is missing (KEDA is built with it); install Go >= 1.26" >&2
  exit 1
fi

use_go_caches
started=$(date +%s)
echo "setup: building KEDA $KEDA (operator and metrics API server) into $bin (one-time; several minutes on 2 cores)"

src="$root/src"
rm -rf "$src" "$bin.tmp" "$crds.tmp" "$triggers.tmp"
mkdir -p "$src" "$bin" "$bin.tmp" "$crds.tmp"

# prepare_module (go_module_build's hook, run in each copy of the module): pkg/scalers is one
# package holding all of KEDA's scalers, which import the client libraries of every system they
# scale (cloud SDKs, databases, brokers), most of the build's compile time. The copy keeps the
# scalers of KEDA_TRIGGERS (their files, found by the constructors their cases in
# pkg/scaling/scalers_builder.go call, and scaler.go, the package's shared part) and that switch
# keeps the cases of those scalers (cpu's scaler also serves memory), so any other trigger type
# takes the switch's default: "no scaler found for type", as for a type KEDA does not know. Each
# step checks that it found what it edits: a changed upstream source stops the build.
prepare_module() {
  local builder=pkg/scaling/scalers_builder.go region cases trigger ctor file kept_files= kept_cases= f
  [ -f "$builder" ] || { echo "setup: KEDA $KEDA has no $builder" >&2; exit 1; }
  [ "$(grep -c $'^\t// TRIGGERS-START$' "$builder")" = 1 ] && [ "$(grep -c $'^\t// TRIGGERS-END$' "$builder")" = 1 ] \
    || { echo "setup: $builder has not one // TRIGGERS-START and one // TRIGGERS-END line" >&2; exit 1; }
  region=$(sed -n $'/^\t\/\/ TRIGGERS-START$/,/^\t\/\/ TRIGGERS-END$/p' "$builder")
  # Every case of the switch as `<trigger> <constructor>`: a case line, then one line returning
  # scalers.New...(...); any other shape stops here.
  cases=$(awk '
    /^\tcase "[a-z0-9-]+":$/ { if (name != "") exit 1; name = $2; gsub(/[":]/, "", name); next }
    name != "" { if (!match($0, /^\t\treturn scalers\.New[A-Za-z0-9]+\(/)) exit 1; print name, substr($0, RSTART + 17, RLENGTH - 18); name = ""; next }
    /^\tdefault:$/ { exit name != "" }
    /^\t(case|\t)/ { exit 1 }
  ' <<<"$region") || { echo "setup: $builder: a trigger case that is not \`case \"<type>\":\` and \`return scalers.New<Scaler>(...)\`" >&2; exit 1; }
  for trigger in $KEDA_TRIGGERS; do
    ctor=$(awk -v t="$trigger" '$1 == t { print $2 }' <<<"$cases")
    [ -n "$ctor" ] || { echo "setup: $builder has no case for trigger $trigger" >&2; exit 1; }
    file=$(grep -l "^func $ctor(" pkg/scalers/*.go | grep -v '_test\.go$' || true)
    [ "$(wc -w <<<"$file")" = 1 ] || { echo "setup: $ctor (trigger $trigger) is not defined in one file of pkg/scalers: ${file:-none}" >&2; exit 1; }
    kept_files="$kept_files $file"
  done
  # The cases whose constructor is in a kept file.
  while read -r trigger ctor; do
    for file in $kept_files; do
      if grep -q "^func $ctor(" "$file"; then kept_cases="$kept_cases $trigger"; break; fi
    done
  done <<<"$cases"
  # Constants the kept scalers use from a scaler file of another trigger (the compiler names
  # them), as `name value`: found declared so in exactly one file, and declared again, in a file
  # of their own, when that file goes.
  local shared_consts='externalMetricType "External"' shared_file=pkg/scalers/shared_of_removed_scalers.go name value from
  declare -A declared_in=()
  while read -r name value; do
    from=$(grep -l -E "^[[:space:]]+$name[[:space:]]+= $value\$" pkg/scalers/*.go | grep -v '_test\.go$' || true)
    [ "$(wc -w <<<"$from")" = 1 ] || { echo "setup: KEDA's pkg/scalers does not declare $name = $value in one file: ${from:-none}" >&2; exit 1; }
    declared_in[$name]=$from
  done <<<"$shared_consts"
  for f in pkg/scalers/*_scaler.go; do
    case " $kept_files " in *" $f "*) ;; *) rm "$f"; rm -f "${f%.go}_test.go" ;; esac
  done
  printf '// Written by scripts/setup/keda.sh: declared in scaler files this build leaves out.\n\npackage scalers\n\n' > "$shared_file"
  while read -r name value; do
    [ -f "${declared_in[$name]}" ] || printf 'const %s = %s\n' "$name" "$value" >> "$shared_file"
  done <<<"$shared_consts"
  [ -f pkg/scalers/scaler.go ] || { echo "setup: KEDA $KEDA has no pkg/scalers/scaler.go" >&2; exit 1; }
  # The switch with only the kept cases (and any comment before one), its default branch as it is.
  awk -v keep=" $kept_cases " '
    /^\t\/\/ TRIGGERS-START$/ { region = 1; print; next }
    /^\t\/\/ TRIGGERS-END$/ { region = 0; print; next }
    !region || tail { print; next }
    /^\tdefault:$/ { printf "%s", comments; tail = 1; print; next }
    /^\t\/\// { comments = comments $0 "\n"; next }
    /^\tcase / { name = $2; gsub(/[":]/, "", name); on = index(keep, " " name " ") > 0; if (on) { printf "%s", comments; print }; comments = ""; next }
    /^\t\t/ { if (on) print; next }
    { print }
  ' "$builder" > "$builder.new"
  mv "$builder.new" "$builder"
  [ "$(sed -n $'/^\t\/\/ TRIGGERS-START$/,/^\t\/\/ TRIGGERS-END$/p' "$builder" | awk '/^\tcase "/ { gsub(/[":]/, "", $2); printf " %s", $2 }') " = "$kept_cases " ] \
    && grep -q 'return nil, fmt.Errorf("no scaler found for type: %s", triggerType)' "$builder" \
    || { echo "setup: $builder: the rewritten switch does not hold the cases$kept_cases and the default branch" >&2; exit 1; }
  echo "setup: KEDA's scalers kept for triggers$kept_cases:$kept_files pkg/scalers/scaler.go, $shared_file"
  printf '%s\n' $kept_cases > "$triggers.tmp"
}

version_pkg=github.com/kedacore/keda/v2/version
ldflags="-X $version_pkg.GitCommit=$KEDA_COMMIT -X $version_pkg.Version=${KEDA#v}"
go_module_build "github.com/kedacore/keda/v2@$KEDA" ./cmd/operator keda "$src" "$bin.tmp" "$ldflags"
go_module_build "github.com/kedacore/keda/v2@$KEDA" ./cmd/adapter keda-adapter "$src" "$bin.tmp" "$ldflags"
cp "$src"/keda/config/crd/bases/*.yaml "$crds.tmp/"
chmod 644 "$crds.tmp"/*.yaml
[ "$(ls "$crds.tmp" | wc -l)" = 6 ] || { echo "setup: KEDA $KEDA's config/crd/bases holds $(ls "$crds.tmp" | wc -l) CRDs, not 6" >&2; exit 1; }

# The linker set the version package's variables: -X skips a name it does not find, and the tag's
# commit is in no source, so it is in each binary only if the setting took. (Neither binary prints
# its version without a cluster to connect to, and with -trimpath the toolchain records no
# -ldflags in the build information.)
for binary in keda keda-adapter; do
  grep -q -a -F "$KEDA_COMMIT" "$bin.tmp/$binary" || { echo "setup: $binary does not carry KEDA's commit $KEDA_COMMIT: its version ldflags did not take" >&2; exit 1; }
done

mv "$bin.tmp/keda" "$bin.tmp/keda-adapter" "$bin/"
rmdir "$bin.tmp"
rm -rf "$crds" "$src"
mv "$crds.tmp" "$crds"
mv "$triggers.tmp" "$triggers"
echo "$want" > "$stamp"
release_go_caches
echo "setup: KEDA built in $(( $(date +%s) - started )) s: $bin/keda, $bin/keda-adapter, its CRDs in $crds"
