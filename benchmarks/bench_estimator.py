"""Where MultiAnnotatorClassifier.fit spends its time (docs/estimator.md, speed).

N = 50,000 rows (45,000 labeled with 1-3 labels each from M = 50 annotators,
5,000 unlabeled), K = 10 classes, 20 features, LogisticRegression, cv=5.
The wrapped estimator records the time of its own fit / predict_proba calls;
everything else in ``fit`` is the meta-estimator's own time (annotation
parsing, fold bookkeeping, CROWDLAB, ActiveLab, probability alignment).

Run:  python benchmarks/bench_estimator.py [--n 50000] [--repeat 1]
"""

import argparse
import time

import numpy as np
from sklearn.linear_model import LogisticRegression

from skactivelab import MultiAnnotatorClassifier

CALLS = []


class TimedLogisticRegression(LogisticRegression):
    """LogisticRegression that logs how long its fit and predict_proba take."""

    def fit(self, X, y, sample_weight=None):
        t, c = time.perf_counter(), time.process_time()
        out = super().fit(X, y, sample_weight=sample_weight)
        CALLS.append(("fit", time.perf_counter() - t, time.process_time() - c))
        return out

    def predict_proba(self, X):
        t, c = time.perf_counter(), time.process_time()
        out = super().predict_proba(X)
        CALLS.append(("predict_proba", time.perf_counter() - t, time.process_time() - c))
        return out


def make_data(n, m, k, n_features=20, unlabeled=0.1, seed=0):
    rng = np.random.RandomState(seed)
    centers = rng.normal(scale=2.0, size=(k, n_features))
    truth = rng.randint(k, size=n)
    X = centers[truth] + rng.normal(size=(n, n_features))
    L = np.full((n, m), np.nan)
    n_lab = int(n * (1 - unlabeled))
    n_per = rng.randint(1, 4, size=n_lab)
    rows = np.repeat(np.arange(n_lab), n_per)
    # distinct annotators per row: random permutation prefix
    cols = np.concatenate([rng.choice(m, c, replace=False) for c in n_per])
    acc = rng.uniform(0.6, 0.95, size=m)[cols]
    correct = rng.rand(rows.size) < acc
    labels = np.where(correct, truth[rows], rng.randint(k, size=rows.size))
    L[rows, cols] = labels
    perm = rng.permutation(n)
    return X[perm], L[perm]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=50_000)
    ap.add_argument("--m", type=int, default=50)
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--cv", type=int, default=5)
    ap.add_argument("--repeat", type=int, default=1)
    args = ap.parse_args()
    X, L = make_data(args.n, args.m, args.k)
    print(f"N={args.n} M={args.m} K={args.k} cv={args.cv}, "
          f"{int((~np.isnan(L)).sum())} annotations, "
          f"{int(np.isnan(L).all(axis=1).sum())} unlabeled rows")
    for r in range(args.repeat):
        CALLS.clear()
        clf = MultiAnnotatorClassifier(
            TimedLogisticRegression(max_iter=200), cv=args.cv, random_state=0
        )
        t, c = time.perf_counter(), time.process_time()
        clf.fit(X, L)
        total, total_cpu = time.perf_counter() - t, time.process_time() - c
        fit_t = sum(w for kind, w, _ in CALLS if kind == "fit")
        fit_c = sum(u for kind, _, u in CALLS if kind == "fit")
        n_fit = sum(1 for kind, _, _ in CALLS if kind == "fit")
        pp_t = sum(w for kind, w, _ in CALLS if kind == "predict_proba")
        pp_c = sum(u for kind, _, u in CALLS if kind == "predict_proba")
        n_pp = sum(1 for kind, _, _ in CALLS if kind == "predict_proba")
        own, own_c = total - fit_t - pp_t, total_cpu - fit_c - pp_c
        print(f"\nrun {r + 1}  (wall clock, and CPU time of this process: robust to other load)")
        print(f"  {'part':<38}{'wall s':>9}{'% fit':>8}{'CPU s':>9}{'% fit':>8}")
        for name, sec, cpu in [
            (f"inner fit ({n_fit} calls: {args.cv} folds + final)", fit_t, fit_c),
            (f"inner predict_proba ({n_pp} calls)", pp_t, pp_c),
            ("meta-estimator's own time", own, own_c),
            ("total fit", total, total_cpu),
        ]:
            print(f"  {name:<38}{sec:>9.3f}{100 * sec / total:>7.1f}%{cpu:>9.3f}{100 * cpu / total_cpu:>7.1f}%")
        # breakdown of the own time, measured by re-running the scoring steps
        from skactivelab import get_active_learning_scores, get_label_quality_multiannotator
        from skactivelab._annotations import check_annotations

        t = time.perf_counter()
        ann = check_annotations(L, require_labeled=False)
        t_parse = time.perf_counter() - t
        lab = clf.labeled_mask_
        P = clf.oof_pred_probs_[lab]
        ann_lab = ann.subset_examples(lab)
        t = time.perf_counter()
        get_label_quality_multiannotator(ann_lab, P, calibrate_probs=True, random_state=0)
        t_crowd = time.perf_counter() - t
        t = time.perf_counter()
        get_active_learning_scores(ann_lab, P, clf.oof_pred_probs_[~lab], random_state=0)
        t_al = time.perf_counter() - t
        print("  own time, re-measured by step:")
        for name, sec in [("parse annotations", t_parse), ("CROWDLAB (calibrated)", t_crowd),
                          ("ActiveLab scores", t_al)]:
            print(f"    {name:<36}{sec:>10.3f}{100 * sec / total:>9.1f}%")
        verdict = "OK" if max(own / total, own_c / total_cpu) < 0.05 else "OVER BUDGET"
        print(f"  own / total = {100 * own / total:.2f}% wall, {100 * own_c / total_cpu:.2f}% CPU "
              f"(budget 5%): {verdict}")


if __name__ == "__main__":
    main()
