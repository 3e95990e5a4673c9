#!/usr/bin/env bash
# Builds the engine addon with AddressSanitizer + UndefinedBehaviorSanitizer (g++, -O1) into
# native/build-asan/quantstudio.node, beside the normal build; incremental (a source is recompiled when it or a
# header is newer than its object). test-sanitized.sh runs the native tests against it.
set -euo pipefail
native="$(cd "$(dirname "$0")/.." && pwd)"
out="$native/build-asan"
CXX="${CXX:-g++}"
# The node headers the normal build uses: the running node's own, else node-gyp's download.
prefix="$(dirname "$(dirname "$(command -v node)")")"
nodeInclude="$prefix/include/node"
[ -f "$nodeInclude/node_api.h" ] || nodeInclude="$(ls -d "$HOME"/.cache/node-gyp/"$(node -p 'process.versions.node')"/include/node 2>/dev/null)"
[ -f "$nodeInclude/node_api.h" ] || { echo "node's headers are missing: run npm run build:native first" >&2; exit 1; }
addonApi="$(cd "$native/.." && node -p "require('node-addon-api').include_dir")"

FLAGS=(-std=c++17 -O1 -g -fPIC -fno-omit-frame-pointer -fexceptions -frtti -fsanitize=address,undefined
       -fno-sanitize-recover=all -DNAPI_VERSION=8 -DNAPI_CPP_EXCEPTIONS -DNODE_ADDON_API_DISABLE_DEPRECATED
       -I"$nodeInclude" -I"$native/../$addonApi" -I"$native/src" -Wall -Wextra -Wno-unused-parameter
       -Wno-maybe-uninitialized)  # gcc reports false positives under the sanitizers

mkdir -p "$out/obj"
newestHeader=$(find "$native/src" -name '*.h' -printf '%T@\n' | sort -n | tail -1)
objects=()
stale=()
for src in $(node "$native/scripts/list-sources.js"); do
  obj="$out/obj/$(echo "${src#src/}" | tr / _).o"
  objects+=("$obj")
  if [ ! -f "$obj" ] || [ "$native/$src" -nt "$obj" ] || awk -v h="$newestHeader" -v o="$(stat -c %Y "$obj")" 'BEGIN {exit !(h > o)}'; then
    stale+=("$src:$obj")
  fi
done
export CXX native
printf "%s\n" "${stale[@]}" | { grep . || true; } | xargs -r -P "$(nproc)" -I{} bash -c 'src="${1%%:*}"; obj="${1#*:}"; shift; echo "  $src"; "$CXX" "$@" -c "$native/$src" -o "$obj"' _ {} "${FLAGS[@]}"
"$CXX" -shared -fsanitize=address,undefined -o "$out/quantstudio.node" "${objects[@]}" -lpthread
echo "built $out/quantstudio.node (${#stale[@]} sources recompiled)"
