#!/usr/bin/env python3
"""Studies a change of matching feature offline, on the pools of
`fairgig eval matching --write-pools DIR`, before it is built.

Every variant is fitted as the product fits its champion (the listwise
search of `learning::fit_shares`: the fit features keep 0.10, the topical
features share the rest, a grid of 0.05 then 0.01) on the train split and
judged on the test split by nDCG@10 over the whole collection, as `fairgig
eval matching` judges. Choose by the train figure; the test figure is
there to be reported, not chosen by.

    fairgig eval matching --write-pools /tmp/pools
    python3 tools/matching_study.py /tmp/pools [power|kin|direction|grid ...]

Variants (all by default):
- power: the semantic feature as the cosine to the power 1, 1.5, 2, 3, 4;
- kin: skills matched by meaning with other floors and full-credit
  cosines, and the specificity weight to the power 0, 1 or 2;
- direction: one model per direction instead of one for both;
- grid: a finer search (0.0025 around the best).

Needs numpy. The shipped figures must come from `fairgig eval matching`:
this study reproduces them (it prints the shipped champion first) but
breaks ties between equal scores by document only approximately.
"""

import itertools
import sys
from pathlib import Path

import numpy as np

# As crates/matching/src: the power the semantic feature has now, the fit
# features' fixed weights, and the meaning-match thresholds.
SEMANTIC_POWER = 2
FIT_WEIGHTS = np.array([0, 0, 0, 0.03, 0.02, 0.03, 0.01, 0.01])
TOPICAL = (0, 1, 2)
KIN_FLOOR, KIN_FULL = 0.6, 0.95
DIRECTIONS = ("jobs_to_freelancers", "freelancers_to_jobs")
DISCOUNT = 1.0 / np.log2(np.arange(10) + 2.0)


def load_pools(path):
    columns = [line.rstrip("\n").split("\t") for line in open(path) if not line.startswith("#")]
    pools = {
        "direction": np.array([c[0] for c in columns]),
        "split": np.array([c[1] for c in columns]),
        "query": np.array([int(c[2]) for c in columns]),
        "ideal": np.array([float(c[3]) for c in columns]),
        "doc": np.array([int(c[4]) for c in columns]),
        "grade": np.array([int(c[5]) for c in columns]),
        "features": np.array([[float(v) for v in c[7:15]] for c in columns]),
    }
    print(f"{len(columns)} candidates in {path}", flush=True)
    return pools


class Lists:
    """One direction and split as padded (lists × pool) arrays."""

    def __init__(self, pools, mask):
        rows = np.nonzero(mask)[0]
        rows = rows[np.argsort(pools["query"][rows], kind="stable")]
        _, starts, counts = np.unique(pools["query"][rows], return_index=True, return_counts=True)
        self.rows = np.full((len(starts), counts.max()), -1, dtype=np.int64)
        for i, (start, count) in enumerate(zip(starts, counts)):
            self.rows[i, :count] = rows[start : start + count]
        self.valid = self.rows >= 0
        self.at = np.where(self.valid, self.rows, 0)
        self.grade = np.where(self.valid, pools["grade"][self.at], 0)
        self.doc = np.where(self.valid, pools["doc"][self.at], 0)
        self.ideal = pools["ideal"][rows[starts]]
        best = np.sort(self.grade, axis=1)[:, ::-1][:, :10]
        self.own_ideal = ((2.0**best - 1) * DISCOUNT[: best.shape[1]]).sum(axis=1)

    def ndcg(self, scores, within_list=False):
        """Mean nDCG@10 of ranking by `scores` (ties by document): over the
        collection (the evaluation's), or within each list (the fit's)."""
        s = np.where(self.valid, scores[self.at] - self.doc * 1e-9, -np.inf)
        top = np.argpartition(-s, 10, axis=1)[:, :10]
        top = np.take_along_axis(top, np.argsort(-np.take_along_axis(s, top, 1), axis=1), 1)
        dcg = ((2.0 ** np.take_along_axis(self.grade, top, 1) - 1) * DISCOUNT).sum(axis=1)
        if within_list:
            keep = self.own_ideal > 0
            return (dcg[keep] / self.own_ideal[keep]).mean()
        return np.where(self.ideal > 0, dcg / np.where(self.ideal > 0, self.ideal, 1), 0).mean()


def weights_of(shares):
    weights = FIT_WEIGHTS.copy()
    for feature, share in zip(TOPICAL, shares):
        weights[feature] = share * (1 - FIT_WEIGHTS.sum())
    return weights


def fit(features, lists, steps=((0.05, 1.0), (0.01, 0.05))):
    """`learning::fit_shares`: the topical split with the best mean nDCG@10
    within the train lists (ties keep the earlier)."""
    best, best_ndcg = [1 / len(TOPICAL)] * len(TOPICAL), -1.0
    for step, radius in steps:
        around, n = list(best), round(1 / step)
        for combo in itertools.product(range(n + 1), repeat=len(TOPICAL) - 1):
            if sum(combo) > n:
                continue
            shares = [k * step for k in combo] + [(n - sum(combo)) * step]
            if any(abs(s - a) > radius + 1e-9 for s, a in zip(shares, around)):
                continue
            scores = features @ weights_of(shares)
            total = sum(l.ndcg(scores, within_list=True) * len(l.ideal) for l in lists)
            ndcg = total / sum(len(l.ideal) for l in lists)
            if ndcg > best_ndcg + 1e-12:
                best, best_ndcg = shares, ndcg
    return weights_of(best), best_ndcg


class Study:
    def __init__(self, folder):
        self.folder = Path(folder)
        self.pools = load_pools(self.folder / "pools.tsv")
        p = self.pools
        self.lists = {
            (d, s): Lists(p, (p["direction"] == d) & (p["split"] == s))
            for d in DIRECTIONS
            for s in ("train", "test")
        }
        self.train = [self.lists[(d, "train")] for d in DIRECTIONS]

    def report(self, name, features, weights, train_ndcg, per_direction=None):
        figures = []
        for d in DIRECTIONS:
            w = per_direction[d] if per_direction else weights
            test = self.lists[(d, "test")]
            semantic, ranked = test.ndcg(features[:, 0]), test.ndcg(features @ w)
            figures.append(f"{ranked:.4f} ({ranked - semantic:+.4f})")
        chosen = per_direction.values() if per_direction else [weights]
        topical = " / ".join(str(np.round(w[list(TOPICAL)], 3)) for w in chosen)
        print(f"{name:34s} train {train_ndcg:.4f}   test {'  '.join(figures)}   topical {topical}", flush=True)

    def fitted(self, name, features):
        weights, train_ndcg = fit(features, self.train)
        self.report(name, features, weights, train_ndcg)
        return train_ndcg

    def power(self):
        cosine = self.pools["features"][:, 0] ** (1 / SEMANTIC_POWER)
        for power in (1, 1.5, 2, 3, 4):
            features = self.pools["features"].copy()
            features[:, 0] = cosine**power
            self.fitted(f"semantic = cosine^{power}", features)

    def direction(self):
        features = self.pools["features"]
        both, train_ndcg = fit(features, self.train)
        self.report("one model for both directions", features, both, train_ndcg)
        own = {d: fit(features, [self.lists[(d, "train")]]) for d in DIRECTIONS}
        mean = np.mean([own[d][1] for d in DIRECTIONS])
        self.report("a model per direction", features, both, mean, {d: own[d][0] for d in DIRECTIONS})

    def grid(self):
        features = self.pools["features"]
        weights, train_ndcg = fit(features, self.train, ((0.05, 1.0), (0.01, 0.05), (0.0025, 0.01)))
        self.report("finer grid (0.0025)", features, weights, train_ndcg)

    def kin(self):
        exact, cosine, weight, present = self.kin_tables()
        features = self.pools["features"]
        required, preferred = list(range(4)), [4, 5]
        same = coverage(exact, cosine, weight, present, KIN_FLOOR, KIN_FULL, 1.0, required)
        print(f"recomputed required-skill coverage: largest difference {np.abs(same - features[:, 1]).max():.2e}")
        for floor, full, power in itertools.product((0.5, 0.6, 0.7), (0.85, 0.95, 1.0), (0.0, 1.0, 2.0)):
            varied = features.copy()
            varied[:, 1] = coverage(exact, cosine, weight, present, floor, full, power, required)
            varied[:, 2] = coverage(exact, cosine, weight, present, floor, full, power, preferred)
            self.fitted(f"kin {floor}–{full}, specificity^{power}", varied)

    def kin_tables(self):
        """Per candidate and wanted skill (four required, then two
        preferred): held under its own label, the best cosine of another
        held label, the skill's specificity in this direction, present."""
        jobs = {"required": {}, "preferred": {}}
        profiles, labels = {}, {}
        for line in open(self.folder / "skills.tsv"):
            if line.startswith("#"):
                continue
            c = line.rstrip("\n").split("\t")
            names = lambda text: [n for n in text.split("|") if n]
            if c[0] == "job":
                jobs[c[2]][int(c[1])] = names(c[3])
            elif c[0] == "profile":
                profiles[int(c[1])] = names(c[2])
            elif c[4]:
                vector = np.array([float(x) for x in c[4].split(",")], dtype=np.float32)
                labels[c[1].strip().lower()] = (float(c[2]), float(c[3]), vector)
        keys = sorted(labels)
        index = {k: i for i, k in enumerate(keys)}
        vectors = np.stack([labels[k][2] for k in keys])
        among_freelancers = np.array([labels[k][0] for k in keys])
        among_jobs = np.array([labels[k][1] for k in keys])
        p = self.pools
        n = len(p["query"])
        exact, cosine = np.zeros((n, 6), bool), np.full((n, 6), -1.0, np.float32)
        weight, present = np.zeros((n, 6)), np.zeros((n, 6), bool)
        to_freelancers = p["direction"] == DIRECTIONS[0]
        job_of = np.where(to_freelancers, p["query"], p["doc"])
        profile_of = np.where(to_freelancers, p["doc"], p["query"])
        width = max(len(v) for v in profiles.values())
        held = np.full((max(profiles) + 1, width), -1, np.int64)
        for at, names in profiles.items():
            ids = sorted({index[x.strip().lower()] for x in names if x.strip().lower() in index})
            held[at, : len(ids)] = ids
        for job in np.unique(job_of):
            wanted = [(s, slot) for slot, s in enumerate(jobs["required"].get(job, [])[:4])]
            wanted += [(s, 4 + slot) for slot, s in enumerate(jobs["preferred"].get(job, [])[:2])]
            wanted = [(s, slot) for s, slot in wanted if s.strip().lower() in index]
            ids = np.array([index[s.strip().lower()] for s, _ in wanted])
            rows = np.nonzero(job_of == job)[0]
            their = held[profile_of[rows]]
            valid = their >= 0
            cosines = (vectors[ids] @ vectors.T)[:, np.where(valid, their, 0)]
            same = (their[None] == ids[:, None, None]) & valid[None]
            cosines = np.where(valid[None] & ~same, cosines, -1.0)
            for k, (_, slot) in enumerate(wanted):
                exact[rows, slot] = same[k].any(axis=1)
                cosine[rows, slot] = cosines[k].max(axis=1)
                present[rows, slot] = True
                weight[rows, slot] = np.where(
                    to_freelancers[rows], among_freelancers[ids[k]], among_jobs[ids[k]]
                )
        return exact, cosine, weight, present


def coverage(exact, cosine, weight, present, floor, full, power, slots):
    """`features::coverage` with other thresholds and specificity power."""
    credit = np.where(exact, 1.0, np.clip((cosine - floor) / (full - floor), 0, 1))
    w = np.where(present, weight**power, 0.0)[:, slots]
    total = w.sum(axis=1)
    return np.where(total > 0, (w * credit[:, slots]).sum(axis=1) / np.where(total > 0, total, 1), 1.0)


def main(argv):
    if len(argv) < 2:
        print(__doc__)
        return 2
    study = Study(argv[1])
    shipped = weights_of([0.7, 0.2, 0.1])
    study.report("shipped champion (linear-v3)", study.pools["features"], shipped, float("nan"))
    for variant in argv[2:] or ["power", "direction", "grid", "kin"]:
        getattr(study, variant)()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
