"""skactivelab.multiannotator against cleanlab.multiannotator 2.9.0 (black-box oracle).

Every return value is compared field by field: dict keys in order, DataFrames
column by column (names, dtypes, values to 1e-10) with their index, arrays with
shape and dtype. Cases come from the parity corpus of test_parity_cleanlab.py (a
representative subset, rotating through the options, label_quality_score_kwargs
and return flags); the oracle is cleanlab with its label-counting bug fixed
(conftest.py). Deliberate differences are tested as such at the end.
"""

from __future__ import annotations

import contextlib
import inspect
import io
import warnings

import numpy as np
import pytest

from skactivelab import multiannotator as ma
from test_parity_cleanlab import _special, close, make_case, skip_if_random_tie, unresolved_ties

pd = pytest.importorskip("pandas")

ATOL = 1e-10
FUNCTIONS = (
    "get_label_quality_multiannotator",
    "get_label_quality_multiannotator_ensemble",
    "get_active_learning_scores",
    "get_active_learning_scores_ensemble",
    "get_majority_vote_label",
    "convert_long_to_wide_dataset",
)


# --------------------------------------------------------------------------- comparison


def assert_frame_same(ours, theirs, what):
    assert isinstance(ours, pd.DataFrame), what
    assert list(ours.columns) == list(theirs.columns), (what, list(ours.columns), list(theirs.columns))
    assert ours.columns.name == theirs.columns.name, (what, ours.columns.name, theirs.columns.name)
    pd.testing.assert_index_equal(ours.index, theirs.index, exact=True, obj=f"{what}.index")
    for col in theirs.columns:
        a, b = ours[col], theirs[col]
        assert a.dtype == b.dtype, (what, col, a.dtype, b.dtype)
        if b.dtype.kind == "f":
            close(a.to_numpy(), b.to_numpy(), f"{what}[{col!r}]")
        else:
            np.testing.assert_array_equal(a.to_numpy(), b.to_numpy(), err_msg=f"{what}[{col!r}]")


def assert_result_same(ours, theirs):
    """cleanlab's dict of DataFrames / weights, key by key."""
    assert list(ours) == list(theirs)
    for key, value in theirs.items():
        if isinstance(value, pd.DataFrame):
            assert_frame_same(ours[key], value, key)
        else:
            assert type(ours[key]) is type(value), (key, type(ours[key]), type(value))
            assert np.shape(ours[key]) == np.shape(value), key
            assert np.asarray(ours[key]).dtype == np.asarray(value).dtype, key
            close(ours[key], value, key)


def assert_scores_same(ours, theirs):
    assert isinstance(ours, tuple) and len(ours) == 2
    for a, b, what in zip(ours, theirs, ("scores_labeled", "scores_unlabeled")):
        assert isinstance(a, np.ndarray) and a.dtype == b.dtype and a.shape == b.shape, what
        close(a, b, what)


def as_frame(labels, i):
    """Every third case: a DataFrame with string example and annotator names (IDs in, IDs out)."""
    if i % 3:
        return labels
    return pd.DataFrame(
        labels,
        index=[f"ex{r}" for r in range(labels.shape[0])],
        columns=[f"ann{c}" for c in range(labels.shape[1])],
    )


def oracle_call(fn, *args, **cfg):
    """cleanlab's result for ``cfg``, except one documented difference: with
    return_detailed_quality=False, cleanlab's annotator_quality ignores
    label_quality_score_kwargs (see test_difference_annotator_quality_ignores_the_flag);
    the reference is then its result with the detailed table, which is dropped."""
    if cfg.get("label_quality_score_kwargs") and cfg.get("return_detailed_quality") is False:
        out = fn(*args, **dict(cfg, return_detailed_quality=True))
        del out["detailed_label_quality"]
        return out
    return fn(*args, **cfg)


# --------------------------------------------------------------------------- signatures


def test_pivoted_frame_keeps_axis_names(oracle):
    """A wide frame from ``long.pivot(index="task", columns="annotator")`` has named axes;
    cleanlab's frames keep them (the detailed table's columns are named like the input's)."""
    rng = np.random.RandomState(0)
    labels = rng.randint(0, 3, (12, 3)).astype(float)
    labels[rng.rand(12, 3) < 0.3] = np.nan
    labels[:, 0] = rng.randint(0, 3, 12)
    P = rng.dirichlet(np.ones(3), 12)
    long = (
        pd.DataFrame(labels, columns=["A1", "A2", "A3"]).stack().dropna().rename("label")
        .rename_axis(["task", "annotator"]).reset_index()
    )
    wide = long.pivot(index="task", columns="annotator", values="label")
    assert wide.columns.name == "annotator"
    ours = ma.get_label_quality_multiannotator(wide, P, verbose=False)
    theirs = oracle.get_label_quality_multiannotator(wide, P, verbose=False)
    assert_result_same(ours, theirs)
    assert ours["detailed_label_quality"].columns.name == "annotator"


@pytest.mark.parametrize("name", FUNCTIONS)
def test_signature_is_cleanlabs_plus_keyword_only_extras(oracle, name):
    theirs = list(inspect.signature(getattr(oracle.module, name)).parameters.values())
    ours = list(inspect.signature(getattr(ma, name)).parameters.values())
    assert [(p.name, p.kind, p.default) for p in ours[: len(theirs)]] == [
        (p.name, p.kind, p.default) for p in theirs
    ]
    for extra in ours[len(theirs):]:  # random_state only
        assert extra.kind is inspect.Parameter.KEYWORD_ONLY and extra.default is None
    assert sorted(ma.__all__) == sorted(FUNCTIONS)


# --------------------------------------------------------------------------- CROWDLAB

LQ_CONFIGS = [
    dict(),
    dict(consensus_method="majority_vote", return_weights=True),
    dict(calibrate_probs=True, return_weights=True),
    dict(quality_method="agreement"),
    dict(consensus_method=["best_quality", "majority_vote"]),
    dict(label_quality_score_kwargs={"method": "normalized_margin"}, return_weights=True),
    dict(label_quality_score_kwargs={"method": "confidence_weighted_entropy"}),
    dict(label_quality_score_kwargs={"adjust_pred_probs": True}, return_detailed_quality=False),
    dict(consensus_method=["majority_vote", "best_quality"],
         label_quality_score_kwargs={"method": "normalized_margin", "adjust_pred_probs": True}),
    dict(quality_method="agreement", label_quality_score_kwargs={"method": "confidence_weighted_entropy"}),
    dict(quality_method="agreement", consensus_method="majority_vote",
         label_quality_score_kwargs={"method": "normalized_margin", "adjust_pred_probs": True}),
    dict(calibrate_probs=True, label_quality_score_kwargs={"method": "confidence_weighted_entropy"},
         return_annotator_stats=False, return_weights=True),
    dict(return_detailed_quality=False, return_annotator_stats=False),
    dict(consensus_method="majority_vote", calibrate_probs=True,
         label_quality_score_kwargs={"adjust_pred_probs": True, "method": "self_confidence"}),
]
LQ_CASES = list(range(0, 60, 2))  # every other case of the parity corpus


@pytest.mark.parametrize("i", LQ_CASES)
def test_label_quality_multiannotator(oracle, i):
    kw = _special(i)
    kw["single"] = False
    if kw.get("M") == 1:
        kw["M"] = 2
    if i == 16:
        kw.update(N=600, M=30, K=8, labels_per_example=(1, 4))
    case = make_case(30_000 + i, **kw)
    labels, P = as_frame(case["labels"], i), case["P"][0]
    if case["single"]:
        with pytest.raises(ValueError):
            ma.get_label_quality_multiannotator(labels, P)
        return
    skip_if_random_tie(oracle, case, P)
    for r in range(2):
        cfg = LQ_CONFIGS[(i + 5 * r) % len(LQ_CONFIGS)]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ours = ma.get_label_quality_multiannotator(labels, P, **cfg)
        assert_result_same(ours, oracle_call(oracle.get_label_quality_multiannotator, labels, P, **cfg))
        oracle.counts["multiannotator.get_label_quality_multiannotator"] += 1


@pytest.mark.parametrize("i", range(1, 25, 3))
def test_label_quality_multiannotator_ensemble(oracle, i):
    kw = _special(i)
    kw["single"] = False
    if kw.get("M") == 1:
        kw["M"] = 3
    case = make_case(40_000 + i, n_models=2 + i % 3, **kw)
    labels, P = as_frame(case["labels"], i // 3), case["P"]
    skip_if_random_tie(oracle, case, P.mean(axis=0))
    configs = [
        dict(return_weights=True),
        dict(calibrate_probs=True, return_weights=True, return_detailed_quality=False),
        dict(return_annotator_stats=False),
        dict(calibrate_probs=True, return_detailed_quality=False, return_annotator_stats=False),
    ]
    for cfg in configs[i % 2:: 2]:
        P0 = P.copy()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ours = ma.get_label_quality_multiannotator_ensemble(labels, P, **cfg)
        np.testing.assert_array_equal(P, P0)  # cleanlab overwrites it; we never do
        assert_result_same(ours, oracle_call(oracle.get_label_quality_multiannotator_ensemble, labels, P, **cfg))
        oracle.counts["multiannotator.get_label_quality_multiannotator_ensemble"] += 1


@pytest.mark.parametrize(
    "kwargs",
    [{"method": "normalized_margin"}, {"method": "confidence_weighted_entropy"},
     {"method": "normalized_margin", "adjust_pred_probs": True}],
)
def test_label_quality_multiannotator_ensemble_score_kwargs(oracle, kwargs):
    """cleanlab 2.9.0's ensemble function raises TypeError for any label_quality_score_kwargs;
    ours applies them: checked against cleanlab.rank.get_label_quality_scores on the
    ensemble posterior (consensus, and each annotator's labels on their own)."""
    from cleanlab.rank import get_label_quality_scores

    import skactivelab as sal

    case = make_case(40_004, n_models=3, N=80, M=6, K=4, labels_per_example=(1, 4))
    labels, P = case["labels"], case["P"]
    skip_if_random_tie(oracle, case, P.mean(axis=0))
    with pytest.raises(TypeError):
        oracle.get_label_quality_multiannotator_ensemble(labels, P, label_quality_score_kwargs=kwargs)
    ours = ma.get_label_quality_multiannotator_ensemble(labels, P, label_quality_score_kwargs=kwargs)
    post = sal.get_label_quality_multiannotator_ensemble(labels, P).post_pred_probs
    consensus = ours["label_quality"]["consensus_label"].to_numpy()
    close(ours["label_quality"]["consensus_quality_score"], get_label_quality_scores(consensus, post, **kwargs), "cq")
    detailed = ours["detailed_label_quality"].to_numpy()
    for j in range(labels.shape[1]):
        rows = ~np.isnan(labels[:, j])
        ref = get_label_quality_scores(labels[rows, j].astype(int), post[rows], **kwargs)
        close(detailed[rows, j], ref, f"annotator {j}")
    assert np.isnan(detailed[np.isnan(labels)]).all()


def _score_case(seed):
    """Probabilities with the corners of the label-quality rules: near-zero and exact-zero
    entries, one-hot and uniform rows, tiny probabilities (floors), missing classes."""
    rng = np.random.default_rng(seed)
    N, K = int(rng.integers(1, 50)), int(rng.integers(2, 10))
    kind = seed % 4
    if kind == 0:
        P = rng.dirichlet(np.ones(K) * rng.uniform(0.05, 3), size=N)
    elif kind == 1:
        P = rng.dirichlet(np.ones(K) * 0.02, size=N)
    elif kind == 2:
        P = np.eye(K)[rng.integers(0, K, N)]
        P[rng.random(N) < 0.3] = 1 / K
    else:
        eps = 10.0 ** rng.uniform(-18, -3, size=(N, 1))
        P = np.broadcast_to(eps, (N, K)).copy()
        P[np.arange(N), rng.integers(0, K, N)] = 1 - (K - 1) * eps[:, 0]
    present = rng.choice(K, size=max(1, K - seed % 3), replace=False)
    return P, rng.choice(present, N)


@pytest.mark.parametrize("method", ["self_confidence", "normalized_margin", "confidence_weighted_entropy"])
@pytest.mark.parametrize("adjust", [False, True])
def test_label_quality_scores_match_cleanlab_rank(oracle, method, adjust):
    """The core's label-quality rules against cleanlab.rank.get_label_quality_scores."""
    from cleanlab.rank import get_label_quality_scores

    from skactivelab._label_scores import label_quality_scores

    if adjust and method == "confidence_weighted_entropy":
        with pytest.raises(ValueError, match="adjust_pred_probs"):
            label_quality_scores(np.eye(2), [0, 1], [0, 1], method=method, adjust_pred_probs=True)
        return
    for seed in range(300):
        P, y = _score_case(seed)
        theirs = oracle.quiet(get_label_quality_scores, y, P, method=method, adjust_pred_probs=adjust)
        close(label_quality_scores(P, np.arange(len(y)), y, method=method, adjust_pred_probs=adjust),
              theirs, f"seed {seed}")
    # groups: thresholds per group equal separate calls per group
    P, y = _score_case(7)
    groups = np.arange(len(y)) % 3
    ours = label_quality_scores(P, np.arange(len(y)), y, groups=groups, n_groups=3, method=method,
                                adjust_pred_probs=adjust)
    for g in range(3):
        rows = groups == g
        close(ours[rows], oracle.quiet(get_label_quality_scores, y[rows], P[rows], method=method,
                                       adjust_pred_probs=adjust), f"group {g}")


# --------------------------------------------------------------------------- ActiveLab


@pytest.mark.parametrize("i", [0, 3, 7, 8, 13, 20, 21, 24, 27, 34, 41, 47, 55, 58, 62, 64, 69, 76, 83, 90, 97])
def test_active_learning_scores(oracle, i):
    kw = _special(i)
    if i in (7, 27, 47):
        kw.update(N=500, M=10, K=4)
    case = make_case(10_000 + i, **kw)
    labels, P, U = as_frame(case["labels"], i), case["P"][0], case["U"][0]
    if i in (8, 58):  # unlabeled only
        args = (None, None, U)
    else:
        skip_if_random_tie(oracle, case, P)
        args = (labels, P, None if i % 7 == 6 else U)
    assert_scores_same(ma.get_active_learning_scores(*args), oracle.get_active_learning_scores(*args))
    oracle.counts["multiannotator.get_active_learning_scores"] += 1


@pytest.mark.parametrize("i", [1, 5, 8, 12, 18, 22])
def test_active_learning_scores_ensemble(oracle, i):
    case = make_case(20_000 + i, n_models=2 + i % 3, **_special(i))
    labels, P, U = case["labels"], case["P"], case["U"]
    args = (None, None, U) if i == 8 else (labels, P, U)
    if i != 8:
        skip_if_random_tie(oracle, case, P.mean(axis=0))
    copies = [None if a is None else a.copy() for a in args]
    ours = ma.get_active_learning_scores_ensemble(*args)
    for a, c in zip(args, copies):
        if a is not None:
            np.testing.assert_array_equal(a, c)
    assert_scores_same(ours, oracle.get_active_learning_scores_ensemble(*args))


def test_labels_without_pred_probs_are_ignored_with_a_warning(oracle):
    """cleanlab silently ignores labels given without pred_probs; we do the same, loudly."""
    case = make_case(10_003)
    labels, U = case["labels"], case["U"][0]
    with pytest.warns(UserWarning, match="labels_multiannotator is ignored"):
        ours = ma.get_active_learning_scores(labels, None, U)
    assert_scores_same(ours, oracle.get_active_learning_scores(labels, None, U))
    with pytest.raises(ValueError):  # nothing to score: both refuse
        ma.get_active_learning_scores(labels)
    with pytest.raises(ValueError):
        oracle.get_active_learning_scores(labels)


# --------------------------------------------------------------------------- majority vote


@pytest.mark.parametrize("i", range(0, 60, 4))
def test_majority_vote_label(oracle, i):
    case = make_case(50_000 + i, **_special(i))
    labels, P = as_frame(case["labels"], i), case["P"][0]
    if not unresolved_ties(case["labels"], P).any():
        ours = ma.get_majority_vote_label(labels, P, False)  # third positional: verbose
        theirs = oracle.get_majority_vote_label(labels, P)
        assert isinstance(ours, np.ndarray) and ours.dtype == theirs.dtype
        np.testing.assert_array_equal(ours, theirs)
    ok = ~unresolved_ties(case["labels"])
    ours = ma.get_majority_vote_label(labels, verbose=False)
    np.testing.assert_array_equal(ours[ok], oracle.get_majority_vote_label(labels)[ok])


def test_majority_vote_random_ties_follow_random_state():
    labels = np.array([[0, 1], [1, 0], [2, 3], [3, 2]] * 10, dtype=float)
    runs = [ma.get_majority_vote_label(labels, verbose=False, random_state=7) for _ in range(2)]
    np.testing.assert_array_equal(runs[0], runs[1])
    np.random.seed(3)  # random_state=None: NumPy's global random state, as in cleanlab
    a = ma.get_majority_vote_label(labels, verbose=False)
    np.random.seed(3)
    np.testing.assert_array_equal(a, ma.get_majority_vote_label(labels, verbose=False))


# --------------------------------------------------------------------------- long to wide

LONG_FRAMES = {
    "strings": dict(task=["t3", "t1", "t1", "t2", "t3"], annotator=["bob", "amy", "bob", "amy", "carl"],
                    label=[1, 0, 1, 2, 0]),
    "integers_extra_column": dict(task=[3, 1, 1, 2, 3], annotator=[5, 0, 5, 0, 9], label=[1, 0, 1, 2, 0],
                                  extra=[7, 7, 7, 7, 7]),
    "nan_label": dict(task=[3, 1, 1, 2, 3], annotator=[5, 0, 5, 0, 9], label=[1.0, 0, 1, 2, np.nan]),
    "string_labels": dict(task=[3, 1, 1, 2, 3], annotator=[5, 0, 5, 0, 9], label=["a", "b", "a", "c", "b"]),
    "nullable_int": dict(task=[3, 1], annotator=[5, 0], label=pd.array([1, 0], dtype="Int64")),
}


@pytest.mark.parametrize("name", sorted(LONG_FRAMES))
def test_convert_long_to_wide_dataset(oracle, name):
    long = pd.DataFrame(LONG_FRAMES[name])
    before = long.copy()
    ours = ma.convert_long_to_wide_dataset(long)
    pd.testing.assert_frame_equal(ours, oracle.convert_long_to_wide_dataset(long), check_exact=True)
    pd.testing.assert_frame_equal(long, before)


def test_convert_long_to_wide_dataset_duplicates_and_bad_input():
    long = pd.DataFrame(dict(task=[1, 1, 2], annotator=["a", "a", "a"], label=[0, 0, 1]))
    wide = ma.convert_long_to_wide_dataset(long)  # a repeated identical label counts once
    assert wide.shape == (2, 1) and wide["a"].tolist() == [0, 1]
    long.loc[1, "label"] = 2
    with pytest.raises(ValueError, match="annotator 'a' gave task 1 two different labels"):
        ma.convert_long_to_wide_dataset(long)
    with pytest.raises(ValueError, match=r"no column\(s\) \['annotator'\]"):
        ma.convert_long_to_wide_dataset(pd.DataFrame(dict(task=[1], worker=["a"], label=[0])))
    with pytest.raises(TypeError, match="DataFrame"):
        ma.convert_long_to_wide_dataset({"task": [1], "annotator": [0], "label": [1]})


# --------------------------------------------------------------------------- arguments and messages

L_SMALL = np.array([[0, 0, np.nan], [1, np.nan, 1], [2, 2, 1], [np.nan, 0, 0], [1, np.nan, np.nan], [np.nan, np.nan, 2]])
P_SMALL = np.array([[.7, .2, .1], [.2, .6, .2], [.1, .3, .6], [.5, .3, .2], [.3, .4, .3], [.1, .1, .8]])


@pytest.mark.parametrize(
    "kwargs, error",
    [
        ({"method": "foo"}, ValueError),
        ({"method": None}, ValueError),
        ({"method": "confidence_weighted_entropy", "adjust_pred_probs": True}, ValueError),
        ({"bar": 1}, TypeError),
    ],
)
def test_bad_label_quality_score_kwargs_raise_like_cleanlab(oracle, kwargs, error):
    with pytest.raises(error):
        oracle.get_label_quality_multiannotator(L_SMALL, P_SMALL, label_quality_score_kwargs=kwargs)
    with pytest.raises(error) as info:
        ma.get_label_quality_multiannotator(L_SMALL, P_SMALL, label_quality_score_kwargs=kwargs)
    assert any(word in str(info.value) for word in ("self_confidence", "adjust_pred_probs", "method"))


def test_return_weights_needs_crowdlab(oracle):
    for fn in (oracle.get_label_quality_multiannotator, ma.get_label_quality_multiannotator):
        with pytest.raises(ValueError, match="crowdlab"):
            fn(L_SMALL, P_SMALL, quality_method="agreement", return_weights=True)


def test_verbose_warns_where_cleanlab_prints_and_never_prints(oracle, capsys):
    """cleanlab prints two notes with verbose=True; we warn on the same cases, print nothing."""
    n_isolated = n_lost = 0
    cases = []
    for i in range(0, 40, 3):
        kw = _special(i)
        kw.update(single=False, M=2 if kw["M"] == 1 else kw["M"])
        cases.append(make_case(30_000 + i, N=40, **kw))
    cases.append(make_case(30_005, N=30, M=8, K=6, labels_per_example=(1, 2)))  # an isolated annotator
    for case in cases:
        labels, P = case["labels"], case["P"][0]
        if case["single"] or unresolved_ties(labels, P).any():
            continue
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            oracle.module.get_label_quality_multiannotator(labels, P.copy(), verbose=True)
        printed = buf.getvalue()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            ma.get_label_quality_multiannotator(labels, P, verbose=True)
        messages = " ".join(str(w.message) for w in caught)
        assert ("did not annotate any examples that overlap" in printed) == ("labeled no example that another" in messages)
        assert ("not in consensus labels" in printed) == ("are the consensus label of no" in messages)
        n_isolated += "did not annotate any examples that overlap" in printed
        n_lost += "not in consensus labels" in printed
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            oracle.module.get_label_quality_multiannotator(labels, P.copy(), quality_method="agreement")
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            ma.get_label_quality_multiannotator(labels, P, quality_method="agreement")
        messages = " ".join(str(w.message) for w in caught)
        assert ("did not annotate any examples that overlap" in buf.getvalue()) == ("labeled no example that another" in messages)
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # verbose=False: silent
            ma.get_label_quality_multiannotator(labels, P, verbose=False)
    assert n_isolated > 0 and n_lost > 0, (n_isolated, n_lost)
    assert capsys.readouterr().out == ""


def test_verbose_majority_vote_warns_about_lost_classes():
    labels = np.array([[0, 0, 1], [0, 0, np.nan], [2, 2, 2]])
    with pytest.warns(UserWarning, match=r"Classes \[1\]"):
        ma.get_majority_vote_label(labels)
    P = np.full((3, 3), 1 / 3)
    with pytest.warns(UserWarning, match=r"Classes \[1\]"):
        ma.get_majority_vote_label(labels, P)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # every class is some majority vote: nothing to say
        ma.get_majority_vote_label(np.array([[0, 0], [1, 1], [2, 2]]), P)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ma.get_majority_vote_label(labels, None, False)


def test_kwargs_reach_the_core_as_keywords():
    """label_quality_score_kwargs maps onto the core's label_quality_method / adjust_pred_probs."""
    import skactivelab as sal

    res = sal.get_label_quality_multiannotator(
        L_SMALL, P_SMALL, label_quality_method="normalized_margin", adjust_pred_probs=True
    )
    out = ma.get_label_quality_multiannotator(
        L_SMALL, P_SMALL, label_quality_score_kwargs={"method": "normalized_margin", "adjust_pred_probs": True}
    )
    close(out["label_quality"]["consensus_quality_score"], res.consensus_quality_score, "consensus quality")
    default = sal.get_label_quality_multiannotator(L_SMALL, P_SMALL)
    assert np.abs(res.consensus_quality_score - default.consensus_quality_score).max() > 1e-3
    # self_confidence is the posterior at the consensus label (hand rule)
    np.testing.assert_array_equal(
        default.consensus_quality_score,
        default.post_pred_probs[np.arange(6), default.consensus_label],
    )


# --------------------------------------------------------------------------- deliberate differences


def test_difference_idle_annotator_column_is_allowed(oracle):
    """cleanlab rejects an annotator with no label; for us it changes nothing."""
    wide = np.c_[L_SMALL, np.full(6, np.nan)]
    with pytest.raises(ValueError):
        oracle.get_label_quality_multiannotator(wide, P_SMALL)
    ours = ma.get_label_quality_multiannotator(wide, P_SMALL, verbose=False, return_weights=True)
    theirs = oracle.get_label_quality_multiannotator(L_SMALL, P_SMALL, return_weights=True)
    assert_frame_same(ours["label_quality"], theirs["label_quality"], "label_quality")
    assert ours["detailed_label_quality"]["quality_annotator_3"].isna().all()
    stats = ours["annotator_stats"]
    assert stats.index[-1] == 3 and stats.loc[3, "num_examples_labeled"] == 0
    assert_frame_same(stats.iloc[:3], theirs["annotator_stats"], "annotator_stats")
    close(ours["model_weight"], theirs["model_weight"], "model_weight")


def test_difference_weights_follow_the_first_consensus_method(oracle):
    methods = ["best_quality", "majority_vote"]
    ours = ma.get_label_quality_multiannotator(L_SMALL, P_SMALL, consensus_method=methods, return_weights=True)
    first = oracle.get_label_quality_multiannotator(L_SMALL, P_SMALL, consensus_method=methods[0], return_weights=True)
    close(ours["annotator_weight"], first["annotator_weight"], "annotator_weight")
    close(ours["model_weight"], first["model_weight"], "model_weight")


def test_difference_cleanlab_agreement_quality_miscounts_labels(oracle, monkeypatch):
    """quality_method='agreement': unfixed cleanlab counts labels in the wrong columns, so its
    consensus can be a class nobody chose. Renaming the classes changes its answer, not ours."""
    labels = np.array([[2, 2, 0], [1, 1, np.nan], [0, 0, 2], [1, np.nan, 1]])
    P = np.array([[0.1, 0.2, 0.7], [0.2, 0.7, 0.1], [0.6, 0.1, 0.3], [0.3, 0.6, 0.1]])
    ours = ma.get_label_quality_multiannotator(labels, P, quality_method="agreement")
    assert ours["label_quality"]["consensus_label"].tolist() == [2, 1, 0, 1]  # majority of each row
    close(ours["label_quality"]["consensus_quality_score"], [2 / 3, 1, 2 / 3, 1], "fraction who agree")
    assert_result_same(ours, oracle.get_label_quality_multiannotator(labels, P, quality_method="agreement"))
    monkeypatch.setattr(oracle.utils_module, "value_counts", oracle.original_value_counts)
    monkeypatch.setattr(oracle.module, "value_counts", oracle.original_value_counts, raising=False)
    unfixed = oracle.get_label_quality_multiannotator(labels, P, quality_method="agreement")
    assert unfixed["label_quality"]["consensus_label"].tolist() == [1, 0, 0, 0]


def test_difference_cleanlab_calibration_depends_on_class_names(oracle, monkeypatch):
    """calibrate_probs=True (and ActiveLab): the same data with classes renamed gives unfixed
    cleanlab a different answer; ours is the same, and equals cleanlab's once fixed."""
    labels = np.array([[2, 2, 1], [2, 2, np.nan], [1, 2, np.nan], [np.nan, 2, 1], [1, 1, np.nan], [1, 2, np.nan]])
    P = np.array([[.11, .85, .04], [.46, .02, .52], [.24, .55, .21], [.27, .32, .41], [.30, .16, .54], [.27, .10, .63]])
    perm = np.array([2, 0, 1])  # class c is renamed perm[c]
    renamed = np.where(np.isnan(labels), np.nan, perm[np.nan_to_num(labels).astype(int)])
    P_renamed = np.empty_like(P)
    P_renamed[:, perm] = P
    ours = ma.get_label_quality_multiannotator(labels, P, calibrate_probs=True)["label_quality"]
    ours_renamed = ma.get_label_quality_multiannotator(renamed, P_renamed, calibrate_probs=True)["label_quality"]
    np.testing.assert_array_equal(np.argsort(perm)[ours_renamed["consensus_label"]], ours["consensus_label"])
    assert ours["consensus_label"].tolist() == [2, 2, 1, 2, 1, 2]
    assert_frame_same(ours, oracle.get_label_quality_multiannotator(labels, P, calibrate_probs=True)["label_quality"], "lq")
    monkeypatch.setattr(oracle.utils_module, "value_counts", oracle.original_value_counts)
    monkeypatch.setattr(oracle.module, "value_counts", oracle.original_value_counts, raising=False)
    unfixed = oracle.get_label_quality_multiannotator(labels, P, calibrate_probs=True)["label_quality"]
    assert unfixed["consensus_label"].tolist() == [1, 2, 1, 2, 1, 2]
    unfixed_renamed = oracle.get_label_quality_multiannotator(renamed, P_renamed, calibrate_probs=True)["label_quality"]
    assert np.argsort(perm)[unfixed_renamed["consensus_label"]].tolist() == [2, 2, 1, 2, 1, 2]
    al = ma.get_active_learning_scores(labels, P)[0]
    close(al, ma.get_active_learning_scores(renamed, P_renamed)[0], "ActiveLab, renamed classes")
    assert np.abs(oracle.get_active_learning_scores(labels, P)[0] - al).max() > 0.1


def test_difference_annotator_quality_ignores_the_flag(oracle):
    """cleanlab's annotator_quality uses label_quality_score_kwargs only when
    return_detailed_quality=True; ours does not depend on what is returned."""
    kw = {"label_quality_score_kwargs": {"method": "normalized_margin"}}
    full = ma.get_label_quality_multiannotator(L_SMALL, P_SMALL, **kw)
    short = ma.get_label_quality_multiannotator(L_SMALL, P_SMALL, return_detailed_quality=False, **kw)
    assert_frame_same(short["annotator_stats"], full["annotator_stats"], "annotator_stats")
    assert_result_same(full, oracle.get_label_quality_multiannotator(L_SMALL, P_SMALL, **kw))
    theirs = oracle.get_label_quality_multiannotator(L_SMALL, P_SMALL, return_detailed_quality=False, **kw)
    default = oracle.get_label_quality_multiannotator(L_SMALL, P_SMALL)
    a = theirs["annotator_stats"].sort_index()["annotator_quality"]
    close(a, default["annotator_stats"].sort_index()["annotator_quality"], "cleanlab: self_confidence")
    assert np.abs(a - full["annotator_stats"].sort_index()["annotator_quality"]).max() > 1e-3


def test_more_formats_than_cleanlab(oracle):
    """Lists, -1 for missing and string class names also work (cleanlab rejects them)."""
    ref = ma.get_label_quality_multiannotator(L_SMALL, P_SMALL, verbose=False)
    as_int = np.where(np.isnan(L_SMALL), -1, L_SMALL).astype(int)
    with pytest.raises(ValueError):
        oracle.get_label_quality_multiannotator(as_int, P_SMALL)
    for variant in (as_int, L_SMALL.tolist()):
        assert_result_same(ma.get_label_quality_multiannotator(variant, P_SMALL.tolist(), verbose=False), ref)
    names = np.array(["cat", "dog", "emu"], dtype=object)
    as_str = pd.DataFrame(np.where(np.isnan(L_SMALL), None, names[np.nan_to_num(L_SMALL).astype(int)]))
    out = ma.get_label_quality_multiannotator(as_str, P_SMALL, verbose=False)
    assert out["label_quality"]["consensus_label"].tolist() == names[ref["label_quality"]["consensus_label"]].tolist()
    close(out["label_quality"]["consensus_quality_score"], ref["label_quality"]["consensus_quality_score"], "q")


# --------------------------------------------------------------------------- rows not summing to 1
def _unnormalised_case(seed=0):
    rng = np.random.default_rng(seed)
    N, M, K = 50, 4, 3
    truth = rng.integers(0, K, N)
    L = np.where(rng.random((N, M)) < 0.8, truth[:, None], rng.integers(0, K, (N, M))).astype(float)
    L[rng.random((N, M)) < 0.4] = np.nan
    L[np.isnan(L).all(axis=1), 0] = truth[np.isnan(L).all(axis=1)]
    P = rng.dirichlet(np.ones(K), (2, N))
    scale = rng.uniform(0.3, 1.0, (2, N, 1))  # each row sums to its scale, within [0, 1]
    return L, P * scale


@pytest.mark.parametrize("call", [
    lambda f, L, Q: f.get_label_quality_multiannotator(L, Q[0], return_weights=True, verbose=False),
    lambda f, L, Q: f.get_label_quality_multiannotator(L, Q[0], calibrate_probs=True, verbose=False,
                                                       consensus_method=["best_quality", "majority_vote"]),
    lambda f, L, Q: f.get_label_quality_multiannotator(L, Q[0], quality_method="agreement", verbose=False),
    lambda f, L, Q: f.get_label_quality_multiannotator_ensemble(L, Q, return_weights=True, verbose=False),
    lambda f, L, Q: f.get_active_learning_scores(L, Q[0], Q[1, :9]),
    lambda f, L, Q: f.get_active_learning_scores_ensemble(L, Q, Q[:, :9]),
    lambda f, L, Q: f.get_majority_vote_label(L, Q[0], verbose=False),
], ids=["quality", "quality-calibrated", "agreement", "quality-ensemble", "activelab", "activelab-ensemble",
        "majority-vote"])
def test_unnormalised_pred_probs_used_as_given_like_cleanlab(oracle, call):
    """cleanlab uses pred_probs as given; so does the drop-in module, with one warning of its
    own category (the core functions refuse such rows)."""
    L, Q = _unnormalised_case()
    theirs = call(oracle, L, Q)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ours = call(ma, L, Q)
    mine = [w for w in caught if issubclass(w.category, ma.PredProbsNotNormalisedWarning)]
    assert len(mine) == 1 and "do not sum to 1" in str(mine[0].message)
    assert issubclass(ma.PredProbsNotNormalisedWarning, UserWarning)
    if isinstance(theirs, dict):
        assert_result_same(ours, theirs)
    elif isinstance(theirs, tuple):
        for a, b in zip(ours, theirs):
            close(a, b, "scores")
    else:
        np.testing.assert_array_equal(ours, theirs)


def test_core_functions_stay_strict_and_normalised_input_is_quiet():
    import skactivelab as sk

    L, Q = _unnormalised_case(1)
    with pytest.raises(ValueError, match="do not sum to 1"):
        sk.get_label_quality_multiannotator(L, Q[0])
    with pytest.raises(ValueError, match="do not sum to 1"):
        sk.get_active_learning_scores(L, Q[0])
    P = Q / Q.sum(axis=-1, keepdims=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ma.PredProbsNotNormalisedWarning)
        ma.get_label_quality_multiannotator(L, P[0], verbose=False)
        ma.get_active_learning_scores(L, P[0] * 1.004)  # within 0.01: renormalised, no warning
    with pytest.raises(ValueError, match="negative"):
        ma.get_active_learning_scores(L, P[0] - 0.5)  # still refused: not probabilities at all
