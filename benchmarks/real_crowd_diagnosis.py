"""Why plain ActiveLab trails random selection on the music genre crowd: round 0 -> 1.

For each seed, runs round 0 and the first batch of ``random`` and ``activelab``
(logistic regression, the replay protocol of ``real_crowd.py``) and measures:

* round 0: accuracy and mean top probability of the out-of-fold predictions; how
  many of ActiveLab's first picks are re-labels; how often the re-labeled
  example's single label was wrong;
* after the first batch, on the multiply-labeled examples (the only ones CROWDLAB
  learns its weights from): their share of two-label ties (which the majority vote
  breaks with the model's probabilities, so the model "agrees" with the consensus
  it is then measured against), the model's error against that consensus and
  against the truth, CROWDLAB's weights;
* counterfactual: the consensus of ActiveLab's labels with CROWDLAB's weights
  learned from the random picks of the same seed (same model), and with the
  likelihood-fitted weights of the one-coin EM reference model (``em_reference.py``).

    nice python benchmarks/real_crowd_diagnosis.py --data path/to/music_genre --seeds 12
"""

from __future__ import annotations

import argparse

import numpy as np

import skactivelab.simulation as S
from skactivelab.simulation import protocol
from skactivelab._annotations import check_annotations
from em_reference import em_fit  # beside this file
from skactivelab._kernels import label_counts, temp_scale
from skactivelab.crowdlab import get_label_quality_multiannotator
from skactivelab.datasets import load_music_genre


def posterior_with(ex, ann, lab, P, w_M, w, p_agree):
    """CROWDLAB's posterior (its section 2.7 formula) with given weights."""
    N, K = P.shape
    p_other = (1 - p_agree) / (K - 1)
    num = w_M * P
    num = num + np.bincount(ex, weights=w[ann] * p_other, minlength=N)[:, None]
    np.add.at(num, (ex, lab), w[ann] * (p_agree - p_other))
    den = w_M + np.bincount(ex, weights=w[ann], minlength=N)
    return num / den[:, None]


def capture(task, method, seed):
    """Run one round of ``method``, spying on the harness's steps (consensus, scores, folds)."""
    got = {}
    orig_c, orig_s, orig_cv = protocol._consensus, protocol._method_scores, protocol._cross_val

    def spy_c(ex, ann, lab, P, rs, use, crowd=None):
        got.setdefault("cons", []).append((ex.copy(), ann.copy(), lab.copy(), None if P is None else P[0].copy()))
        return orig_c(ex, ann, lab, P, rs, use, crowd)

    def spy_s(strategy, n_per, P, U, triples, rng):
        out = orig_s(strategy, n_per, P, U, triples, rng)
        if method.startswith("activelab") and "scores0" not in got:  # round 0: labeled and pool scores
            got["scores0"] = (triples, P.copy(), U.copy(), (out[n_per > 0], out[n_per == 0]))
        return out

    def spy_cv(models, X_lab, *args):
        got.setdefault("X_lab", []).append(X_lab.copy())
        return orig_cv(models, X_lab, *args)

    protocol._consensus, protocol._method_scores, protocol._cross_val = spy_c, spy_s, spy_cv
    try:
        rec = S.run_method(task, method, model="logreg", n_rounds=1, batch_size=50,
                           random_state=np.random.SeedSequence([seed, S.METHODS.index(method)]), details=True)
    finally:
        protocol._consensus, protocol._method_scores, protocol._cross_val = orig_c, orig_s, orig_cv
    return got, rec


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", required=True)
    p.add_argument("--seeds", type=int, default=12)
    p.add_argument("--first-seed", type=int, default=0)
    a = p.parse_args(argv)
    crowd = load_music_genre(a.data)
    rows = []
    for seed in range(a.first_seed, a.first_seed + a.seeds):
        task = S.make_replay_task(crowd.annotations, crowd.target, crowd.data, crowd.data_test, crowd.target_test,
                                  n_initial=350, random_state=seed)
        r = {}
        for method in ("random", "activelab"):
            got, rec = capture(task, method, seed)
            ex, ann, lab, P = got["cons"][1]  # after the first batch, with round 0's predictions
            n_per = np.bincount(ex)
            res = get_label_quality_multiannotator((ex, ann, lab), P, calibrate_probs=True, random_state=0)
            multi = n_per > 1
            A = check_annotations((ex, ann, lab), n_examples=P.shape[0], n_classes=P.shape[1])
            cnt = label_counts(A)
            tie = multi & ((cnt == cnt.max(axis=1, keepdims=True)).sum(axis=1) > 1)
            # task rows of round 1's labeled rows, matched by their feature rows
            pos = {row.tobytes(): i for i, row in enumerate(task.X_train)}
            rows_1 = np.array([pos[row.tobytes()] for row in got["X_lab"][1]])
            r[method] = dict(res=res, ex=ex, ann=ann, lab=lab, P=P, multi=multi, tie=tie, rec=rec, got=got,
                             y=task.y_train[rows_1])
        rows.append((seed, task, r))
    report(rows)


def report(rows):
    out = {"random": [], "activelab": []}
    for seed, task, r in rows:
        for method, d in r.items():
            ex, ann, lab, P, res = d["ex"], d["ann"], d["lab"], d["P"], d["res"]
            labels0, P0, U0, (s_lab0, s_unl0) = d["got"]["scores0"] if "scores0" in d["got"] else (None,) * 3 + ((None, None),)
            # local rows of round 1 -> task rows: rows labeled after the batch, sorted
            n_lab_rows = P.shape[0]
            y = d["y"]
            cons = np.asarray(res.consensus_label)
            multi, tie = d["multi"], d["tie"]
            mv_model = np.argmax(P, axis=1)
            single = ~multi
            first = np.full(n_lab_rows, -1)
            first[ex[single[ex]]] = lab[single[ex]]
            over = single & (cons != first)
            row = dict(
                relabel_share_batch1=float(d["rec"]["batch_relabel_share"][0]),
                multi_rows=int(multi.sum()),
                tie_share_multi=float(tie[multi].mean()),
                model_err_vs_consensus_multi=float(np.mean(mv_model[multi] != cons[multi])),
                model_err_vs_truth_multi=float(np.mean(mv_model[multi] != y[multi])),
                model_err_vs_truth_all=float(np.mean(mv_model != y)),
                model_weight=float(res.model_weight),
                mean_annotator_weight=float(np.nanmean(res.annotator_weights)),
                overrides=int(over.sum()),
                overrides_right=float(np.mean(cons[over] == y[over])) if over.any() else np.nan,
                overridden_label_right=float(np.mean(first[over] == y[over])) if over.any() else np.nan,
                consensus_acc=float(np.mean(cons == y)),
                label_right_multi_first=float(np.mean(lab[np.isin(ex, np.flatnonzero(multi))] ==
                                                      y[ex[np.isin(ex, np.flatnonzero(multi))]])),
            )
            if s_lab0 is not None:
                Pl = P0 if P0.ndim == 2 else P0[0]
                row["r0_model_acc_labeled"] = float(np.mean(Pl.argmax(1) == task.y_train[np.sort(task.init_example)]))
                row["r0_mean_top_prob"] = float(Pl.max(1).mean())
                row["r0_labeled_below_all_unlabeled"] = float(np.mean(s_lab0 < s_unl0.min()))
            out[method].append(row)
        # counterfactual: ActiveLab's labels, CROWDLAB weights from the random picks
        al, rd = r["activelab"], r["random"]
        res_r = rd["res"]
        w = np.asarray(res_r.annotator_weights, dtype=float)
        w = np.where(np.isnan(w), np.nanmean(w), w)
        ids = np.asarray(res_r.annotator_ids)
        w_full = np.full(task.n_annotators, np.nanmean(w))
        w_full[ids] = w
        # ActiveLab's labels and calibrated P, the random run's weights and p_agree
        p_agree = float(np.mean(np.asarray(res_r.annotator_agreement)[rd["multi"]]))
        T = al["res"].temperature
        P_cal = al["P"] if T is None else temp_scale(al["P"], float(np.ravel(T)[0]))
        post = posterior_with(al["ex"], al["ann"], al["lab"], P_cal, float(res_r.model_weight), w_full, p_agree)
        out["activelab"][-1]["cf_consensus_acc_random_weights"] = float(np.mean(post.argmax(1) == al["y"]))
        fit = em_fit(check_annotations((al["ex"], al["ann"], al["lab"]), n_examples=al["P"].shape[0],
                                       n_classes=al["P"].shape[1]), al["P"][None])
        out["activelab"][-1]["cf_consensus_acc_em"] = float(np.mean(fit["post"].argmax(1) == al["y"]))
        fit_r = em_fit(check_annotations((rd["ex"], rd["ann"], rd["lab"]), n_examples=rd["P"].shape[0],
                                         n_classes=rd["P"].shape[1]), rd["P"][None])
        out["random"][-1]["cf_consensus_acc_em"] = float(np.mean(fit_r["post"].argmax(1) == rd["y"]))
    names = list(dict.fromkeys(k for m in out for row in out[m] for k in row))
    print(f"| quantity (mean ± se over {len(rows)} seeds) | random | activelab |")
    print("|---|---|---|")
    for k in names:
        cells = []
        for m in ("random", "activelab"):
            v = np.array([row.get(k, np.nan) for row in out[m]], dtype=float)
            v = v[~np.isnan(v)]
            se = f" ± {v.std(ddof=1) / np.sqrt(v.size):.3f}" if v.size > 1 else ""
            cells.append(f"{v.mean():.3f}{se}" if v.size else "-")
        print(f"| {k} | {cells[0]} | {cells[1]} |")


if __name__ == "__main__":
    main()
