# Puts Node.js 24 LTS first on PATH, for this shell and what it runs. Source it, do not run it:
#   . scripts/node.sh && npm ci && npm test
# The version is the one in .nvmrc (nvm and setup-node read the same file). A node of that
# major already on PATH is used as it is. Otherwise the npm registry's build of it
# (node-linux-<arch>@<version>: the binary the `node` package's installer fetches, taken
# directly, integrity-checked by npm) is unpacked once into .cache/node; later calls only put it
# on PATH. Works in bash and zsh; changes nothing but PATH.
__platform_node() {
  local root want major have arch dir tgz
  root=$(cd "$(dirname "${BASH_SOURCE[0]:-$0}")/.." && pwd) || return 1
  want=$(tr -d ' \n\r' < "$root/.nvmrc") || return 1
  major=${want%%.*}
  have=$(node --version 2>/dev/null || true)
  case "$have" in "v$major".*) return 0 ;; esac

  dir="$root/.cache/node/$want"
  if [ ! -x "$dir/bin/node" ]; then
    case "$(uname -m)" in
      x86_64) arch=x64 ;;
      aarch64 | arm64) arch=arm64 ;;
      *) echo "node.sh: no npm build of Node.js for $(uname -m); install Node.js $want yourself" >&2; return 1 ;;
    esac
    if ! command -v npm >/dev/null 2>&1; then
      echo "node.sh: npm is missing; install Node.js $want (or any Node.js with npm) first" >&2
      return 1
    fi
    echo "node.sh: ${have:-no node} on PATH; fetching Node.js $want (node-linux-$arch) from the npm registry into ${dir#"$root"/}" >&2
    rm -rf "$dir.tmp" && mkdir -p "$dir.tmp" || return 1
    tgz=$(cd "$dir.tmp" && npm pack --silent "node-linux-$arch@$want") || { rm -rf "$dir.tmp"; return 1; }
    tar -xzf "$dir.tmp/$tgz" -C "$dir.tmp" --strip-components=1 package/bin/node package/LICENSE || { rm -rf "$dir.tmp"; return 1; }
    rm -f "$dir.tmp/$tgz"
    "$dir.tmp/bin/node" --version >/dev/null || { rm -rf "$dir.tmp"; return 1; }
    rm -rf "$dir" && mv "$dir.tmp" "$dir" || return 1
  fi
  PATH="$dir/bin:$PATH"
  export PATH
  echo "node.sh: using $("$dir/bin/node" --version) from ${dir#"$root"/}/bin (${have:-no node} on PATH before)" >&2
}
if __platform_node; then
  unset -f __platform_node
else
  unset -f __platform_node
  # shellcheck disable=SC2317 # return when sourced, exit when run
  return 1 2>/dev/null || exit 1
fi
