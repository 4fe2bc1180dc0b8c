"""ActiveLab variants on simulated crowds: a uniform crowd and a mixed one (with spammers).

The real-crowd study (docs/real_crowd.md) found where plain ActiveLab loses and offers
``crowd_model="annotator_confusion"``. This script checks the methods on crowds built from
scratch, not from that data: digits (scikit-learn's built-in copy) or UCI Letter Recognition (26 classes), ``--annotators`` simulated
annotators, each pick answered by an annotator who has not labeled that example
(``annotator_selection="distinct"``, so every label has a known author and a crowd model can
learn who is reliable), or, for the suggest methods, by the best-rated one.

Crowds (``--crowds``), drawn per seed:

* ``uniform``: every annotator right with probability ``--trace``, wrong answers uniform over
  the other classes (the "one-coin" crowd);
* ``mixed``: one-coin annotators of :func:`skactivelab.simulation.mixed_annotator_accuracies`
  (20% near-perfect, 50% typical, 20% poor, 10% spammers);
* ``paper``: one class-confusion matrix with trace ``--trace`` x K shared by every annotator
  (:func:`skactivelab.simulation.shared_noise_matrix`, the paper's simulation): wrong answers
  are not uniform;
* ``confusion``: every annotator its own class-confusion matrix, accuracies of a mixed crowd
  (spammers just above chance): neither equal nor one-coin.

Prints, per crowd, the last-round table with the paired difference of every method against
random selection and of ``--variant`` against every other method (mean ± standard error over
seeds, and on how many seeds the variant is ahead); writes one JSON of all records.

    nice python benchmarks/simulated_crowd_check.py --seeds 12 --out results/simulated_crowd
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
from sklearn.datasets import load_digits

from skactivelab.simulation import (
    heterogeneous_noise_matrices,
    make_task,
    mixed_annotator_accuracies,
    run_method,
    shared_noise_matrix,
)

METHODS = ("random", "uncertainty", "activelab", "activelab_suggest_nocap", "activelab:annotator_confusion",
           "activelab_suggest_nocap:annotator_confusion")


def crowd_task(X, y, crowd, seed, n_annotators, trace):
    K = int(y.max()) + 1
    if crowd == "uniform":  # one-coin, everyone equally good
        T = heterogeneous_noise_matrices(np.full(n_annotators, trace), K)
    elif crowd == "mixed":  # one-coin, near-perfect to spammers
        T = heterogeneous_noise_matrices(mixed_annotator_accuracies(n_annotators, K, random_state=10_000 + seed), K)
    elif crowd == "paper":  # one class-confusion matrix shared by everyone (the paper's simulation)
        T = shared_noise_matrix(K, trace * K, random_state=20_000 + seed)
    elif crowd == "confusion":  # each annotator its own class confusions, accuracies of a mixed crowd
        acc = np.clip(mixed_annotator_accuracies(n_annotators, K, random_state=30_000 + seed), 1.0 / K + 0.02, 1.0)
        T = np.stack([shared_noise_matrix(K, a_j * K, spread=0.1, random_state=[30_000 + seed, j])
                      for j, a_j in enumerate(acc)])
    else:
        raise SystemExit(f"unknown crowd {crowd!r}; use uniform, mixed, paper or confusion")
    return make_task(X, y, setting="multiannotator", n_annotators=n_annotators, noise_matrices=T,
                     random_state=seed)


def paired(first, second):
    """'mean ± standard error (ahead on a/n)' of first - second, paired by seed."""
    d = np.asarray(first) - np.asarray(second)
    se = d.std(ddof=1) / np.sqrt(d.size) if d.size > 1 else np.nan
    return f"{d.mean():+.4f} ± {se:.4f} (ahead on {int(np.sum(d > 0))}/{d.size})"


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--dataset", default="digits", choices=("digits", "letter"),
                   help="digits (built in) or letter (UCI Letter Recognition, 26 classes; --data CSV "
                   "with the letter in the first column, e.g. OpenML 6 saved as CSV)")
    p.add_argument("--data", default=None, help="the letter CSV")
    p.add_argument("--rows", type=int, default=3000, help="letter: rows used (a fixed random subset)")
    p.add_argument("--seeds", type=int, default=12)
    p.add_argument("--first-seed", type=int, default=0)
    p.add_argument("--crowds", default="uniform,mixed,paper,confusion")
    p.add_argument("--methods", default=",".join(METHODS))
    p.add_argument("--variants", default="activelab:annotator_confusion,activelab_suggest_nocap:annotator_confusion",
                   help="methods compared against every other method")
    p.add_argument("--report", nargs="+", default=None,
                   help="only print the tables of these JSON outputs (merged)")
    p.add_argument("--model", default="logreg")
    p.add_argument("--annotators", type=int, default=20)
    p.add_argument("--trace", type=float, default=0.7)
    p.add_argument("--rounds", type=int, default=8)
    p.add_argument("--batch", type=int, default=50)
    p.add_argument("--out", default="results/simulated_crowd")
    a = p.parse_args(argv)
    if a.report:
        records = [r for path in a.report for r in json.loads(Path(path).read_text())["records"]]
        report(records, a.variants.split(","))
        return
    if a.dataset == "digits":
        X, y = load_digits(return_X_y=True)
        X = X / 16.0
    else:
        if not a.data:
            p.error("--dataset letter needs --data path/to/letter.csv")
        raw = np.genfromtxt(a.data, delimiter=",", skip_header=1, dtype=str)
        keep = np.random.default_rng(0).permutation(raw.shape[0])[: a.rows]
        X = raw[keep, 1:].astype(np.float64) / 15.0
        y = np.unique(raw[keep, 0], return_inverse=True)[1]
    methods = [m for m in a.methods.split(",") if m]
    seeds = range(a.first_seed, a.first_seed + a.seeds)
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    records = []
    for crowd in a.crowds.split(","):
        for seed in seeds:
            task = crowd_task(X, y, crowd, seed, a.annotators, a.trace)
            for i, m in enumerate(methods):
                t0 = time.perf_counter()
                rec = run_method(task, m, model=a.model, n_rounds=a.rounds, batch_size=a.batch,
                                 annotator_selection="distinct",
                                 random_state=np.random.default_rng([seed, i, 7]))
                records.extend(
                    dict(dataset=a.dataset, crowd=crowd, method=m, seed=seed, round=int(r), test_accuracy=float(t),
                         consensus_accuracy=float(c), n_relabel_picks=int(n))
                    for r, t, c, n in zip(rec["round"], rec["test_accuracy"], rec["consensus_accuracy"],
                                          rec["n_relabel_picks"])
                )
                print(f"{crowd} seed {seed} {m}: test {rec['test_accuracy'][-1]:.4f} consensus "
                      f"{rec['consensus_accuracy'][-1]:.4f} ({time.perf_counter() - t0:.1f} s)", flush=True)
    (out / f"simulated_crowd_{a.dataset}_{a.model}.json").write_text(json.dumps(dict(config=vars(a), records=records)))
    report(records, a.variants.split(","), a)


def report(records, variants, a=None):
    """Last-round table per (dataset, crowd): each method, its difference to random, and each
    variant against every other method, paired by seed."""
    groups = {}
    for r in records:
        groups.setdefault((r.get("dataset", "digits"), r["crowd"]), []).append(r)
    for (dataset, crowd), rows in groups.items():
        last = max(r["round"] for r in rows)
        methods = list(dict.fromkeys(r["method"] for r in rows))
        seeds = sorted({r["seed"] for r in rows})
        val = {(r["method"], r["seed"]): r for r in rows if r["round"] == last}
        print(f"\n## {dataset}, {crowd} crowd, round {last}, seeds {seeds[0]}-{seeds[-1]} ({len(seeds)})")
        print("| method | test acc | consensus acc | test - random | consensus - random |")
        print("|---|---|---|---|---|")
        for m in methods:
            t = np.array([val[m, s]["test_accuracy"] for s in seeds])
            c = np.array([val[m, s]["consensus_accuracy"] for s in seeds])
            rt = np.array([val["random", s]["test_accuracy"] for s in seeds]) if ("random", seeds[0]) in val else None
            rc = np.array([val["random", s]["consensus_accuracy"] for s in seeds]) if rt is not None else None
            dr = ("", "") if rt is None or m == "random" else (paired(t, rt), paired(c, rc))
            print(f"| {m} | {t.mean():.4f} ± {t.std():.4f} | {c.mean():.4f} ± {c.std():.4f} | {dr[0]} | {dr[1]} |")
        for v in variants:
            if (v, seeds[0]) not in val:
                continue
            print(f"\n| {v} minus | test | consensus |\n|---|---|---|")
            for m in methods:
                if m == v:
                    continue
                cells = [paired([val[v, s][k] for s in seeds], [val[m, s][k] for s in seeds])
                         for k in ("test_accuracy", "consensus_accuracy")]
                print(f"| {m} | {cells[0]} | {cells[1]} |")
    print(flush=True)


if __name__ == "__main__":
    main()
