"""Every annotation format gives the same answer; bad input gets a clear error."""

import numpy as np
import pytest
import scipy.sparse as sp

import skactivelab as sk
from skactivelab._annotations import check_annotations

pd = pytest.importorskip("pandas")


def _case(seed=0, n=40, m=5, k=3):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, k, n)
    L = np.where(rng.random((n, m)) < 0.8, y[:, None], rng.integers(0, k, (n, m))).astype(float)
    L[rng.random((n, m)) < 0.5] = np.nan
    L[np.isnan(L).all(axis=1), 0] = 0  # every row labeled
    P = rng.dirichlet(np.ones(k), n)
    U = rng.dirichlet(np.ones(k), 7)
    return L, P, U


def _formats(L):
    """The same annotations in every accepted format."""
    rows, cols = np.nonzero(~np.isnan(L))
    vals = L[rows, cols].astype(int)
    Li = np.where(np.isnan(L), -1, L).astype(int)
    coo = sp.coo_matrix((vals, (rows, cols)), shape=L.shape)
    df_wide = pd.DataFrame(L, columns=[f"a{j}" for j in range(L.shape[1])])
    df_na = pd.DataFrame(Li).replace(-1, pd.NA).astype("Int64")
    return {
        "float_nan": L,
        "int_minus1": Li,
        "float_minus1": np.where(np.isnan(L), -1.0, L),
        "dataframe": df_wide,
        "dataframe_pd_na": df_na,
        "long_task_annotator": pd.DataFrame({"task": rows, "annotator": cols, "label": vals}),
        "long_task_worker": pd.DataFrame({"task": rows, "worker": cols, "label": vals}),
        "long_tuple": (rows, cols, vals),
        "sparse_coo": coo,
        "sparse_csr": coo.tocsr(),
        "object_none": np.where(np.isnan(L), None, Li.astype(object)),
    }


FORMATS = list(_formats(_case()[0]))


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_gives_identical_results(fmt):
    L, P, U = _case()
    ref_lab, ref_unl = sk.get_active_learning_scores(L, P, U)
    data = _formats(L)[fmt]
    lab, unl = sk.get_active_learning_scores(data, P, U)
    np.testing.assert_array_equal(lab, ref_lab)
    np.testing.assert_array_equal(unl, ref_unl)
    ref = sk.get_label_quality_multiannotator(L, P)
    res = sk.get_label_quality_multiannotator(data, P)
    np.testing.assert_array_equal(res.consensus_label, ref.consensus_label)
    np.testing.assert_array_equal(res.consensus_quality_score, ref.consensus_quality_score)
    np.testing.assert_array_equal(res.annotator_quality, ref.annotator_quality)
    np.testing.assert_array_equal(sk.get_majority_vote_label(data, P), sk.get_majority_vote_label(L, P))


def test_string_labels_and_annotator_ids_round_trip():
    L, P, _ = _case(seed=3)
    names = np.array(["cat", "dog", "eel"])  # sorted, so column k is names[k]
    Ls = pd.DataFrame(
        np.where(np.isnan(L), None, names[np.nan_to_num(L).astype(int)]),
        columns=["zoe", "amy", "bob", "kim", "lee"],
    )
    res = sk.get_label_quality_multiannotator(Ls, P)
    ref = sk.get_label_quality_multiannotator(L, P)
    np.testing.assert_array_equal(res.consensus_label, names[ref.consensus_label])
    np.testing.assert_array_equal(res.annotator_ids, ["zoe", "amy", "bob", "kim", "lee"])
    np.testing.assert_array_equal(res.worst_class, names[ref.worst_class])
    np.testing.assert_allclose(res.annotator_quality, ref.annotator_quality, rtol=0, atol=0)
    stats = res.annotator_stats_frame(sort=False)
    assert list(stats.index) == ["zoe", "amy", "bob", "kim", "lee"]
    assert set(stats["worst_class"]) <= set(names)


def test_classes_argument_sets_column_order():
    # Labels "b"/"a" with pred_probs columns in the order ["b", "a"].
    L = np.array([["b", "b"], ["a", "b"], ["a", "a"], ["b", None]], dtype=object)
    P = np.array([[0.9, 0.1], [0.6, 0.4], [0.2, 0.8], [0.7, 0.3]])
    res = sk.get_label_quality_multiannotator(L, P, classes=["b", "a"])
    assert res.consensus_label.tolist() == ["b", "b", "a", "b"]
    # Hand check of one posterior (spec 2.7): row 0 both annotators chose column 0.
    post = res.post_pred_probs
    np.testing.assert_allclose(post.sum(axis=1), 1.0)


def test_long_wide_helpers_round_trip():
    L, _, _ = _case(seed=5)
    ex, ann, lab = sk.wide_to_long(L)
    wide = sk.long_to_wide((ex, ann, lab))
    np.testing.assert_array_equal(wide, L)
    df_long = sk.wide_to_long(pd.DataFrame(L, columns=list("abcde")))
    assert list(df_long.columns) == ["task", "annotator", "label"]
    back = sk.long_to_wide(df_long)
    np.testing.assert_array_equal(back.to_numpy(dtype=float), L)
    assert list(back.columns) == list("abcde")


def test_long_format_string_example_ids_first_appearance():
    df = pd.DataFrame(
        {"task": ["x2", "x1", "x1"], "worker": ["w1", "w1", "w2"], "label": ["no", "yes", "no"]}
    )
    wide = sk.long_to_wide(df)
    assert list(wide.index) == ["x2", "x1"]  # order of first appearance, never sorted
    assert wide.loc["x1", "w2"] == "no" and wide.loc["x2", "w1"] == "no"
    assert pd.isna(wide.loc["x2", "w2"])


def test_duplicate_long_pairs_same_label_are_merged():
    ann = check_annotations(([0, 0, 1], [3, 3, 3], [1, 1, 0]))
    assert ann.n_annotations == 2


def test_empty_annotator_column_carries_no_information():
    L, P, U = _case(seed=7)
    L_extra = np.column_stack([L, np.full(L.shape[0], np.nan)])
    res = sk.get_label_quality_multiannotator(L_extra, P)
    ref = sk.get_label_quality_multiannotator(L, P)
    np.testing.assert_array_equal(res.consensus_label, ref.consensus_label)
    np.testing.assert_allclose(res.consensus_quality_score, ref.consensus_quality_score, rtol=0, atol=1e-15)
    assert np.isnan(res.annotator_quality[-1]) and np.isnan(res.annotator_weights[-1])
    assert res.num_examples_labeled[-1] == 0
    a = sk.get_active_learning_scores(L_extra, P, U)
    b = sk.get_active_learning_scores(L, P, U)
    np.testing.assert_allclose(a[0], b[0], rtol=0, atol=1e-15)
    np.testing.assert_allclose(a[1], b[1], rtol=0, atol=1e-15)


def test_hand_computed_single_annotation_scores():
    # spec 4: one label each -> w_M = w_j = 1, W_i = 2, wbar_A = 1, K = 2.
    L = np.array([[0], [1]])
    P = np.array([[0.8, 0.2], [0.6, 0.4]])
    U = np.array([[0.7, 0.3]])
    lab, unl = sk.get_active_learning_scores(L, P, U)
    np.testing.assert_allclose(lab, [(2 * 0.8 + 0.5) / 3, (2 * 0.4 + 0.5) / 3], rtol=1e-12)
    np.testing.assert_allclose(unl, [(0.7 + 0.5) / 2], rtol=1e-12)


def test_only_unlabeled_is_least_confidence():
    U = np.array([[0.7, 0.2, 0.1], [0.4, 0.35, 0.25]])
    lab, unl = sk.get_active_learning_scores(pred_probs_unlabeled=U)
    assert lab.shape == (0,)
    np.testing.assert_allclose(unl, (U.max(axis=1) + 1 / 3) / 2, rtol=1e-12)


def test_majority_vote_tie_break_hand_cases():
    # step 2: tied row 0 (0 vs 1); totals: class 0 = 5, class 1 = 3 -> lowest total wins (1)
    A = np.array([[0, 1, 0], [2, 1, 2], [0, 1, -1], [0, -1, 0]])
    A[0] = [0, 1, -1]
    assert sk.get_majority_vote_label(A)[0] == 1
    # step 1: pred_probs break the tie first
    P = np.array([[0.6, 0.3, 0.1], [0.1, 0.1, 0.8], [0.8, 0.1, 0.1], [0.8, 0.1, 0.1]])
    assert sk.get_majority_vote_label(A, P)[0] == 0


def test_random_tie_break_is_seeded():
    L = np.tile([[0, 1]], (50, 1))  # every row tied, totals equal, same trust
    a = sk.get_majority_vote_label(L, random_state=0)
    b = sk.get_majority_vote_label(L, random_state=0)
    np.testing.assert_array_equal(a, b)
    assert set(np.unique(a)) == {0, 1}


def test_temperature_scaling_hand_value():
    out = sk.temp_scale_pred_probs(np.array([[0.8, 0.2]]), 2.0)
    expected = np.sqrt([0.8, 0.2]) / np.sqrt([0.8, 0.2]).sum()
    np.testing.assert_allclose(out[0], expected, rtol=1e-12)


# ----------------------------------------------------------------------------- bad input
GOOD_L = np.array([[0, 1], [1, 1], [0, -1]])
GOOD_P = np.array([[0.7, 0.3], [0.2, 0.8], [0.6, 0.4]])


@pytest.mark.parametrize(
    "P, match",
    [
        (np.array([[0.7, 0.3], [np.nan, 0.8], [0.6, 0.4]]), r"NaN or infinite.*rows \[1\]"),
        (np.array([[0.7, 0.3], [0.2, 0.8], [np.inf, 0.4]]), r"NaN or infinite.*rows \[2\]"),
        (np.array([[1.2, -0.2], [0.2, 0.8], [0.6, 0.4]]), r"negative values in rows \[0\]"),
        (np.array([[0.7, 0.3], [0.2, 0.7], [0.6, 0.4]]), r"rows \[1\] do not sum to 1"),
        (np.array([0.7, 0.3, 0.5]), r"must have 2 dimensions"),
        (np.ones((2, 3, 2)) / 2, r"must have 2 dimensions.*ensemble"),
        (np.ones((3, 1)), r"at least 2 classes"),
        (np.ones((4, 2)) / 2, r"3 examples .* pred_probs has 4"),
    ],
)
def test_bad_pred_probs(P, match):
    with pytest.raises(ValueError, match=match):
        sk.get_active_learning_scores(GOOD_L, P)


def test_row_sum_tolerance_is_0_01():
    P = GOOD_P.copy()
    P[0] = [0.7 + 0.009, 0.3]
    sk.get_active_learning_scores(GOOD_L, P)  # within tolerance: renormalised
    P[0] = [0.7 + 0.011, 0.3]
    with pytest.raises(ValueError, match=r"rows \[0\]"):
        sk.get_active_learning_scores(GOOD_L, P)


@pytest.mark.parametrize(
    "L, match, exc",
    [
        (np.array([[0, 2], [1, 1], [0, -1]]), r"class labels \[2\].*only 2 columns", ValueError),
        (np.array([[0, 1.5], [1, 1], [0, np.nan]]), r"non-integral", ValueError),
        (np.array([[0, -2], [1, 1], [0, -1]]), r"negative labels \[-2\].*-1", ValueError),
        (np.array([[0, 1], [-1, -1], [0, -1]]), r"no label at all \(rows \[1\]", ValueError),
        (np.zeros((3, 2, 2)), r"must be 2-D", ValueError),
        (np.array([[True, False], [True, True], [False, True]]), r"boolean", TypeError),
        (pd.DataFrame([[True, False], [True, True], [False, True]]), r"boolean", TypeError),
    ],
)
def test_bad_labels(L, match, exc):
    with pytest.raises(exc, match=match):
        sk.get_active_learning_scores(L, GOOD_P)


def test_bad_combinations():
    with pytest.raises(ValueError, match="Nothing to score"):
        sk.get_active_learning_scores()
    with pytest.raises(ValueError, match="labels_multiannotator is None"):
        sk.get_active_learning_scores(None, GOOD_P)
    with pytest.raises(ValueError, match="pred_probs is None"):
        sk.get_active_learning_scores(GOOD_L, None, GOOD_P)
    with pytest.raises(ValueError, match=r"pred_probs_unlabeled has 3 classes .* labeled pred_probs has 2"):
        sk.get_active_learning_scores(GOOD_L, GOOD_P, np.ones((2, 3)) / 3)
    with pytest.raises(ValueError, match="exactly one annotation"):
        sk.get_label_quality_multiannotator(np.array([[0], [1], [0]]), GOOD_P)
    with pytest.raises(ValueError, match="consensus_method 'vote'"):
        sk.get_label_quality_multiannotator(GOOD_L, GOOD_P, consensus_method="vote")
    with pytest.raises(ValueError, match="quality_method"):
        sk.get_label_quality_multiannotator(GOOD_L, GOOD_P, quality_method="x")
    with pytest.raises(ValueError, match="temperature must be"):
        sk.temp_scale_pred_probs(GOOD_P, 0)


def test_long_format_conflicting_duplicates():
    df = pd.DataFrame({"task": [0, 0, 1], "annotator": ["a", "a", "b"], "label": [0, 1, 1]})
    with pytest.raises(ValueError, match=r"annotator 'a' gave example 0 two different labels"):
        sk.get_active_learning_scores(df, GOOD_P[:2])


def test_string_labels_need_matching_classes():
    L = np.array([["a", "b"], ["a", None]], dtype=object)
    with pytest.raises(ValueError, match="pass classes"):
        sk.get_active_learning_scores(L, np.ones((2, 3)) / 3)
    with pytest.raises(ValueError, match=r"labels \['b'\] that are not in classes"):
        sk.get_active_learning_scores(L, np.ones((2, 2)) / 2, classes=["a", "c"])


def test_inputs_never_modified():
    L, P, U = _case(seed=11)
    P3, U3 = np.stack([P, P[:, ::-1]]), np.stack([U, U[:, ::-1]])
    copies = [x.copy() for x in (L, P, U, P3, U3)]
    df = pd.DataFrame(L)
    df_copy = df.copy()
    sk.get_active_learning_scores(L, P, U)
    sk.get_active_learning_scores_ensemble(L, P3, U3)
    sk.get_label_quality_multiannotator(df, P, calibrate_probs=True)
    sk.get_label_quality_multiannotator_ensemble(L, P3, calibrate_probs=True)
    sk.get_majority_vote_label(L, P)
    for a, b in zip((L, P, U, P3, U3), copies):
        np.testing.assert_array_equal(a, b)
    pd.testing.assert_frame_equal(df, df_copy)
