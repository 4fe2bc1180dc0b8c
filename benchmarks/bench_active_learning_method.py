"""Scoring cost of each crowd model (``crowd_model=``) against plain ActiveLab (CROWDLAB).

The data of ``bench_scoring.py`` (N labeled examples with 1-3 labels from M=50
annotators of accuracy 0.5-0.95, K=10 classes, 3N unlabeled); every crowd model scores
the same arrays in the same process; minimum wall time over ``--repeat`` runs,
interleaved so that load changes hit all alike. Also prints the annotator-confusion
model's largest annotator accuracy error.

    nice python benchmarks/bench_active_learning_method.py --sizes 100000 --repeat 5
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_scoring import make_data  # noqa: E402

from skactivelab import get_active_learning_scores  # noqa: E402
from skactivelab.crowd_models import AnnotatorConfusion  # noqa: E402


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--sizes", default="100000")
    p.add_argument("--repeat", type=int, default=5)
    a = p.parse_args(argv)
    for N in map(int, a.sizes.split(",")):
        d = make_data(N, 50)
        triples = (d["ex"], d["an"], d["lab"])
        times = {"crowdlab": [], "annotator_confusion": [], "majority_vote": []}
        for _ in range(a.repeat):
            for crowd_model in times:
                t = time.perf_counter()
                get_active_learning_scores(triples, d["P"], d["U"], random_state=0, crowd_model=crowd_model)
                times[crowd_model].append(time.perf_counter() - t)
        fit = AnnotatorConfusion(random_state=0).fit(triples, d["P"])
        acc = np.bincount(d["an"], weights=d["lab"] == d["truth"][d["ex"]]) / np.bincount(d["an"])
        t0 = min(times["crowdlab"])
        print(f"N={N:,} labeled ({d['ex'].size:,} annotations) + {d['U'].shape[0]:,} unlabeled, K=10, M=50: "
              + ", ".join(f"{m} {min(t):.3f} s (ratio {min(t) / t0:.2f})" for m, t in times.items())
              + f"; annotator_confusion: classifier weight {fit.classifier_weight_:.2f}, "
              f"max |accuracy error| {np.nanmax(np.abs(fit.annotator_accuracy_ - acc)):.3f}")


if __name__ == "__main__":
    main()
