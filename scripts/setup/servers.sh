#!/usr/bin/env bash
# Real servers for the integration tests (test/harness/): Debian's postgresql, redis-server,
# nginx, wrk, openssl and pgbouncer, prometheus (promtool unit-tests the alerting rules) and
# prometheus-alertmanager (amtool checks Alertmanager's configuration), and the Kafka broker's jars from Maven Central into
# .cache/kafka/<version>/libs (scripts/setup/kafka/pom.xml). Idempotent; well under a second
# when all is present (binaries are looked up, the jars' stamp is compared).
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/setup/lib/install.sh

# --- Debian packages --------------------------------------------------------------------------
missing=()
compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null || missing+=(postgresql)
command -v redis-server >/dev/null 2>&1 || [ -x /usr/bin/redis-server ] || missing+=(redis-server)
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing+=(nginx)
command -v wrk >/dev/null 2>&1 || missing+=(wrk)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
[ -x /usr/sbin/pgbouncer ] || missing+=(pgbouncer)
command -v java >/dev/null 2>&1 || missing+=(openjdk-17-jre-headless)
command -v mvn >/dev/null 2>&1 || missing+=(maven)
command -v promtool >/dev/null 2>&1 || missing+=(prometheus)
command -v amtool >/dev/null 2>&1 || missing+=(prometheus-alertmanager)

if [ ${#missing[@]} -gt 0 ]; then
  apt_install scripts/setup/servers.sh "${missing[@]}"
  # Should a daemon have started anyway (a system whose init ignores policy-rc.d), stop it:
  # it would hold the packages' default ports and is never used by the tests.
  for pidfile in /run/redis/redis-server.pid /run/nginx.pid /run/postgresql/*-main.pid /run/prometheus/prometheus.pid /run/prometheus/prometheus-alertmanager.pid; do
    if [ -f "$pidfile" ] && kill -0 "$(head -n1 "$pidfile")" 2>/dev/null; then
      echo "setup: stopping the daemon of $pidfile started by its package"
      kill "$(head -n1 "$pidfile")" || true
    fi
  done
fi

# --- Kafka jars -------------------------------------------------------------------------------
pom=scripts/setup/kafka/pom.xml
version=$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$pom")
libs=".cache/kafka/$version/libs"
stamp="$libs/.pom.sha256"
want=$(sha256sum "$pom" | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  exit 0
fi

echo "setup: fetching Kafka $version jars from Maven Central into $libs"
tmp="$libs.tmp.$$"
rm -rf "$tmp"
trap 'rm -rf "$tmp"' EXIT
# Maven's local repository is a cache folder of this repository, not ~/.m2 (DESIGN.md §6).
mvn -q -B -f "$pom" -Dmaven.repo.local="$PWD/.cache/m2" \
  dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$PWD/$tmp"
rm -rf "$libs"
mv "$tmp" "$libs"
trap - EXIT
echo "$want" > "$stamp"
