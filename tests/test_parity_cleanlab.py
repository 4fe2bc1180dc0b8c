"""Parity of skactivelab with cleanlab 2.9.0 (black-box oracle, see conftest.py).

Every case is generated deterministically from its seed. The oracle is cleanlab
with its label-counting bug fixed (docs/switching_from_cleanlab.md, "The
label-counting bug"); outputs must agree to
1e-10 (labels and counts exactly).

cleanlab breaks majority-vote ties it cannot otherwise resolve with the global
NumPy RNG (docs/algorithms.md section 1, last step). Those cases are avoided: pred_probs are
continuous (softmax of Gaussian logits), so step 1 resolves every tie, and
``unresolved_ties`` (steps 1-3, written here from the spec) double-checks it;
a case with an unresolved tie is skipped (and counted), or for majority votes
without pred_probs only the affected examples are left out of the comparison.

Documented differences that are *not* compared:
* with a list of consensus methods, cleanlab returns the weights of the LAST
  method next to the statistics of the FIRST; skactivelab returns the weights of
  the first method (the one that defines all statistics). Weights are compared
  in the single-method runs instead.
* cleanlab modifies the caller's arrays in the ensemble functions; skactivelab
  never does (tested below).
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import softmax

import skactivelab as sal

ATOL = 1e-10

# --------------------------------------------------------------------------- generation


def make_case(seed, *, N=None, M=None, K=None, labels_per_example=None, single=False,
              all_agree=False, missing_classes=None, n_models=1, n_unlabeled=None):
    """A deterministic random multi-annotator data set.

    Returns a dict with ``labels`` (N, M) float with NaN, ``P`` (n_models, N, K),
    ``U`` (n_models, Nu, K) and the drawn parameters. Annotator columns that end
    up empty are dropped (cleanlab rejects them), so M may shrink.
    """
    rng = np.random.default_rng(seed)
    if N is None:
        N = int(np.exp(rng.uniform(np.log(20), np.log(200))))
    if M is None:
        M = int(np.exp(rng.uniform(np.log(2), np.log(50.99))))  # M == 1 only when asked
    if K is None:
        K = int(rng.integers(2, 21))
    if labels_per_example is None:
        hi = int(rng.integers(2, 6))  # single-annotated data sets only when asked (or M == 1)
        lo = int(rng.integers(1, hi + 1))
    else:
        lo, hi = labels_per_example
    if single:
        lo = hi = 1
    hi = min(hi, M)
    lo = min(lo, hi)
    if missing_classes is None:
        missing_classes = rng.random() < 0.3
    present = np.arange(K)
    if missing_classes:
        n_present = int(rng.integers(1, K)) if K > 2 else 1
        present = np.sort(rng.choice(K, size=n_present, replace=False))
    y = rng.choice(present, size=N)
    acc = rng.uniform(0.2, 0.99, size=M)
    n_labels = rng.integers(lo, hi + 1, size=N)
    ranks = np.argsort(rng.random((N, M)), axis=1).argsort(axis=1)
    given = ranks < n_labels[:, None]
    correct = rng.random((N, M)) < acc
    if all_agree or len(present) == 1:
        correct[:] = True
    # a wrong label: uniform over the other present classes
    pos_y = np.searchsorted(present, y)
    shift = rng.integers(1, max(len(present), 2), size=(N, M))
    wrong = present[(pos_y[:, None] + shift) % len(present)]
    labels = np.where(correct, y[:, None], wrong).astype(float)
    labels[~given] = np.nan
    labels = labels[:, given.any(axis=0)]
    strength = rng.uniform(0.0, 3.0)
    scale = rng.uniform(0.3, 2.0)
    base = rng.normal(size=(N, K)) * scale + strength * np.eye(K)[y]
    P = softmax(base[None] + rng.normal(size=(n_models, N, K)) * 0.7 * (n_models > 1), axis=-1)
    if n_unlabeled is None:
        n_unlabeled = int(rng.integers(1, N + 1))
    Ubase = rng.normal(size=(n_unlabeled, K)) * scale + strength * np.eye(K)[rng.integers(0, K, n_unlabeled)]
    U = softmax(Ubase[None] + rng.normal(size=(n_models, n_unlabeled, K)) * 0.7 * (n_models > 1), axis=-1)
    return dict(labels=labels, P=P, U=U, N=N, M=labels.shape[1], K=K,
                single=bool((~np.isnan(labels)).sum(axis=1).max() == 1))


def unresolved_ties(labels, P=None, atol=1e-9):
    """Boolean mask of examples whose majority-vote tie survives spec 1 steps 1-3.

    Written from the spec (not from cleanlab): step 1 highest P, step 2 lowest
    dataset-wide count, step 3 highest mean trust of the annotators who chose the
    class. Near-equal floats count as ties, so the check errs on the safe side.
    """
    given = ~np.isnan(labels)
    L = np.where(given, labels, 0).astype(int)
    K = P.shape[1] if P is not None else int(L[given].max()) + 1
    N, M = labels.shape
    count = np.zeros((N, K))
    rows, cols = np.nonzero(given)
    np.add.at(count, (rows, L[rows, cols]), 1)
    cand = count == count.max(axis=1, keepdims=True)
    unique = cand.sum(axis=1) == 1
    mv0 = np.argmax(count, axis=1)

    def keep_best(cand, values, largest):
        v = np.where(cand, values, -np.inf if largest else np.inf)
        best = v.max(axis=1, keepdims=True) if largest else v.min(axis=1, keepdims=True)
        return cand & (np.abs(v - best) <= atol)

    if P is not None:
        cand = keep_best(cand, P, largest=True)
    cand = keep_best(cand, np.broadcast_to(count.sum(axis=0), cand.shape), largest=False)
    if (cand.sum(axis=1) > 1).any():
        hit = given & (L == mv0[:, None]) & unique[:, None]
        denom = (given & unique[:, None]).sum(axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            agree = np.where(denom > 0, hit.sum(axis=0) / np.maximum(denom, 1), np.nan)
        if np.isnan(agree).all():
            return cand.sum(axis=1) > 1
        agree = np.where(np.isnan(agree), np.nanmean(agree), agree)
        trust = np.full((N, K), -np.inf)
        for k in range(K):
            chose = given & (L == k)
            n = chose.sum(axis=1)
            with np.errstate(invalid="ignore", divide="ignore"):
                trust[:, k] = np.where(n > 0, (chose * agree).sum(axis=1) / np.maximum(n, 1), -np.inf)
        cand = keep_best(cand, trust, largest=True)
    return cand.sum(axis=1) > 1


def skip_if_random_tie(oracle, case, P):
    if unresolved_ties(case["labels"], P).any():
        oracle.counts["cases skipped (random tie-break)"] += 1
        pytest.skip("majority vote would reach cleanlab's random tie-break")


def close(ours, theirs, what):
    ours = np.asarray(ours, dtype=float)
    theirs = np.asarray(theirs, dtype=float)
    assert ours.shape == theirs.shape, (what, ours.shape, theirs.shape)
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=ATOL, equal_nan=True, err_msg=what)


# --------------------------------------------------------------------------- case lists

def _special(i):
    """Deterministic coverage of the corner cases by case index."""
    r = i % 10
    return dict(single=r == 0, all_agree=r == 1, missing_classes=True if r in (2, 3) else None,
                M=1 if r == 4 and i % 20 == 4 else None)


AL_CASES = list(range(100))
AL_LARGE = {  # a few large cases (cleanlab takes ~1 s on these)
    7: dict(N=2000, M=50, K=10, labels_per_example=(1, 3)),
    17: dict(N=2000, M=30, K=20, labels_per_example=(1, 5), missing_classes=True),
    27: dict(N=1000, M=10, K=3),
    37: dict(N=600, M=50, K=2),
    47: dict(N=2000, M=5, K=5, single=True),
}
AL_UNLABELED_ONLY = (8, 58)


@pytest.mark.parametrize("i", AL_CASES)
def test_active_learning_scores(oracle, i):
    kw = _special(i)
    kw.update(AL_LARGE.get(i, {}))
    case = make_case(10_000 + i, **kw)
    P, U = case["P"][0], case["U"][0]
    if i in AL_UNLABELED_ONLY:
        ours = sal.get_active_learning_scores(pred_probs_unlabeled=U)
        theirs = oracle.get_active_learning_scores(pred_probs_unlabeled=U)
    else:
        skip_if_random_tie(oracle, case, P)
        if i % 7 == 6:  # labeled only
            U = None
        ours = sal.get_active_learning_scores(case["labels"], P, U)
        theirs = oracle.get_active_learning_scores(case["labels"], P, U)
    close(ours[0], theirs[0], "scores_labeled")
    close(ours[1], theirs[1], "scores_unlabeled")
    oracle.counts["get_active_learning_scores"] += 1
    if case["single"] and i not in AL_UNLABELED_ONLY:
        oracle.counts["  of which every example single-annotated"] += 1


@pytest.mark.parametrize("i", range(40))
def test_active_learning_scores_ensemble(oracle, i):
    kw = _special(i)
    if i == 9:
        kw.update(N=1000, M=20, K=6)
    E = 2 + i % 3
    case = make_case(20_000 + i, n_models=E, **kw)
    P, U = case["P"], case["U"]
    if i == 8:
        ours = sal.get_active_learning_scores_ensemble(pred_probs_unlabeled=U)
        theirs = oracle.get_active_learning_scores_ensemble(pred_probs_unlabeled=U)
    else:
        skip_if_random_tie(oracle, case, P.mean(axis=0))
        ours = sal.get_active_learning_scores_ensemble(case["labels"], P, U)
        theirs = oracle.get_active_learning_scores_ensemble(case["labels"], P, U)
    close(ours[0], theirs[0], "scores_labeled")
    close(ours[1], theirs[1], "scores_unlabeled")
    oracle.counts["get_active_learning_scores_ensemble"] += 1


def check_label_quality(ours, theirs, *, weights):
    lq = theirs["label_quality"]
    np.testing.assert_array_equal(ours.consensus_label, lq["consensus_label"].to_numpy())
    close(ours.consensus_quality_score, lq["consensus_quality_score"], "consensus_quality_score")
    close(ours.annotator_agreement, lq["annotator_agreement"], "annotator_agreement")
    np.testing.assert_array_equal(ours.num_annotations, lq["num_annotations"].to_numpy())
    close(ours.detailed_label_quality, theirs["detailed_label_quality"].to_numpy(), "detailed_label_quality")
    # cleanlab sorts annotator_stats by quality; ours is in annotator column order
    stats = theirs["annotator_stats"].reindex(ours.annotator_ids)
    close(ours.annotator_quality, stats["annotator_quality"], "annotator_quality")
    close(ours.agreement_with_consensus, stats["agreement_with_consensus"], "agreement_with_consensus")
    np.testing.assert_array_equal(np.asarray(ours.worst_class, dtype=int), stats["worst_class"].to_numpy(dtype=int))
    np.testing.assert_array_equal(ours.num_examples_labeled, stats["num_examples_labeled"].to_numpy())
    if weights:
        close(ours.model_weight, theirs["model_weight"], "model_weight")
        close(ours.annotator_weights, theirs["annotator_weight"], "annotator_weights")


LQ_CONFIGS = [
    dict(consensus_method="best_quality"),
    dict(consensus_method="majority_vote"),
    dict(consensus_method="best_quality", calibrate_probs=True),
    dict(consensus_method="majority_vote", calibrate_probs=True),
    dict(consensus_method="best_quality", quality_method="agreement"),
    dict(consensus_method=["best_quality", "majority_vote"]),
    dict(consensus_method=["majority_vote", "best_quality"], calibrate_probs=True),
]
LQ_LARGE = {5: dict(N=2000, M=40, K=8, labels_per_example=(1, 4)), 15: dict(N=800, M=3, K=12)}


@pytest.mark.parametrize("i", range(60))
def test_label_quality_multiannotator(oracle, i):
    kw = _special(i)
    kw["single"] = False
    kw.update(LQ_LARGE.get(i, {}))
    if kw.get("M") == 1:
        kw["M"] = 2
    case = make_case(30_000 + i, **kw)
    if case["single"]:
        # every example single-annotated: cleanlab and skactivelab both refuse
        with pytest.raises(ValueError):
            sal.get_label_quality_multiannotator(case["labels"], case["P"][0])
        with pytest.raises(ValueError):
            oracle.get_label_quality_multiannotator(case["labels"], case["P"][0])
        oracle.counts["get_label_quality_multiannotator (both raise)"] += 1
        return
    P = case["P"][0]
    skip_if_random_tie(oracle, case, P)
    # three of the seven configurations per case, rotating, to keep the runtime down
    configs = [LQ_CONFIGS[(i + 2 * r) % len(LQ_CONFIGS)] for r in range(3 if i not in LQ_LARGE else 1)]
    for cfg in configs:
        methods = cfg["consensus_method"]
        weights = cfg.get("quality_method", "crowdlab") == "crowdlab" and isinstance(methods, str)
        ours = sal.get_label_quality_multiannotator(case["labels"], P, **cfg)
        theirs = oracle.get_label_quality_multiannotator(case["labels"], P, return_weights=weights, **cfg)
        check_label_quality(ours, theirs, weights=weights)
        if not isinstance(methods, str):
            lq = theirs["label_quality"]
            by = ours.consensus_by_method
            np.testing.assert_array_equal(by[methods[0]]["consensus_label"], lq["consensus_label"])
            for m in methods[1:]:
                np.testing.assert_array_equal(by[m]["consensus_label"], lq[f"consensus_label_{m}"])
                for col in ("consensus_quality_score", "annotator_agreement"):
                    close(by[m][col], lq[f"{col}_{m}"], f"{col}_{m}")
        oracle.counts["get_label_quality_multiannotator"] += 1
        oracle.counts["  " + ", ".join(f"{k}={v}" for k, v in cfg.items())] += 1


@pytest.mark.parametrize("i", range(25))
def test_label_quality_multiannotator_ensemble(oracle, i):
    kw = _special(i)
    kw["single"] = i == 0
    if kw.get("M") == 1:
        kw["M"] = 3
    E = 2 + i % 3
    case = make_case(40_000 + i, n_models=E, **kw)
    P = case["P"]
    if case["single"]:
        with pytest.raises(ValueError):
            sal.get_label_quality_multiannotator_ensemble(case["labels"], P)
        with pytest.raises(ValueError):
            oracle.get_label_quality_multiannotator_ensemble(case["labels"], P)
        oracle.counts["get_label_quality_multiannotator_ensemble (both raise)"] += 1
        return
    skip_if_random_tie(oracle, case, P.mean(axis=0))
    for calibrate in (False, True):
        ours = sal.get_label_quality_multiannotator_ensemble(case["labels"], P, calibrate_probs=calibrate)
        theirs = oracle.get_label_quality_multiannotator_ensemble(
            case["labels"], P, calibrate_probs=calibrate, return_weights=True
        )
        check_label_quality(ours, theirs, weights=True)
        oracle.counts["get_label_quality_multiannotator_ensemble"] += 1


@pytest.mark.parametrize("i", range(60))
def test_majority_vote_label(oracle, i):
    kw = _special(i)
    case = make_case(50_000 + i, **kw)
    labels, P = case["labels"], case["P"][0]
    if unresolved_ties(labels, P).any():
        oracle.counts["cases skipped (random tie-break)"] += 1
    else:
        np.testing.assert_array_equal(
            sal.get_majority_vote_label(labels, P), oracle.get_majority_vote_label(labels, P)
        )
        oracle.counts["get_majority_vote_label (pred_probs)"] += 1
    # without pred_probs ties are common: leave out only the examples that reach step 4
    ok = ~unresolved_ties(labels)
    ours = sal.get_majority_vote_label(labels)
    theirs = oracle.get_majority_vote_label(labels)
    np.testing.assert_array_equal(ours[ok], theirs[ok])
    oracle.counts["get_majority_vote_label (no pred_probs)"] += 1
    oracle.counts["  examples left out (random tie-break)"] += int((~ok).sum())
    oracle.counts["  examples compared"] += int(ok.sum())


# --------------------------------------------------------------------------- cleanlab's label-counting bug


def test_unfixed_cleanlab_differs_when_a_class_is_missing(oracle, monkeypatch):
    """Expected difference (the label-counting bug): cleanlab's own value_counts counts the
    classes present into columns 0, 1, ..., so calibration, hence ActiveLab, moves
    when a class never appears in the labels. With the fix they agree."""
    rng = np.random.default_rng(7)
    N, K = 200, 4
    y = rng.choice([1, 3], size=N)  # classes 0 and 2 never labeled
    labels = np.tile(y[:, None], (1, 3)).astype(float)
    flip = rng.random(labels.shape) < 0.2
    labels[flip] = np.where(labels[flip] == 1, 3, 1)
    labels[rng.random(labels.shape) < 0.4] = np.nan
    labels[np.isnan(labels).all(axis=1), 0] = y[np.isnan(labels).all(axis=1)]
    P = softmax(rng.normal(size=(N, K)) + 2 * np.eye(K)[y], axis=-1)
    ours = sal.get_active_learning_scores(labels, P)[0]
    close(ours, oracle.get_active_learning_scores(labels, P)[0], "fixed oracle")
    monkeypatch.setattr(oracle.utils_module, "value_counts", oracle.original_value_counts)
    monkeypatch.setattr(oracle.module, "value_counts", oracle.original_value_counts, raising=False)
    unfixed = oracle.get_active_learning_scores(labels, P)[0]
    assert np.abs(ours - unfixed).max() > 1e-3


def test_cleanlab_ensemble_mutates_inputs_ours_does_not(oracle):
    case = make_case(60_000, N=40, M=4, K=3, labels_per_example=(1, 3), n_models=2, n_unlabeled=10)
    labels, P, U = case["labels"], case["P"], case["U"]
    fn = oracle.module.get_active_learning_scores_ensemble
    P_cl, U_cl = P.copy(), U.copy()
    oracle.quiet(fn, labels.copy(), P_cl, U_cl)
    assert not (np.array_equal(P_cl, P) and np.array_equal(U_cl, U)), "cleanlab no longer mutates"
    P_cl = P.copy()
    oracle.quiet(oracle.module.get_label_quality_multiannotator_ensemble, labels.copy(), P_cl,
                 calibrate_probs=True, verbose=False)
    assert not np.array_equal(P_cl, P), "cleanlab no longer mutates"

    L0, P0, U0 = labels.copy(), P.copy(), U.copy()
    sal.get_active_learning_scores_ensemble(labels, P, U)
    sal.get_label_quality_multiannotator_ensemble(labels, P, calibrate_probs=True)
    np.testing.assert_array_equal(labels, L0)
    np.testing.assert_array_equal(P, P0)
    np.testing.assert_array_equal(U, U0)
