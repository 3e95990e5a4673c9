#!/usr/bin/env bash
# Runs the harnesses built by build.sh, all at once, for <seconds> each, starting from the committed corpus
# (new inputs go to native/build-fuzz/corpus/<harness>, crashes to native/build-fuzz/artifacts/). Prints one
# line per harness (executions, coverage, crashes) and exits non-zero when any harness crashed.
# Usage: native/fuzz/run.sh <seconds> [harness...]
# Environment: FUZZ_BIN (the binaries), FUZZ_OUT (where runs go), FUZZ_WORKERS (processes per harness, sharing
# its corpus; default 1).
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
seconds="${1:?usage: run.sh <seconds> [harness...]}"
shift
bin="${FUZZ_BIN:-$here/../build-fuzz}"
out="${FUZZ_OUT:-$here/../build-fuzz}"
workers="${FUZZ_WORKERS:-1}"
harnesses=("$@")
[ ${#harnesses[@]} -eq 0 ] && harnesses=(safetensors index json gptq awq bnb4 bnb8 checkpoint_config ct)
mkdir -p "$out/artifacts" "$out/logs"
for h in "${harnesses[@]}"; do
  mkdir -p "$out/corpus/$h"
  rm -f "$out/logs/$h".*.log
  for w in $(seq 1 "$workers"); do
    # rss/malloc limits: an unpacker that allocates gigabytes for a 1 MB input is a finding, not a slow run.
    "$bin/fuzz_$h" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 \
      -artifact_prefix="$out/artifacts/$h-" "$out/corpus/$h" "$here/corpus/$h" >"$out/logs/$h.$w.log" 2>&1 &
  done
done
wait
status=0
for h in "${harnesses[@]}"; do
  execs=$(cat "$out/logs/$h".*.log | grep -o 'stat::number_of_executed_units: [0-9]*' | awk '{n += $2; k++} END {if (k) print n}')
  cov=$(cat "$out/logs/$h".*.log | grep -o 'cov: [0-9]* ft: [0-9]*' | sort -k2,2n | tail -1)
  corpus=$(ls "$out/corpus/$h" | wc -l)
  crashes=$(ls "$out/artifacts" | grep -c "^$h-")
  printf '%-18s execs %-11s %-22s new inputs %-6s crashes %s\n' "$h" "${execs:-?}" "${cov:-?}" "$corpus" "$crashes"
  if [ -z "$execs" ] || [ "$crashes" != 0 ]; then
    status=1
    cat "$out/logs/$h".*.log | grep -m1 -A12 'ERROR\|runtime error\|invariant\|not JSON\|round-trip\|inconsistent'
  fi
done
exit $status
