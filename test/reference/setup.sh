#!/usr/bin/env bash
# Creates (once) a Python venv the reference tests use, keyed by a hash of its requirements file (default
# requirements.txt; requirements-llmcompressor.txt for llm-compressor's own pins) so a changed pin gets a fresh
# venv and an unchanged one costs nothing. Prints the venv path on stdout.
# Override the cache root with QUANTSTUDIO_REF_CACHE. Large: torch's wheel pulls its CUDA libraries.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
requirements="$here/${1:-requirements.txt}"
hash="$(sha256sum "$requirements" | cut -c1-12)"
cache="${QUANTSTUDIO_REF_CACHE:-$HOME/.cache/quantstudio-ref}"
name="$(basename "$requirements" .txt)"
venv="$cache/venv-$hash"
[[ "$name" == requirements ]] || venv="$cache/venv-${name#requirements-}-$hash"

# A venv is ready only once the marker is written after the last install step succeeded.
if [[ -f "$venv/.ready" ]]; then
  echo "$venv"
  exit 0
fi

mkdir -p "$cache"
rm -rf "$venv"
python3 -m venv "$venv" >&2
"$venv/bin/pip" install --quiet --upgrade pip >&2
# torch first: gptqmodel and bitsandbytes build metadata against the installed torch.
grep -E '^(torch|transformers|safetensors|numpy)==' "$requirements" > "$venv/step1.txt"
"$venv/bin/pip" install --quiet -r "$venv/step1.txt" >&2
"$venv/bin/pip" install --quiet -r "$requirements" >&2
if [[ "$name" == requirements ]]; then
  "$venv/bin/python" -c 'import torch, transformers, gptqmodel, bitsandbytes, safetensors, numpy' >&2
else
  "$venv/bin/python" -c 'import torch, transformers, llmcompressor, compressed_tensors' >&2
fi
touch "$venv/.ready"
echo "$venv"
