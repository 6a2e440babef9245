#!/usr/bin/env bash
# A Python venv with the pinned tools of scripts/requirements-tools.txt (cfn-lint, checkov, moto,
# schemathesis) under .cache/venv. Takes well under a second when all is present (a stamp of the
# requirements file is compared).
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/setup/lib/install.sh

venv=.cache/venv
requirements=scripts/requirements-tools.txt
stamp="$venv/.requirements.sha256"
want=$(sha256sum "$requirements" | cut -d' ' -f1)

if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -x "$venv/bin/python" ]; then
  exit 0
fi

if ! command -v python3 >/dev/null 2>&1 || ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then
  apt_install scripts/setup/python-tools.sh python3 python3-venv python3-pip
fi

echo "setup: installing Python tools into $venv ($(python3 --version))"
rm -rf "$venv"
python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check --upgrade pip
"$venv/bin/pip" install --quiet --disable-pip-version-check -r "$requirements"
echo "$want" > "$stamp"
"$venv/bin/cfn-lint" --version
"$venv/bin/schemathesis" --version
