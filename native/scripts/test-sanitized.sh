#!/usr/bin/env bash
# Runs native test files against the ASan + UBSan addon (built first by build-sanitized.sh): node loads it through
# QUANTSTUDIO_ADDON (the job workers the tests start inherit it) with libasan preloaded, leak detection off (node
# itself leaks at exit), and any report fatal.
# Usage: native/scripts/test-sanitized.sh [out/test/native/<file>.test.js ...]   (default: the subset below)
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
bash native/scripts/build-sanitized.sh
# Every layer's C++ (io, formats, quantizers, kernels, quantized linears, runtime, generation, pipeline, tokenizer),
# about 3 minutes. Left out: the job-level suites (cli*, benchmark*, hubJob, outputLock, jobParentDeath,
# quantizeEvaluate, pipeline-quality, estimateMatchesCheckpoint, perplexity) run the same code through the job
# worker on larger models and take 10-50x longer sanitized; fuzz.test.js runs its own sanitized binaries.
SUBSET=(io formats quant gptq awq kernels qlinear qlinear-model qlinearCompressedTensors nonFinite notAFile upstreamCheckpoints tokenizer tokenIds
        runtime runtimeBatch generate pipeline signRound)
files=("$@")
if [ ${#files[@]} -eq 0 ]; then
  for t in "${SUBSET[@]}"; do files+=("out/test/native/$t.test.js"); done
fi
export QUANTSTUDIO_ADDON="$root/native/build-asan/quantstudio.node"
LD_PRELOAD="$(g++ -print-file-name=libasan.so)"
export LD_PRELOAD
export ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:allow_user_segv_handler=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
# The addon the tests load must be this one: addonPath() falls back to the normal build when it is missing.
node -e "const a = require('./out/native/lib/addon'); if (a.addonPath() !== process.env.QUANTSTUDIO_ADDON) process.exit(1); a.loadAddon();"
node test/run.mjs "${files[@]}"
