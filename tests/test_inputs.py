"""Every annotation format gives the same answer; bad input gets a clear error."""

import numpy as np
import pytest
import scipy.sparse as sp

import skactivelab as sk
from skactivelab._annotations import check_annotations
from dataclasses import replace
from skactivelab._utils import is_long_frame
from skactivelab._validation import ROW_SUM_TOL, normalise_rows

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


@pytest.mark.parametrize("method", ["crowdlab", "annotator_confusion", "majority_vote"])
def test_an_ensemble_of_no_model_is_refused(method):
    empty = np.empty((0, 3, 2))
    with pytest.raises(ValueError, match=r"pred_probs has 0 models \(shape \(0, 3, 2\)\); give the probabilities of"):
        sk.get_active_learning_scores_ensemble(GOOD_L, empty, crowd_model=method)
    with pytest.raises(ValueError, match=r"pred_probs_unlabeled has 0 models"):
        sk.get_active_learning_scores_ensemble(None, None, empty, crowd_model=method)
    with pytest.raises(ValueError, match=r"pred_probs has 0 models"):
        sk.get_label_quality_multiannotator_ensemble(GOOD_L, empty)


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


# ==========================================================================================
# Input handling and results of the scoring core. Each test pins a behaviour that used to be
# silently wrong or a traceback:
# 'nan' text in string arrays, long format with extra columns, how probability
# rows are matched to examples (and results indexed by example ID), the result
# as a read-only mapping, class encoding by value, one row-sum tolerance, and
# clear errors for mixed or missing IDs, booleans and bad temperatures.

L = np.array([[0, 0, -1], [1, 0, 1], [1, -1, 1], [0, 1, 0]])
P = np.array([[0.9, 0.1], [0.3, 0.7], [0.4, 0.6], [0.8, 0.2]])
U = np.array([[0.55, 0.45], [0.99, 0.01]])
IDS = np.array(["img2", "img10", "img1", "img3"])  # not in sorted order


def _long_frame(ids=IDS, extra=False):
    rows, cols = np.nonzero(L != -1)
    df = pd.DataFrame(
        {"task": ids[rows], "annotator": np.array(["ann", "bob", "cy"])[cols], "label": L[rows, cols]}
    )
    if extra:
        df["round"] = 1
        df["seconds"] = np.arange(len(df)) * 1.5
    return df


# ----------------------------------------------------------------------------- 'nan' text
def test_nan_text_in_numpy_string_array_is_refused():
    labels = np.array([["a", "b"], ["a", np.nan], ["b", "b"]])
    assert labels.dtype.kind == "U" and labels[1, 1] == "nan"
    with pytest.raises(ValueError, match=r"text 'nan' \(rows \[1\]\).*dtype=object"):
        sk.get_majority_vote_label(labels)
    with pytest.raises(ValueError, match=r"text 'nan'"):
        sk.get_label_quality_multiannotator(labels, np.full((3, 2), 0.5))
    # long format: the same rule
    with pytest.raises(ValueError, match=r"text 'nan'"):
        check_annotations(([0, 1], [0, 0], np.array(["a", np.nan])))


def test_object_array_nan_is_missing_and_nan_text_is_a_class():
    obj = np.array([["a", "b"], ["a", np.nan], ["b", "b"]], dtype=object)
    ann = check_annotations(obj)
    assert ann.n_annotations == 5 and ann.classes.tolist() == ["a", "b"]
    named = np.array([["a", "nan"], ["a", "nan"]], dtype=object)  # a real class 'nan'
    assert check_annotations(named).classes.tolist() == ["a", "nan"]


def test_empty_string_is_missing_in_unicode_bytes_and_long_format():
    for arr in (np.array([["a", ""], ["b", "a"]]), np.array([[b"a", b""], [b"b", b"a"]])):
        ann = check_annotations(arr)
        assert ann.n_annotations == 3 and ann.n_classes == 2
    ann = check_annotations(([0, 0, 1], [0, 1, 0], np.array(["a", "", "b"])))
    assert ann.n_annotations == 2 and ann.classes.tolist() == ["a", "b"]


# ----------------------------------------------------------------------------- long format
def test_long_frame_with_extra_columns_is_long():
    df = _long_frame(ids=np.arange(4), extra=True)
    assert list(df.columns) == ["task", "annotator", "label", "round", "seconds"]
    assert is_long_frame(df)
    ref = sk.get_label_quality_multiannotator(L, P)
    res = sk.get_label_quality_multiannotator(df, P)
    np.testing.assert_array_equal(res.consensus_label, ref.consensus_label)
    np.testing.assert_array_equal(res.annotator_ids, ["ann", "bob", "cy"])
    wide = sk.long_to_wide(df)
    np.testing.assert_array_equal(wide.to_numpy(dtype=float), np.where(L == -1, np.nan, L))


# ----------------------------------------------------------------------------- rows by ID
def test_bare_pred_probs_follow_first_appearance_of_string_ids():
    # rows of P follow IDS in order of first appearance ("img2" first, never sorted)
    df = _long_frame()
    assert list(pd.unique(df["task"])) == IDS.tolist()
    ref_lab, ref_unl = sk.get_active_learning_scores(L, P, U)
    lab, unl = sk.get_active_learning_scores(df, P, U)
    assert isinstance(lab, pd.Series) and list(lab.index) == IDS.tolist()
    assert lab.index.name == "task"
    np.testing.assert_array_equal(lab.to_numpy(), ref_lab)
    assert isinstance(unl, np.ndarray)  # bare unlabeled array: bare result
    np.testing.assert_array_equal(unl, ref_unl)
    # the tuple form: same rows, bare arrays, IDs in the result object
    lab_t, _ = sk.get_active_learning_scores(tuple(df[c].to_numpy() for c in ("task", "annotator", "label")), P)
    np.testing.assert_array_equal(lab_t, ref_lab)
    res = sk.get_label_quality_multiannotator(tuple(df[c].to_numpy() for c in ("task", "annotator", "label")), P)
    assert res.example_ids.tolist() == IDS.tolist()
    np.testing.assert_array_equal(res.consensus_label, sk.get_label_quality_multiannotator(L, P).consensus_label)


def test_pred_probs_dataframe_aligned_by_id():
    df = _long_frame()
    order = [3, 1, 0, 2]  # any row order
    P_df = pd.DataFrame(P[order], index=pd.Index(IDS[order], name="image"))
    U_df = pd.DataFrame(U, index=["u1", "u2"])
    ref_lab, ref_unl = sk.get_active_learning_scores(L, P, U)
    lab, unl = sk.get_active_learning_scores(df, P_df, U_df)
    assert list(lab.index) == IDS[order].tolist() and lab.index.name == "image"
    np.testing.assert_array_equal(lab.to_numpy(), ref_lab[order])
    assert list(unl.index) == ["u1", "u2"]
    np.testing.assert_array_equal(unl.to_numpy(), ref_unl)
    ref = sk.get_label_quality_multiannotator(L, P)
    res = sk.get_label_quality_multiannotator(df, P_df)
    assert res.example_ids.tolist() == IDS[order].tolist()
    np.testing.assert_array_equal(res.consensus_quality_score, ref.consensus_quality_score[order])
    frame = res.to_frame()
    assert list(frame.index) == IDS[order].tolist()
    np.testing.assert_array_equal(frame.loc["img10", "consensus_label"], ref.consensus_label[1])
    assert list(res.detailed_label_quality_frame().index) == IDS[order].tolist()
    mv = sk.get_majority_vote_label(df, P_df)
    assert isinstance(mv, pd.Series)
    np.testing.assert_array_equal(mv.loc[IDS].to_numpy(), sk.get_majority_vote_label(L, P))
    T = sk.find_best_temperature(P_df, df)
    assert T == sk.find_best_temperature(P, L)


def test_pred_probs_dataframe_integer_ids_are_ids_not_rows():
    rows, cols = np.nonzero(L != -1)
    ids = np.array([10, 20, 30, 40])
    df = pd.DataFrame({"task": ids[rows], "worker": cols, "label": L[rows, cols]})
    P_df = pd.DataFrame(P[::-1], index=ids[::-1])
    lab, _ = sk.get_active_learning_scores(df, P_df)
    ref, _ = sk.get_active_learning_scores(L, P)
    np.testing.assert_allclose(lab.loc[ids].to_numpy(), ref, rtol=0, atol=1e-15)


def test_missing_and_extra_ids_are_named():
    df = _long_frame()
    P_df = pd.DataFrame(P, index=IDS)
    with pytest.raises(ValueError, match=r"example IDs \['img3'\] that are not in the index of pred_probs.*to_numpy"):
        sk.get_active_learning_scores(df, P_df.iloc[:3])
    bigger = pd.concat([P_df, pd.DataFrame([[0.5, 0.5]], index=["img99"])])
    with pytest.raises(ValueError, match=r"rows for example IDs \['img99'\] that have no annotation"):
        sk.get_label_quality_multiannotator(df, bigger)
    wide = pd.DataFrame(L, index=IDS).replace(-1, np.nan)
    with pytest.raises(ValueError, match=r"\['img3'\]"):
        sk.get_majority_vote_label(wide, P_df.iloc[:3])
    with pytest.raises(ValueError, match="duplicate example IDs"):
        sk.get_active_learning_scores(df, pd.DataFrame(P, index=["a", "a", "b", "c"]))


def test_wide_dataframe_results_indexed_by_its_index():
    wide = pd.DataFrame(np.where(L == -1, np.nan, L), index=pd.Index(IDS, name="id"), columns=["x", "y", "z"])
    lab, unl = sk.get_active_learning_scores(wide, P, U)
    assert list(lab.index) == IDS.tolist() and isinstance(unl, np.ndarray)
    # aligned by ID when pred_probs is a DataFrame in another order
    P_df = pd.DataFrame(P[::-1], index=IDS[::-1])
    lab2, _ = sk.get_active_learning_scores(wide, P_df)
    np.testing.assert_array_equal(lab2.loc[IDS].to_numpy(), lab.to_numpy())
    mv = sk.get_majority_vote_label(wide)
    assert list(mv.index) == IDS.tolist()


def test_plain_arrays_still_give_plain_arrays():
    lab, unl = sk.get_active_learning_scores(L, P, U)
    assert type(lab) is np.ndarray and type(unl) is np.ndarray
    assert type(sk.get_majority_vote_label(L, P)) is np.ndarray
    assert sk.get_label_quality_multiannotator(L, P).example_ids is None
    # an array of annotations with a DataFrame of probabilities: by position, IDs out
    lab, _ = sk.get_active_learning_scores(L, pd.DataFrame(P, index=IDS))
    assert list(lab.index) == IDS.tolist()
    np.testing.assert_array_equal(lab.to_numpy(), sk.get_active_learning_scores(L, P)[0])


def test_pred_probs_column_names_are_the_classes():
    names = np.array(["cat", "dog"])
    Ls = np.where(L == -1, None, names[np.maximum(L, 0)]).astype(object)
    ref = sk.get_label_quality_multiannotator(Ls, P)  # sorted: cat = column 0
    swapped = pd.DataFrame(P[:, ::-1], columns=["dog", "cat"])
    res = sk.get_label_quality_multiannotator(Ls, swapped)
    np.testing.assert_array_equal(res.consensus_label, ref.consensus_label)
    np.testing.assert_allclose(res.consensus_quality_score, ref.consensus_quality_score, rtol=0, atol=1e-15)
    with pytest.raises(ValueError, match=r"column names \['p0', 'p1'\].*to_numpy"):
        sk.get_label_quality_multiannotator(Ls, pd.DataFrame(P, columns=["p0", "p1"]))
    with pytest.raises(ValueError, match="differ from the columns"):
        sk.get_active_learning_scores(Ls, swapped, classes=["cat", "dog"])
    with pytest.raises(ValueError, match="pred_probs_unlabeled has columns"):
        sk.get_active_learning_scores(Ls, swapped, pd.DataFrame(U, columns=["cat", "dog"]))


def test_ensemble_accepts_a_list_of_dataframes():
    df = _long_frame()
    P2 = np.stack([P, P[:, ::-1] * 0.5 + 0.25])
    frames = [pd.DataFrame(P2[0], index=IDS), pd.DataFrame(P2[1][::-1], index=IDS[::-1])]
    ref_lab, _ = sk.get_active_learning_scores_ensemble(L, P2)
    lab, _ = sk.get_active_learning_scores_ensemble(df, frames)
    np.testing.assert_allclose(lab.loc[IDS].to_numpy(), ref_lab, rtol=0, atol=1e-15)
    res = sk.get_label_quality_multiannotator_ensemble(df, frames)
    np.testing.assert_array_equal(res.model_weight, sk.get_label_quality_multiannotator_ensemble(L, P2).model_weight)
    with pytest.raises(ValueError, match=r"pred_probs\[1\] and pred_probs\[0\] do not index the same examples"):
        sk.get_active_learning_scores_ensemble(df, [frames[0], frames[1].iloc[:3]])


# ----------------------------------------------------------------------------- Mapping
def test_label_quality_result_is_a_read_only_mapping():
    from collections.abc import Mapping

    res = sk.get_label_quality_multiannotator(L, P)
    keys = ["label_quality", "detailed_label_quality", "annotator_stats", "model_weight", "annotator_weight"]
    assert isinstance(res, Mapping)
    assert "label_quality" in res and "nope" not in res and 0 not in res
    assert len(res) == 5 and list(res) == keys and list(res.keys()) == keys
    assert res.get("nope") is None and res.get("model_weight") == res.model_weight
    assert isinstance(res["label_quality"], pd.DataFrame)
    assert dict(res.items()).keys() == set(keys)
    with pytest.raises(KeyError, match="available"):
        res["nope"]
    with pytest.raises(TypeError):
        res["model_weight"] = 1.0
    # equality by value, replace still works
    again = sk.get_label_quality_multiannotator(L, P)
    assert res == again and not (res != again)
    other = replace(res, model_weight=0.0)
    assert other != res and other.model_weight == 0.0 and "label_quality" in other
    with pytest.raises(TypeError):
        hash(res)


# ----------------------------------------------------------------------------- classes by value
def test_sparse_integer_labels_cost_nothing_extra():
    import tracemalloc

    big = np.array([[0, 300_000_000], [300_000_000, 300_000_000], [0, -1]])
    tracemalloc.start()
    mv = sk.get_majority_vote_label(big)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    # hand: row 0 is a tie, broken towards the class rarer overall (0: 2 labels, 3e8: 3)
    assert mv.tolist() == [0, 300_000_000, 0]
    assert peak < 5_000_000
    ann = check_annotations(np.array([[0, 10**10], [10**10, -1]]))
    assert ann.classes.tolist() == [0, 10**10] and ann.n_classes == 2
    u = np.array([[0, 2**63 + 1], [2**63 + 1, 2**64 - 1]], dtype=np.uint64)
    ann = check_annotations(u)
    assert ann.classes.tolist() == [0, 2**63 + 1, 2**64 - 1]
    wide = sk.long_to_wide(([0, 1], [0, 0], np.array([5, 10**12])))
    assert wide[:, 0].tolist() == [5, 10**12]
    # object arrays of Python ints stay exact (no detour through float)
    obj = np.array([[2**60, 2**60 + 1], [2**60 + 1, None]], dtype=object)
    assert check_annotations(obj).classes.tolist() == [2**60, 2**60 + 1]
    df = pd.DataFrame({"a": [2**60, 2**60 + 1], "b": [2**60 + 1, -1]})
    assert check_annotations(df).classes.tolist() == [2**60, 2**60 + 1]


def test_with_pred_probs_integer_label_k_is_column_k():
    with pytest.raises(ValueError, match=r"class labels \[300000000\] but pred_probs has only 2 columns"):
        sk.get_active_learning_scores(np.array([[0, 300_000_000], [1, 1]]), P[:2])
    with pytest.raises(ValueError, match=r"class labels \[9223372036854775809\]"):
        sk.get_majority_vote_label(np.array([[0, 2**63 + 1], [1, 1]], dtype=np.uint64), P[:2])


def test_estimator_target_with_sparse_labels():
    from skactivelab.estimator import _parse_target

    ann = _parse_target(np.array([[0, 10**10], [10**10, -1], [-1, -1]]), 3)
    assert ann.classes.tolist() == [0, 10**10] and ann.n_examples == 3


# ----------------------------------------------------------------------------- row sums
def test_one_row_sum_tolerance_renormalises_within_and_names_rows_beyond():
    assert ROW_SUM_TOL == 0.01
    P32 = P.astype(np.float32)
    P16 = P.astype(np.float16)
    rounded = np.array([[0.3333, 0.3333, 0.3333], [0.1, 0.2, 0.7]])
    for arr in (P32, P16):
        lab, _ = sk.get_active_learning_scores(L, arr)
        assert np.all(np.isfinite(lab))
    out = normalise_rows(rounded)
    np.testing.assert_allclose(out[0], [1 / 3] * 3, rtol=1e-15)
    assert out[1].tolist() == [0.1, 0.2, 0.7]  # exact row left bit-for-bit
    assert not np.shares_memory(out, rounded) and rounded[0, 0] == 0.3333
    bad = P.copy()
    bad[2] = [0.4, 0.58]  # sum 0.98
    with pytest.raises(ValueError, match=r"rows \[2\] do not sum to 1 \(tolerance 0.01"):
        sk.get_label_quality_multiannotator(L, bad)
    with pytest.raises(ValueError, match=r"rows \[2\]"):
        normalise_rows(bad, name="probs")


def test_rows_within_tolerance_give_the_renormalised_result():
    off = P * 1.004  # every row sums to 1.004
    a = sk.get_label_quality_multiannotator(L, off)
    b = sk.get_label_quality_multiannotator(L, off / off.sum(axis=1, keepdims=True))
    np.testing.assert_array_equal(a.consensus_quality_score, b.consensus_quality_score)


# ----------------------------------------------------------------------------- IDs
def test_mixed_int_and_str_ids_keep_first_appearance():
    ex = np.array([0, 0, 1, 1, 2, 2], dtype=object)
    annot = np.array([7, "carol", 7, "carol", "carol", 7], dtype=object)
    lab = np.array([0, 0, 1, 1, 0, 1])
    ann = check_annotations((ex, annot, lab))
    assert ann.annotator_ids.tolist() == [7, "carol"]
    res = sk.get_label_quality_multiannotator((ex, annot, lab), P[:3])
    ref = sk.get_label_quality_multiannotator(np.array([[0, 0], [1, 1], [1, 0]]), P[:3])
    np.testing.assert_array_equal(res.annotator_quality, ref.annotator_quality)
    mixed_ex = np.array(["a", "a", 5, 5], dtype=object)
    ann = check_annotations((mixed_ex, [0, 1, 0, 1], [0, 1, 1, 1]))
    assert ann.example_ids.tolist() == ["a", 5]


@pytest.mark.parametrize("bad", [None, np.nan])
def test_missing_ids_are_errors_naming_rows(bad):
    annot = np.array(["a", "b", bad, "a"], dtype=object)
    with pytest.raises(ValueError, match=r"annotator ID is missing .* rows \[2\]"):
        check_annotations(([0, 0, 1, 1], annot, [0, 1, 1, 1]))
    tasks = np.array(["x", "y", "x", bad], dtype=object)
    with pytest.raises(ValueError, match=r"example ID is missing .* rows \[3\]"):
        check_annotations((tasks, ["a", "a", "b", "b"], [0, 1, 1, 1]))
    with pytest.raises(ValueError, match=r"example ID is missing .* rows \[1\]"):
        check_annotations(([0.0, np.nan], ["a", "b"], [1, 0]))
    df = pd.DataFrame({"task": ["x", "y", "z"], "worker": ["a", bad, "b"], "label": [0, 1, 1]})
    with pytest.raises(ValueError, match=r"rows \[1\]"):
        sk.get_majority_vote_label(df)


def test_missing_rows_of_missing_labels_do_not_count():
    # a row without label is dropped before IDs are checked; rows are named in the input
    ann = check_annotations((np.array(["x", None, "y"], dtype=object), ["a", "b", "a"], [0, np.nan, 1]))
    assert ann.n_annotations == 2
    with pytest.raises(ValueError, match=r"rows \[3\]"):
        check_annotations((np.array(["x", None, "y", None], dtype=object), ["a", "b", "a", "c"], [0, np.nan, 1, 1]))


def test_wide_frame_duplicate_or_unnamed_annotator_columns():
    with pytest.raises(ValueError, match=r"duplicate annotator columns \['a'\]"):
        check_annotations(pd.DataFrame([[0, 1], [1, 1]], columns=["a", "a"]))
    with pytest.raises(ValueError, match="no name"):
        check_annotations(pd.DataFrame([[0, 1], [1, 1]], columns=["a", None]))


def test_classes_of_mixed_types_get_a_clear_error():
    with pytest.raises(TypeError, match="classes mixes types"):
        sk.get_label_quality_multiannotator(L, P, classes=np.array([0, "a"], dtype=object))


# ----------------------------------------------------------------------------- booleans
BOOL = np.array([[True, False], [True, True], [False, True]])


@pytest.mark.parametrize(
    "labels",
    [
        BOOL,
        pd.DataFrame(BOOL),
        pd.DataFrame(BOOL).astype("boolean"),
        BOOL.astype(object),
        ([0, 1], [0, 0], np.array([True, False])),
        sp.csr_matrix(BOOL),
    ],
    ids=["ndarray", "dataframe", "nullable", "object", "long", "sparse"],
)
def test_boolean_labels_refused_everywhere_alike(labels):
    with pytest.raises(TypeError, match="holds boolean values.*astype\\(int\\)"):
        check_annotations(labels)


# ----------------------------------------------------------------------------- temperature
@pytest.mark.parametrize("T", [1e-310, 5e-324, 1e-300, 1e-200])
def test_tiny_temperature_gives_the_one_hot_limit(T):
    Q = np.array([[0.6, 0.4], [0.5, 0.5], [0.1, 0.9]])
    out = sk.temp_scale_pred_probs(Q, T)
    assert out.tolist() == [[1.0, 0.0], [0.5, 0.5], [0.0, 1.0]]


@pytest.mark.parametrize("T", [True, np.True_, "2", [2.0], 1 + 0j])
def test_temperature_must_be_a_real_number(T):
    with pytest.raises(TypeError, match="temperature must be a single real number"):
        sk.temp_scale_pred_probs(P, T)


@pytest.mark.parametrize("T", [0, -1.0, np.inf, np.nan])
def test_temperature_must_be_positive_and_finite(T):
    with pytest.raises(ValueError, match="temperature must be a finite number > 0"):
        sk.temp_scale_pred_probs(P, T)


def test_temperature_accepts_numpy_scalars_and_dataframes():
    a = sk.temp_scale_pred_probs(P, np.float32(2.0))
    np.testing.assert_allclose(a, sk.temp_scale_pred_probs(P, np.array(2.0)), rtol=0, atol=0)
    np.testing.assert_allclose(a[0], np.sqrt(P[0]) / np.sqrt(P[0]).sum(), rtol=1e-12)
    df = pd.DataFrame(P, index=IDS, columns=["c0", "c1"])
    out = sk.temp_scale_pred_probs(df, 2.0)
    assert list(out.index) == IDS.tolist() and list(out.columns) == ["c0", "c1"]
    np.testing.assert_array_equal(out.to_numpy(), a)


# ----------------------------------------------------------------------------- memory order
def test_fortran_ordered_probabilities_give_the_same_results():
    # a DataFrame's .to_numpy() and transposed arrays are Fortran-ordered
    F = np.asfortranarray(P)
    assert not F.flags["C_CONTIGUOUS"]
    np.testing.assert_array_equal(sk.get_active_learning_scores(L, F)[0], sk.get_active_learning_scores(L, P)[0])
    a = sk.get_label_quality_multiannotator(L, F, calibrate_probs=True)
    b = sk.get_label_quality_multiannotator(L, P, calibrate_probs=True)
    np.testing.assert_array_equal(a.consensus_quality_score, b.consensus_quality_score)
    F3 = np.asfortranarray(np.stack([P, P[:, ::-1]]))
    np.testing.assert_array_equal(
        sk.get_active_learning_scores_ensemble(L, F3)[0],
        sk.get_active_learning_scores_ensemble(L, np.ascontiguousarray(F3))[0],
    )


# ----------------------------------------------------------------------------- dense annotations
def test_dense_annotations_any_layout_give_the_same_triples():
    from skactivelab._annotations import check_annotations

    rng = np.random.default_rng(0)
    W = np.where(rng.random((40, 7)) < 0.4, rng.integers(0, 3, (40, 7)).astype(float), np.nan)
    W[rng.random((40, 7)) < 0.1] = -1.0
    W[:, 0] = rng.integers(0, 3, 40)
    rows, cols = np.nonzero(~np.isnan(W) & (W != -1))  # row-major order
    for variant in (W, np.asfortranarray(W), W.astype(np.float32)):
        ann = check_annotations(variant, n_classes=3)
        np.testing.assert_array_equal(ann.example, rows)
        np.testing.assert_array_equal(ann.annotator, cols)
        np.testing.assert_array_equal(ann.label, W[rows, cols].astype(np.int64))
    wide = np.hstack([W, np.full((40, 3), np.nan)])[:, ::2]  # a non-contiguous view
    ann = check_annotations(wide, n_classes=3)
    r2, c2 = np.nonzero(~np.isnan(wide) & (wide != -1))
    np.testing.assert_array_equal(ann.example, r2)
    np.testing.assert_array_equal(ann.annotator, c2)
    np.testing.assert_array_equal(ann.label, wide[r2, c2].astype(np.int64))


@pytest.mark.parametrize("bad", [-2.0, -np.inf, -1.5])
def test_dense_values_below_minus_one_are_refused(bad):
    L = np.array([[0.0, 1.0], [1.0, np.nan], [0.0, 1.0]])
    L[2, 1] = bad
    with pytest.raises(ValueError, match="negative labels|infinite|non-integral"):
        sk.get_active_learning_scores(L, GOOD_P)
