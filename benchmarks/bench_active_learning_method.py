"""Scoring cost of ``active_learning_method="activelab_em"`` against plain ActiveLab.

The data of ``bench_scoring.py`` (N labeled examples with 1-3 labels from M=50
annotators of accuracy 0.5-0.95, K=10 classes, 3N unlabeled); both methods score
the same arrays in the same process; minimum wall time over ``--repeat`` runs,
interleaved so that load changes hit both alike. Also prints EM's iterations.

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
from skactivelab._annotations import check_annotations  # noqa: E402
from skactivelab._em import em_fit  # noqa: E402


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--sizes", default="100000")
    p.add_argument("--repeat", type=int, default=5)
    a = p.parse_args(argv)
    for N in map(int, a.sizes.split(",")):
        d = make_data(N, 50)
        triples = (d["ex"], d["an"], d["lab"])
        times = {"activelab": [], "activelab_em": []}
        for _ in range(a.repeat):
            for method in times:
                t = time.perf_counter()
                get_active_learning_scores(triples, d["P"], d["U"], random_state=0, active_learning_method=method)
                times[method].append(time.perf_counter() - t)
        fit = em_fit(check_annotations(triples, n_examples=N, n_classes=10), d["P"][None])
        acc = np.bincount(d["an"], weights=d["lab"] == d["truth"][d["ex"]]) / np.bincount(d["an"])
        t0, t1 = min(times["activelab"]), min(times["activelab_em"])
        print(f"N={N:,} labeled ({d['ex'].size:,} annotations) + {d['U'].shape[0]:,} unlabeled, K=10, M=50: "
              f"activelab {t0:.3f} s, activelab_em {t1:.3f} s, ratio {t1 / t0:.2f} "
              f"(EM: {fit['n_iter']} iterations, T={fit['temperature']:.3f}, "
              f"max |accuracy error| {np.nanmax(np.abs(fit['accuracy'] - acc)):.3f})")


if __name__ == "__main__":
    main()
