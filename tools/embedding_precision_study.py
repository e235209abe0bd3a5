#!/usr/bin/env python3
"""Can a quantised all-MiniLM-L6-v2 be the default? Measure it.

The local model runs full precision (`models/all-MiniLM-L6-v2/model.onnx`)
because a quantised graph may be the default only if every STS-B dev cosine
stays within 0.02 of the reference and Spearman stays >= 86.0 (issue #4).
This script makes the quantised variants ONNX Runtime's own quantiser offers
and prints, for each, the accuracy against that bar and its speed relative to
full precision in the same process (short texts, batches of 64 split over two
single-threaded sessions, as `fairgig bench embed` runs them; the pairs
alternate so that a drifting machine cancels out).

Not part of the build or of `make test`. Needs `make models` and:

    python3 -m venv /tmp/study && /tmp/study/bin/pip install \
        onnx==1.23.2 onnxruntime==1.31.1 onnx_ir tokenizers numpy
    /tmp/study/bin/python tools/embedding_precision_study.py
"""

import csv
import os
import tempfile
import threading
import time

import numpy as np
import onnx
import onnxruntime as ort
from onnxruntime.quantization import QuantType, quantize_dynamic
from onnxruntime.quantization.matmul_nbits_quantizer import (
    DefaultWeightOnlyQuantConfig,
    MatMulNBitsQuantizer,
)
from tokenizers import Tokenizer

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
MODEL = os.path.join(ROOT, "models/all-MiniLM-L6-v2")
STS = os.path.join(ROOT, "../shared/data/sts")
WORDS = (
    "senior rust developer remote backend payments platform designer illustrator translation german "
    "english marketing campaign budget deadline weeks experience years team startup logo brand mobile app "
    "android ios website shop data analysis python dashboard reports copywriting articles video editing "
    "podcast audio accounting invoices legal contract review customer support tickets api integration "
    "database migration cloud security audit testing automation writing"
).split()

tokenizer = Tokenizer.from_file(os.path.join(MODEL, "tokenizer.json"))
tokenizer.no_padding()
tokenizer.enable_truncation(256)


def short_texts(count, seed):
    """About 15 tokens each, from the same words as `fairgig bench embed`."""
    texts = []
    for _ in range(count):
        words = []
        while len(words) < 11:
            seed = (seed * 6364136223846793005 + 1442695040888963407) % (1 << 64)
            words.append(WORDS[(seed >> 33) % len(WORDS)])
        texts.append(" ".join(words) + ".")
    return texts


def session(path):
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])


def embed(sess, texts, batch=32):
    """Mean-pooled, normalised vectors; texts sorted by length, as local.rs does."""
    ids = [tokenizer.encode(t).ids for t in texts]
    order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
    out = [None] * len(ids)
    for start in range(0, len(order), batch):
        rows = order[start : start + batch]
        width = max(len(ids[i]) for i in rows)
        tokens = np.zeros((len(rows), width), np.int64)
        mask = np.zeros_like(tokens)
        for r, i in enumerate(rows):
            tokens[r, : len(ids[i])] = ids[i]
            mask[r, : len(ids[i])] = 1
        feed = {"input_ids": tokens, "attention_mask": mask, "token_type_ids": np.zeros_like(tokens)}
        hidden = sess.run(["last_hidden_state"], feed)[0]
        pooled = (hidden * mask[:, :, None]).sum(1) / mask.sum(1, keepdims=True)
        for r, i in enumerate(rows):
            out[i] = pooled[r] / np.linalg.norm(pooled[r])
    return np.array(out)


def accuracy(path):
    """Spearman against the human scores and the largest cosine difference from the reference."""
    rows = list(csv.reader(open(os.path.join(STS, "sts-dev.csv")), delimiter="\t", quoting=csv.QUOTE_NONE))
    reference = np.array(
        [float(line.split("\t")[-1]) for line in open(os.path.join(STS, "all-MiniLM-L6-v2.dev-reference-cosines.tsv"))]
    )
    sess = session(path)
    cosines = (embed(sess, [r[5] for r in rows]) * embed(sess, [r[6] for r in rows])).sum(1)
    human = np.array([float(r[4]) for r in rows])
    rank = lambda x: np.argsort(np.argsort(x))  # noqa: E731
    return 100 * np.corrcoef(rank(cosines), rank(human))[0, 1], np.abs(cosines - reference).max()


def seconds_per_batch(sessions, batch):
    halves = [batch[:32], batch[32:]]
    threads = [threading.Thread(target=embed, args=(s, h)) for s, h in zip(sessions, halves)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - start


def speed_ratio(path, full, batches=20):
    """Median of (full-precision time / variant time) over alternating batches of 64."""
    variant, baseline = [session(path), session(path)], [session(full), session(full)]
    ratios = []
    for i in range(batches + 1):
        batch = short_texts(64, seed=i + 7)
        b, v = seconds_per_batch(baseline, batch), seconds_per_batch(variant, batch)
        if i:
            ratios.append(b / v)
    return float(np.median(ratios)), 64 / v


def variants(full, work):
    """The quantised graphs ONNX Runtime's quantiser makes of the full-precision one."""
    made = {}
    for name, per_channel in [("dynamic int8, per tensor", False), ("dynamic int8, per channel", True)]:
        path = os.path.join(work, name.replace(" ", "_").replace(",", "") + ".onnx")
        quantize_dynamic(full, path, weight_type=QuantType.QInt8, per_channel=per_channel)
        made[name] = path
    model = onnx.load(full)
    ffn_in = [
        n.name
        for n in model.graph.node
        if n.op_type == "MatMul" and any(i.name == n.input[1] and list(i.dims) == [384, 1536] for i in model.graph.initializer)
    ]
    others = [n.name for n in model.graph.node if n.op_type == "MatMul" and n.name not in ffn_in]
    path = os.path.join(work, "ffn_in_only.onnx")
    quantize_dynamic(full, path, weight_type=QuantType.QInt8, per_channel=True, nodes_to_exclude=others)
    made["dynamic int8, per channel, feed-forward input only"] = path
    for bits in (8, 4):
        config = DefaultWeightOnlyQuantConfig(block_size=32, is_symmetric=True, accuracy_level=4, bits=bits)
        quantiser = MatMulNBitsQuantizer(onnx.load(full), bits=bits, block_size=32, is_symmetric=True, accuracy_level=4, algo_config=config)
        quantiser.process()
        path = os.path.join(work, f"nbits{bits}.onnx")
        quantiser.model.save_model_to_file(path)
        made[f"{bits}-bit weight blocks of 32, int8 activations per block (MatMulNBits)"] = path
    return made


def main():
    full = os.path.join(MODEL, "model.onnx")
    rho, worst = accuracy(full)
    print(f"full precision: Spearman {rho:.2f}, largest cosine difference {worst:.4f}", flush=True)
    with tempfile.TemporaryDirectory() as work:
        for name, path in variants(full, work).items():
            rho, worst = accuracy(path)
            ratio, per_sec = speed_ratio(path, full)
            verdict = "meets" if rho >= 86.0 and worst <= 0.02 else "fails"
            print(
                f"{name}: Spearman {rho:.2f}, largest cosine difference {worst:.4f} ({verdict} the bar); "
                f"{ratio:.2f}x full precision's speed ({per_sec:.0f} short sentences/s in the last batch)",
                flush=True,
            )


if __name__ == "__main__":
    main()
