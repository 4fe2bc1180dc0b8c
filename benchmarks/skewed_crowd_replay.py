"""Active learning on a crowd like a real two-class one: a replay of a skewed simulated crowd.

The regime where a crowd model that trusts a weak classifier can fall below the labels' own
majority vote: two classes, thousands of items, a crowd about 79% right whose annotators are of very
unequal activity (Zipf weights: a few do most of the work, most label a handful) and widely
spread accuracy (some below chance, 10% spammers), and a classifier much weaker than one
annotator, trained each round on the crowd's consensus. Every item has ``--labels`` labels
collected in advance; the benchmark replays them as a real crowd's (half the items start with
one label, each later pick reveals the item's next label), as on the music genre crowd.

Each method is run with each crowd model (``method:crowd_model``), so that the selection's
effect and the consensus's effect can be told apart; the last round is compared with random
selection under each crowd model, paired by seed, and each ``activelab`` method with every
other method. Outputs go to ``--out`` (default ``results/skewed_crowd`` under the current
directory).

    nice python benchmarks/skewed_crowd_replay.py --seeds 6 --n-jobs 2
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
from sklearn.datasets import make_classification

sys.path.insert(0, str(Path(__file__).resolve().parent))
import regime_lib as R  # noqa: E402
from simulated_crowd_check import paired as _paired  # noqa: E402

from skactivelab.simulation import run_benchmark  # noqa: E402

METHODS = ("random", "uncertainty", "activelab", "activelab_suggest_nocap")
CROWD_MODELS = ("crowdlab", "annotator_confusion", "majority_vote")


def skewed_crowd(seed, n, n_test, n_annotators, labels, accuracy, spam, concentration, class_sep):
    """The crowd: features, truth and ``labels`` labels per pool item from a skewed crowd.

    The crowd's labels are drawn around its own random truth and carried over to the task's:
    with two classes a label is right or wrong, so each label keeps whether it was right (a
    spammer's label stays a coin flip)."""
    X, y = make_classification(n + n_test, 20, n_informative=4, n_redundant=0, class_sep=class_sep,
                               flip_y=0.15, random_state=seed)
    crowd = R.simulate_crowd(n, 2, accuracy, str(labels), n_annotators=n_annotators, spam_frac=spam,
                             activity=R.zipf_weights(n_annotators), concentration=concentration,
                             random_state=1000 + seed)
    L = crowd["labels"]
    ex, ann = np.nonzero(~np.isnan(L))
    right = L[ex, ann] == crowd["truth"][ex]
    lab = np.where(right, y[ex], 1 - y[ex]).astype(np.int64)
    return {"annotations": (ex.astype(np.int64), ann.astype(np.int64), lab), "data": X[:n], "target": y[:n],
            "data_test": X[n:], "target_test": y[n:], "label_accuracy": float(right.mean()),
            "busiest_share": float(np.bincount(ann).max() / n)}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--seeds", type=int, default=6)
    p.add_argument("--n", type=int, default=3000, help="pool items (plus --n-test held out)")
    p.add_argument("--n-test", type=int, default=1000)
    p.add_argument("--annotators", type=int, default=200)
    p.add_argument("--labels", type=int, default=5, help="labels collected per item (the replay's reserve)")
    p.add_argument("--accuracy", type=float, default=0.8, help="mean accuracy of the ordinary annotators")
    p.add_argument("--spam", type=float, default=0.1, help="fraction of spammers")
    p.add_argument("--concentration", type=float, default=6.0, help="of the accuracies' Beta (smaller: more spread)")
    p.add_argument("--class-sep", type=float, default=0.4, help="smaller: a weaker classifier")
    p.add_argument("--rounds", type=int, default=8)
    p.add_argument("--batch", type=int, default=100)
    p.add_argument("--model", default="logreg")
    p.add_argument("--methods", default=",".join(METHODS))
    p.add_argument("--crowd-models", default=",".join(CROWD_MODELS))
    p.add_argument("--n-jobs", type=int, default=1)
    p.add_argument("--out", default="results/skewed_crowd")
    a = p.parse_args(argv)
    for bad, msg in ((a.seeds < 1, "--seeds must be at least 1"),
                     (not 0.0 < a.accuracy < 1.0, "--accuracy must be between 0 and 1"),
                     (not 0.0 <= a.spam <= 1.0, "--spam is a fraction, between 0 and 1"),
                     (not a.concentration > 0, "--concentration must be > 0"),
                     (not 1 <= a.labels <= a.annotators, "--labels must be between 1 and --annotators"),
                     (min(a.n, a.n_test, a.rounds, a.batch) < 1, "--n, --n-test, --rounds and --batch must be >= 1")):
        if bad:
            p.error(msg)
    methods = [f"{m}:{c}" for c in a.crowd_models.split(",") for m in a.methods.split(",")]
    records = []
    for seed in range(a.seeds):
        crowd = skewed_crowd(seed, a.n, a.n_test, a.annotators, a.labels, a.accuracy, a.spam, a.concentration,
                             a.class_sep)
        print(f"seed {seed}: {crowd['label_accuracy']:.3f} of the labels right, busiest annotator on "
              f"{crowd['busiest_share']:.0%} of the items", file=sys.stderr, flush=True)
        t0 = time.perf_counter()
        res = run_benchmark(None, None, methods=methods, seeds=(seed,), model=a.model, n_rounds=a.rounds,
                            batch_size=a.batch, n_jobs=a.n_jobs, crowd=crowd)
        for r in res.records:
            records.append(dict(dataset="binary", crowd="skewed", method=r["method"], seed=seed, round=r["round"],
                                test_accuracy=r["test_accuracy"], consensus_accuracy=r["consensus_accuracy"],
                                n_relabel_picks=r.get("n_relabel_picks", 0)))
        print(f"seed {seed}: {len(methods)} methods in {time.perf_counter() - t0:.0f} s", file=sys.stderr, flush=True)
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "skewed_crowd.json").write_text(json.dumps(dict(config=vars(a), records=records)))
    baselines(records, [f"random:{c}" for c in a.crowd_models.split(",")])
    against_all(records, [m for m in methods if m.startswith("activelab")])


def against_all(records, variants):
    """Last round: each variant minus every other method, paired by seed (mean ± standard
    error, and on how many seeds the variant is ahead)."""
    last = max(r["round"] for r in records)
    val = {(r["method"], r["seed"]): r for r in records if r["round"] == last}
    methods = list(dict.fromkeys(r["method"] for r in records))
    seeds = sorted({r["seed"] for r in records})
    for v in variants:
        print(f"\n{v} minus each method, round {last}\n| method | test | consensus |\n|---|---|---|")
        for m in methods:
            if m != v:
                print(f"| {m} | " + " | ".join(_paired([val[v, s][k] for s in seeds], [val[m, s][k] for s in seeds])
                                                for k in ("test_accuracy", "consensus_accuracy")) + " |")
    print(flush=True)


def baselines(records, bases):
    """Last round: each method against random selection under each crowd model, paired by seed
    (mean ± standard error, and on how many seeds the method is ahead)."""
    last = max(r["round"] for r in records)
    val = {(r["method"], r["seed"]): r for r in records if r["round"] == last}
    methods = list(dict.fromkeys(r["method"] for r in records))
    seeds = sorted({r["seed"] for r in records})
    bases = [b for b in bases if (b, seeds[0]) in val]
    for key in ("test_accuracy", "consensus_accuracy"):
        print(f"\n{key}, round {last}: mean over seeds, and minus each random selection (paired)")
        print("| method | mean | " + " | ".join(f"minus {b}" for b in bases) + " |")
        print("|---|---|" + "---|" * len(bases))
        for m in methods:
            x = np.array([val[m, s][key] for s in seeds])
            cells = ["" if m == b else _paired(x, [val[b, s][key] for s in seeds]) for b in bases]
            print(f"| {m} | {x.mean():.4f} | " + " | ".join(cells) + " |")
    print(flush=True)


if __name__ == "__main__":
    main()
