#!/usr/bin/env bash
# Builds the libFuzzer harnesses (clang, ASan + UBSan, sanitizer runtimes linked statically, so the binaries
# run on a machine without clang) into native/build-fuzz/. Usage: native/fuzz/build.sh [harness...]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
src="$here/../src"
out="$here/../build-fuzz"
CXX="${CXX:-clang++}"
FLAGS=(-std=c++17 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
       -I"$src" -I"$here")

# The engine sources each harness needs (only these are compiled; the rest of the engine is not under test).
COMMON=(core/dtype.cc io/json.cc io/safetensors.cc formats/tensor_set.cc formats/layouts.cc)
declare -A NEEDS=(
  [safetensors]=""
  [index]=""
  [json]=""
  [gptq]="formats/gptq.cc"
  [awq]="formats/awq.cc"
  [bnb4]="formats/bnb.cc quant/bnb4.cc core/thread_pool.cc"
  [bnb8]="formats/bnb.cc quant/bnb4.cc core/thread_pool.cc"
  [checkpoint_config]="formats/checkpoint_config.cc formats/awq.cc formats/bnb.cc quant/bnb4.cc core/thread_pool.cc"
  [ct]="formats/compressed_tensors.cc kernels/qmatmul_ct.cc"
)
seeds=0
[ "${1:-}" = "--seeds" ] && { seeds=1; shift; }
harnesses=("$@")
[ ${#harnesses[@]} -eq 0 ] && harnesses=(safetensors index json gptq awq bnb4 bnb8 checkpoint_config ct)

mkdir -p "$out/obj"
# Each engine source is compiled once, with coverage, and shared by the harnesses that link it.
object() {
  local o="$out/obj/${1//\//_}.o"
  if [ ! -f "$o" ] || [ "$src/$1" -nt "$o" ] || [ -n "$(find "$src" -name '*.h' -newer "$o" -print -quit)" ]; then
    "$CXX" "${FLAGS[@]}" -fsanitize=fuzzer-no-link -c "$src/$1" -o "$o" >&2
  fi
  echo "$o"
}
if [ $seeds = 1 ]; then  # regenerate the committed seed corpus from the fixtures
  objs=()
  for f in "${COMMON[@]}" formats/gptq.cc formats/awq.cc formats/bnb.cc quant/bnb4.cc core/thread_pool.cc; do objs+=("$(object "$f")"); done
  "$CXX" "${FLAGS[@]/-fsanitize=fuzzer,address,undefined/-fsanitize=address,undefined}" "$here/make_seeds.cc" "${objs[@]}" -o "$out/make_seeds"
  for h in safetensors index json gptq awq bnb4 bnb8 checkpoint_config ct; do mkdir -p "$here/corpus/$h"; done
  "$out/make_seeds" "$here/../../test/fixtures" "$here/corpus"
  exit 0
fi
for h in "${harnesses[@]}"; do
  [ -v "NEEDS[$h]" ] || { echo "unknown harness: $h (known: ${!NEEDS[*]})" >&2; exit 2; }
  objs=()
  for f in "${COMMON[@]}" ${NEEDS[$h]}; do objs+=("$(object "$f")"); done
  "$CXX" "${FLAGS[@]}" "$here/fuzz_$h.cc" "${objs[@]}" -static-libstdc++ -static-libgcc -o "$out/fuzz_$h"
  echo "built $out/fuzz_$h"
done
