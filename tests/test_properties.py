"""Property tests (hypothesis): ranges, invariances and no input modification.

Data sets are drawn as a handful of sizes plus a seed; the arrays come from NumPy.
pred_probs are continuous (softmax of Gaussian logits) so that majority-vote ties
are always resolved by pred_probs (docs/algorithms.md section 1, first tie-break) and argmax is unique:
with exact ties, the documented index-based tie-breaks (e.g. worst_class, lowest
class index) could legitimately make a class permutation change results.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from scipy.special import softmax

import skactivelab as sal

SETTINGS = settings(max_examples=50, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
TOL = dict(rtol=1e-9, atol=1e-12)


@st.composite
def datasets(draw, *, n_models=None, hard_zeros=False):
    """dict(labels (N, M) float with NaN, P (E, N, K), U (E, Nu, K), N, M, K, E)."""
    N = draw(st.integers(2, 40))
    M = draw(st.integers(1, 8))
    K = draw(st.integers(2, 6))
    E = draw(st.integers(2, 3)) if n_models is None else n_models
    Nu = draw(st.integers(0, 10))
    density = draw(st.floats(0.1, 1.0))
    accuracy = draw(st.floats(0.0, 1.0))
    n_present = draw(st.integers(1, K))  # classes that appear in the labels
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    present = rng.choice(K, size=n_present, replace=False)
    y = rng.choice(present, size=N)
    labels = np.where(rng.random((N, M)) < accuracy, y[:, None], rng.choice(present, size=(N, M)))
    labels = labels.astype(float)
    given_ = rng.random((N, M)) < density
    given_[np.arange(N), rng.integers(0, M, N)] = True  # every example labeled
    labels[~given_] = np.nan
    strength = rng.uniform(0, 4)
    scale = rng.uniform(0.2, 3)
    base = rng.normal(size=(N, K)) * scale + strength * np.eye(K)[y]
    P = softmax(base[None] + rng.normal(size=(E, N, K)) * 0.5 * (E > 1), axis=-1)
    U = softmax(rng.normal(size=(E, Nu, K)) * scale, axis=-1)
    if hard_zeros and draw(st.booleans()):
        P = np.where(rng.random(P.shape) < 0.3, 0.0, P)
        P[..., 0] += P.sum(axis=-1) == 0
        P /= P.sum(axis=-1, keepdims=True)
        U = np.where(rng.random(U.shape) < 0.3, 0.0, U)
        U[..., 0] += U.sum(axis=-1) == 0
        U /= U.sum(axis=-1, keepdims=True)
    return dict(labels=labels, P=P, U=U, N=N, M=M, K=K, E=E)


def _multi(d):
    return ((~np.isnan(d["labels"])).sum(axis=1) >= 2).any()


def _al(d, labels=None, P=None, U=None, **kw):
    labels = d["labels"] if labels is None else labels
    P = d["P"] if P is None else P
    U = d["U"] if U is None else U
    if d["E"] == 1:
        return sal.get_active_learning_scores(labels, P[0], U[0], **kw)
    return sal.get_active_learning_scores_ensemble(labels, P, U, **kw)


def _lq(d, labels=None, P=None, **kw):
    labels = d["labels"] if labels is None else labels
    P = d["P"] if P is None else P
    if d["E"] == 1:
        return sal.get_label_quality_multiannotator(labels, P[0], **kw)
    return sal.get_label_quality_multiannotator_ensemble(labels, P, **kw)


models = st.sampled_from([1, 1, 2, 3])

# --------------------------------------------------------------------------- ranges


@SETTINGS
@given(st.data())
def test_active_learning_scores_in_unit_interval(data):
    d = data.draw(datasets(n_models=data.draw(models), hard_zeros=True))
    s_lab, s_unl = _al(d)
    assert s_lab.shape == (d["N"],) and s_unl.shape == (d["U"].shape[1],)
    for s in (s_lab, s_unl):
        assert np.all(np.isfinite(s))
        assert np.all((s >= 0) & (s <= 1))


@SETTINGS
@given(st.data())
def test_crowdlab_qualities_in_unit_interval(data):
    d = data.draw(datasets(n_models=data.draw(models), hard_zeros=True))
    assume(_multi(d))
    calibrate = data.draw(st.booleans())
    res = _lq(d, calibrate_probs=calibrate)
    q = res.consensus_quality_score
    assert np.all(np.isfinite(q)) and np.all((q >= 0) & (q <= 1))
    # annotator quality is NaN exactly when the annotator shares no example with
    # another annotator (no label, or only single-annotated examples), as in cleanlab
    given_ = ~np.isnan(d["labels"])
    shares = (given_ & (given_.sum(axis=1) >= 2)[:, None]).any(axis=0)
    labeled = given_.any(axis=0)
    aq = res.annotator_quality
    assert np.all(np.isfinite(aq[shares]))
    assert np.all((aq[shares] >= 0) & (aq[shares] <= 1))
    assert np.all(np.isnan(aq[~shares]))
    if d["E"] == 1:
        agr = sal.get_label_quality_multiannotator(d["labels"], d["P"][0], quality_method="agreement")
        for v in (agr.consensus_quality_score, agr.annotator_quality[shares]):
            assert np.all((v >= 0) & (v <= 1))
    assert np.all(np.isnan(res.agreement_with_consensus[~labeled]))


# --------------------------------------------------------------------------- invariances


def _assert_same_lq(a, b, col_perm=None, row_perm=None):
    """b was computed on data with columns ``col_perm`` / rows ``row_perm`` of a's data."""
    rows = slice(None) if row_perm is None else row_perm
    cols = slice(None) if col_perm is None else col_perm
    np.testing.assert_array_equal(a.consensus_label[rows], b.consensus_label)
    np.testing.assert_allclose(a.consensus_quality_score[rows], b.consensus_quality_score, **TOL)
    np.testing.assert_allclose(a.annotator_agreement[rows], b.annotator_agreement, **TOL)
    np.testing.assert_allclose(a.post_pred_probs[rows], b.post_pred_probs, **TOL)
    np.testing.assert_allclose(a.detailed_label_quality[rows][:, cols], b.detailed_label_quality, **TOL)
    for name in ("annotator_quality", "agreement_with_consensus", "annotator_weights"):
        np.testing.assert_allclose(getattr(a, name)[cols], getattr(b, name), **TOL, err_msg=name)
    np.testing.assert_array_equal(a.worst_class[cols], b.worst_class)
    np.testing.assert_array_equal(a.num_examples_labeled[cols], b.num_examples_labeled)
    np.testing.assert_allclose(a.model_weight, b.model_weight, **TOL)


@SETTINGS
@given(st.data())
def test_invariant_to_permuting_annotator_columns(data):
    d = data.draw(datasets(n_models=data.draw(models)))
    perm = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1))).permutation(d["M"])
    L2 = d["labels"][:, perm]
    a, b = _al(d), _al(d, labels=L2)
    np.testing.assert_allclose(a[0], b[0], **TOL)
    np.testing.assert_allclose(a[1], b[1], **TOL)
    if _multi(d):
        calibrate = data.draw(st.booleans())
        _assert_same_lq(_lq(d, calibrate_probs=calibrate), _lq(d, labels=L2, calibrate_probs=calibrate),
                        col_perm=perm)


@SETTINGS
@given(st.data())
def test_invariant_to_permuting_examples(data):
    d = data.draw(datasets(n_models=data.draw(models)))
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    perm, perm_u = rng.permutation(d["N"]), rng.permutation(d["U"].shape[1])
    L2, P2, U2 = d["labels"][perm], d["P"][:, perm], d["U"][:, perm_u]
    a, b = _al(d), _al(d, labels=L2, P=P2, U=U2)
    np.testing.assert_allclose(a[0][perm], b[0], **TOL)
    np.testing.assert_allclose(a[1][perm_u], b[1], **TOL)
    if _multi(d):
        calibrate = data.draw(st.booleans())
        _assert_same_lq(_lq(d, calibrate_probs=calibrate), _lq(d, labels=L2, P=P2, calibrate_probs=calibrate),
                        row_perm=perm)
    mv = sal.get_majority_vote_label(d["labels"], d["P"][0])
    np.testing.assert_array_equal(mv[perm], sal.get_majority_vote_label(L2, d["P"][0][perm]))


def _as_names(labels, names):
    out = np.full(labels.shape, None, dtype=object)
    given_ = ~np.isnan(labels)
    out[given_] = names[labels[given_].astype(int)]
    return out


@SETTINGS
@given(st.data())
def test_invariant_to_renaming_classes(data):
    """Integer labels -> string names: identical results when pred_probs columns
    follow the sorted names, or any order given through ``classes``."""
    d = data.draw(datasets(n_models=data.draw(models)))
    K = d["K"]
    raw = data.draw(st.lists(st.text("abcxyz", min_size=1, max_size=4), min_size=K, max_size=K, unique=True))
    sorted_names = np.array(sorted(raw), dtype=object)
    a = _al(d)
    named = _as_names(d["labels"], sorted_names)
    all_present = np.unique(d["labels"][~np.isnan(d["labels"])]).size == K
    if all_present:
        b = _al(d, labels=named)
    else:
        # names of classes nobody used cannot be guessed: classes=[...] is required
        with pytest.raises(ValueError, match="classes"):
            _al(d, labels=named)
        b = _al(d, labels=named, classes=sorted_names)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    given_order = np.array(raw, dtype=object)  # column k of pred_probs is class raw[k]
    c = _al(d, labels=_as_names(d["labels"], given_order), classes=given_order)
    np.testing.assert_array_equal(a[0], c[0])
    np.testing.assert_array_equal(a[1], c[1])
    if _multi(d):
        r_int = _lq(d)
        r_str = _lq(d, labels=_as_names(d["labels"], given_order), classes=given_order)
        np.testing.assert_array_equal(given_order[r_int.consensus_label], r_str.consensus_label)
        np.testing.assert_array_equal(r_int.consensus_quality_score, r_str.consensus_quality_score)
        np.testing.assert_array_equal(r_int.annotator_quality, r_str.annotator_quality)
        labeled = r_int.worst_class >= 0
        np.testing.assert_array_equal(given_order[r_int.worst_class[labeled]], r_str.worst_class[labeled])
    mv_int = sal.get_majority_vote_label(d["labels"], d["P"][0])
    mv_str = sal.get_majority_vote_label(_as_names(d["labels"], given_order), d["P"][0], classes=given_order)
    np.testing.assert_array_equal(given_order[mv_int], mv_str)


@SETTINGS
@given(st.data())
def test_invariant_to_permuting_class_indices(data):
    """Relabel class k as perm[k] and move pred_probs column k to perm[k]."""
    d = data.draw(datasets(n_models=data.draw(models)))
    perm = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1))).permutation(d["K"])
    L = d["labels"]
    L2 = np.where(np.isnan(L), np.nan, perm[np.nan_to_num(L).astype(int)])
    P2, U2 = np.empty_like(d["P"]), np.empty_like(d["U"])
    P2[..., perm], U2[..., perm] = d["P"], d["U"]
    a, b = _al(d), _al(d, labels=L2, P=P2, U=U2)
    np.testing.assert_allclose(a[0], b[0], **TOL)
    np.testing.assert_allclose(a[1], b[1], **TOL)
    if _multi(d):
        calibrate = data.draw(st.booleans())
        ra, rb = _lq(d, calibrate_probs=calibrate), _lq(d, labels=L2, P=P2, calibrate_probs=calibrate)
        np.testing.assert_array_equal(perm[ra.consensus_label], rb.consensus_label)
        np.testing.assert_allclose(ra.consensus_quality_score, rb.consensus_quality_score, **TOL)
        np.testing.assert_allclose(ra.annotator_quality, rb.annotator_quality, **TOL)
        np.testing.assert_allclose(ra.model_weight, rb.model_weight, **TOL)
        np.testing.assert_allclose(ra.annotator_weights, rb.annotator_weights, **TOL)
        np.testing.assert_allclose(ra.post_pred_probs[:, np.argsort(perm)], rb.post_pred_probs, **TOL)
        # worst_class breaks its last tie by the smallest class index: not compared


# --------------------------------------------------------------------------- no side effects


@SETTINGS
@given(st.data())
def test_inputs_are_not_modified(data):
    pd = pytest.importorskip("pandas")
    d = data.draw(datasets(n_models=data.draw(models)))
    L, P, U = d["labels"], d["P"], d["U"]
    frame = pd.DataFrame(L, columns=[f"ann{j}" for j in range(d["M"])])
    names = np.array([f"class_{k}" for k in range(d["K"])], dtype=object)
    str_frame = pd.DataFrame(_as_names(L, names), columns=frame.columns)
    ex, an = np.nonzero(~np.isnan(L))
    long = pd.DataFrame({"task": ex, "annotator": an, "label": L[ex, an].astype(int)})
    originals = [L, P, U, frame, str_frame, long, names]
    copies = [o.copy() for o in originals]

    P0, U0 = (P[0], U[0]) if d["E"] == 1 else (P, U)
    ens = d["E"] > 1
    al = sal.get_active_learning_scores_ensemble if ens else sal.get_active_learning_scores
    for lab in (L, frame, str_frame, long):
        kw = {"classes": names} if lab is str_frame else {}
        al(lab, P0, U0, **kw)
        if _multi(d):
            if ens:
                sal.get_label_quality_multiannotator_ensemble(lab, P0, calibrate_probs=True, **kw)
            else:
                sal.get_label_quality_multiannotator(
                    lab, P0, calibrate_probs=True, consensus_method=["best_quality", "majority_vote"], **kw
                )
        sal.get_majority_vote_label(lab, P[0], **kw)
        sal.get_majority_vote_label(lab, **kw)
        sal.find_best_temperature(P[0], lab, **kw)
    al(pred_probs_unlabeled=U0)
    sal.temp_scale_pred_probs(P0, 2.0)
    sal.wide_to_long(L)
    sal.wide_to_long(frame)
    sal.long_to_wide(long)

    for o, c in zip(originals, copies):
        if isinstance(o, np.ndarray):
            assert o.dtype == c.dtype
            np.testing.assert_array_equal(o, c)
        else:
            pd.testing.assert_frame_equal(o, c)
