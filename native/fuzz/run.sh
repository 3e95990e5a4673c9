#!/usr/bin/env bash
# Runs the harnesses built by build.sh, all at once, for <seconds> each, starting from the committed corpus
# (new inputs go to native/build-fuzz/corpus/<harness>, crashes to native/build-fuzz/artifacts/). Prints one
# line per harness (executions, coverage, crashes) and exits non-zero when any harness crashed.
# Usage: native/fuzz/run.sh <seconds> [harness...]   (FUZZ_BIN: where the binaries are; FUZZ_OUT: where runs go)
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
seconds="${1:?usage: run.sh <seconds> [harness...]}"
shift
bin="${FUZZ_BIN:-$here/../build-fuzz}"
out="${FUZZ_OUT:-$here/../build-fuzz}"
harnesses=("$@")
[ ${#harnesses[@]} -eq 0 ] && harnesses=(safetensors index json gptq awq bnb4 bnb8 checkpoint_config)
mkdir -p "$out/artifacts" "$out/logs"
for h in "${harnesses[@]}"; do
  mkdir -p "$out/corpus/$h"
  # rss/malloc limits: an unpacker that allocates gigabytes for a 1 MB input is a finding, not a slow run.
  "$bin/fuzz_$h" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 \
    -artifact_prefix="$out/artifacts/$h-" "$out/corpus/$h" "$here/corpus/$h" >"$out/logs/$h.log" 2>&1 &
done
wait
status=0
for h in "${harnesses[@]}"; do
  log="$out/logs/$h.log"
  execs=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$log" | grep -o '[0-9]*$')
  cov=$(grep -o 'cov: [0-9]* ft: [0-9]*' "$log" | tail -1)
  crashes=$(ls "$out/artifacts" | grep -c "^$h-")
  printf '%-18s execs %-10s %-22s crashes %s\n' "$h" "${execs:-?}" "${cov:-?}" "$crashes"
  if [ -z "$execs" ] || [ "$crashes" != 0 ]; then status=1; grep -m1 -A12 'ERROR\|==ERROR\|runtime error\|invariant\|abort' "$log"; fi
done
exit $status
