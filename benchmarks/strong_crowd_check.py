"""Active learning where a strong crowd meets a weak classifier: do the crowd models hold?

The regime where a crowd model that trusts its classifier too much loses to random selection:
two classes, thousands of items, annotators about 79% right (a spread of accuracies), and a
classifier much weaker than one annotator. Each method is run with each crowd model
(``method:crowd_model``, the crowd model forms the consensus and, for ActiveLab, the scores),
so that the selection's effect and the consensus's effect can be told apart; the consensus
accuracy and the test accuracy of the last round are compared with random selection under
the same crowd model, paired by seed.

    nice python benchmarks/strong_crowd_check.py --seeds 6
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
from simulated_crowd_check import report  # noqa: E402

from skactivelab.simulation import heterogeneous_noise_matrices, make_task, run_method  # noqa: E402

CROWD_MODELS = ("crowdlab", "annotator_confusion", "majority_vote")


def task(seed, n, n_annotators, accuracy, class_sep):
    """A binary task with a weak signal and a strong one-coin crowd (accuracies around ``accuracy``)."""
    X, y = make_classification(n, 20, n_informative=4, n_redundant=0, class_sep=class_sep, flip_y=0.15,
                               random_state=seed)
    rng = np.random.default_rng(1000 + seed)
    acc = np.clip(rng.beta(accuracy * 20, (1 - accuracy) * 20, n_annotators), 0.5, 0.99)
    T = heterogeneous_noise_matrices(acc, 2)
    return make_task(X, y, setting="multiannotator", n_annotators=n_annotators, noise_matrices=T,
                     random_state=seed)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--seeds", type=int, default=6)
    p.add_argument("--n", type=int, default=3000, help="items (a third held out for the test accuracy)")
    p.add_argument("--annotators", type=int, default=40)
    p.add_argument("--accuracy", type=float, default=0.79, help="mean annotator accuracy")
    p.add_argument("--class-sep", type=float, default=0.4, help="smaller: a weaker classifier")
    p.add_argument("--rounds", type=int, default=8)
    p.add_argument("--batch", type=int, default=100)
    p.add_argument("--model", default="logreg")
    p.add_argument("--methods", default="random,activelab")
    p.add_argument("--crowd-models", default=",".join(CROWD_MODELS))
    p.add_argument("--out", default="results/strong_crowd")
    a = p.parse_args(argv)
    methods = [f"{m}:{c}" for c in a.crowd_models.split(",") for m in a.methods.split(",")]
    records = []
    for seed in range(a.seeds):
        t = task(seed, a.n, a.annotators, a.accuracy, a.class_sep)
        for i, m in enumerate(methods):
            t0 = time.perf_counter()
            rec = run_method(t, m, model=a.model, n_rounds=a.rounds, batch_size=a.batch,
                             annotator_selection="distinct", random_state=np.random.default_rng([seed, 7]))
            records.extend(dict(dataset="binary", crowd=f"strong crowd {a.accuracy}", method=m, seed=seed,
                                round=int(r), test_accuracy=float(ta), consensus_accuracy=float(c),
                                n_relabel_picks=int(k))
                           for r, ta, c, k in zip(rec["round"], rec["test_accuracy"], rec["consensus_accuracy"],
                                                  rec["n_relabel_picks"]))
            print(f"seed {seed} {m}: test {rec['test_accuracy'][-1]:.4f} consensus {rec['consensus_accuracy'][-1]:.4f} "
                  f"({time.perf_counter() - t0:.1f} s)", file=sys.stderr, flush=True)
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "strong_crowd.json").write_text(json.dumps(dict(config=vars(a), records=records)))
    report(records, [f"activelab:{c}" for c in a.crowd_models.split(",")])


if __name__ == "__main__":
    main()
