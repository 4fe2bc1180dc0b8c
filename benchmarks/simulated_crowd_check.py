"""ActiveLab variants on simulated crowds: a uniform crowd and a mixed one (with spammers).

The real-crowd study (docs/real_crowd.md) found where plain ActiveLab loses and offers
``active_learning_method="activelab_em"``. This script checks the methods on crowds built from
scratch, not from that data: digits (scikit-learn's built-in copy), ``--annotators`` simulated
annotators, each pick answered by an annotator who has not labeled that example
(``annotator_selection="distinct"``, so every label has a known author and a crowd model can
learn who is reliable), or, for the suggest methods, by the best-rated one.

Crowds (``--crowds``):

* ``uniform``: every annotator right with probability ``--trace``, the paper's kind of crowd;
* ``mixed``: :func:`skactivelab.simulation.mixed_annotator_accuracies` (20% near-perfect, 50%
  typical, 20% poor, 10% spammers), drawn per seed.

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
)

METHODS = ("random", "uncertainty", "activelab", "activelab_suggest_nocap", "activelab_em",
           "activelab_em_suggest")


def crowd_task(X, y, crowd, seed, n_annotators, trace):
    K = int(y.max()) + 1
    if crowd == "uniform":
        acc = np.full(n_annotators, trace)
    else:
        acc = mixed_annotator_accuracies(n_annotators, K, random_state=10_000 + seed)
    return make_task(X, y, setting="multiannotator", n_annotators=n_annotators,
                     noise_matrices=heterogeneous_noise_matrices(acc, K), random_state=seed)


def paired(first, second):
    """'mean ± standard error (ahead on a/n)' of first - second, paired by seed."""
    d = np.asarray(first) - np.asarray(second)
    se = d.std(ddof=1) / np.sqrt(d.size) if d.size > 1 else np.nan
    return f"{d.mean():+.4f} ± {se:.4f} (ahead on {int(np.sum(d > 0))}/{d.size})"


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--seeds", type=int, default=12)
    p.add_argument("--first-seed", type=int, default=0)
    p.add_argument("--crowds", default="uniform,mixed")
    p.add_argument("--methods", default=",".join(METHODS))
    p.add_argument("--variant", default="activelab_em")
    p.add_argument("--model", default="logreg")
    p.add_argument("--annotators", type=int, default=20)
    p.add_argument("--trace", type=float, default=0.7)
    p.add_argument("--rounds", type=int, default=8)
    p.add_argument("--batch", type=int, default=50)
    p.add_argument("--out", default="results/simulated_crowd")
    a = p.parse_args(argv)
    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    methods = [m for m in a.methods.split(",") if m]
    seeds = range(a.first_seed, a.first_seed + a.seeds)
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    records = []
    for crowd in a.crowds.split(","):
        final = {m: {"test": [], "consensus": []} for m in methods}
        for seed in seeds:
            task = crowd_task(X, y, crowd, seed, a.annotators, a.trace)
            for i, m in enumerate(methods):
                t0 = time.perf_counter()
                rec = run_method(task, m, model=a.model, n_rounds=a.rounds, batch_size=a.batch,
                                 annotator_selection="distinct",
                                 random_state=np.random.default_rng([seed, i, 7]))
                final[m]["test"].append(rec["test_accuracy"][-1])
                final[m]["consensus"].append(rec["consensus_accuracy"][-1])
                records.extend(
                    dict(crowd=crowd, method=m, seed=seed, round=int(r), test_accuracy=float(t),
                         consensus_accuracy=float(c), n_relabel_picks=int(n))
                    for r, t, c, n in zip(rec["round"], rec["test_accuracy"], rec["consensus_accuracy"],
                                          rec["n_relabel_picks"])
                )
                print(f"{crowd} seed {seed} {m}: test {rec['test_accuracy'][-1]:.4f} consensus "
                      f"{rec['consensus_accuracy'][-1]:.4f} ({time.perf_counter() - t0:.1f} s)", flush=True)
        print(f"\n## {crowd} crowd, {a.annotators} annotators, {a.model}, round {a.rounds}, "
              f"seeds {a.first_seed}-{a.first_seed + a.seeds - 1}")
        for m in methods:
            t, c = np.array(final[m]["test"]), np.array(final[m]["consensus"])
            print(f"  {m:26s} test {t.mean():.4f} ± {t.std():.4f}   consensus {c.mean():.4f} ± {c.std():.4f}")
        for metric in ("test", "consensus"):
            cur = {m: final[m][metric] for m in methods}
            for m in methods:
                if "random" in cur and m != "random":
                    print(f"  {metric}: {m} - random: {paired(cur[m], cur['random'])}")
            for m in methods:
                if a.variant in cur and m != a.variant:
                    print(f"  {metric}: {a.variant} - {m}: {paired(cur[a.variant], cur[m])}")
        print(flush=True)
    (out / "simulated_crowd.json").write_text(json.dumps(dict(config=vars(a), records=records)))


if __name__ == "__main__":
    main()
