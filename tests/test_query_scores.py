"""Model-only query scores and batch selection (skactivelab.query)."""

import numpy as np
import pytest

from skactivelab.query import (RunningTopK, assign_annotators, entropy_scores, lowest, margin_scores,
                               select_batch, uncertainty_scores)

P = np.array([[0.5, 0.3, 0.2], [1.0, 0.0, 0.0], [1 / 3, 1 / 3, 1 / 3], [0.1, 0.6, 0.3]])


def test_uncertainty_hand_computed():
    np.testing.assert_allclose(uncertainty_scores(P), [0.5, 1.0, 1 / 3, 0.6])


def test_margin_hand_computed():
    np.testing.assert_allclose(margin_scores(P), [0.2, 1.0, 0.0, 0.3], atol=1e-12)


def test_entropy_hand_computed():
    h0 = -(0.5 * np.log(0.5) + 0.3 * np.log(0.3) + 0.2 * np.log(0.2)) / np.log(3)
    h3 = -(0.1 * np.log(0.1) + 0.6 * np.log(0.6) + 0.3 * np.log(0.3)) / np.log(3)
    np.testing.assert_allclose(entropy_scores(P), [1 - h0, 1.0, 0.0, 1 - h3], atol=1e-12)


@pytest.mark.parametrize("fn", [uncertainty_scores, margin_scores, entropy_scores])
def test_lower_means_more_uncertain(fn):
    s = fn(P)
    assert np.argmin(s) == 2  # the uniform row comes first
    assert np.argmax(s) == 1  # the one-hot row comes last


@pytest.mark.parametrize("fn", [uncertainty_scores, margin_scores, entropy_scores])
def test_inputs_not_modified_and_validated(fn):
    P2 = P.copy()
    fn(P2)
    np.testing.assert_array_equal(P2, P)
    with pytest.raises(ValueError, match="sum to 1"):
        fn([[0.5, 0.6]])
    with pytest.raises(ValueError, match="dimensions"):
        fn([0.5, 0.5])


def test_select_batch_lowest_first():
    s = np.array([0.3, 0.1, 0.9, 0.2, 0.05])
    assert select_batch(s, 3).tolist() == [4, 1, 3]


def test_select_batch_candidates_index_and_mask():
    s = np.array([0.3, 0.1, 0.9, 0.2, 0.05])
    assert select_batch(s, 2, candidates=[0, 2, 3]).tolist() == [3, 0]
    mask = np.array([True, False, True, False, False])
    assert select_batch(s, 2, candidates=mask).tolist() == [0, 2]


def test_select_batch_ties_random_but_seeded():
    s = np.zeros(100)
    a = select_batch(s, 10, random_state=0)
    b = select_batch(s, 10, random_state=0)
    c = select_batch(s, 10, random_state=1)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    assert np.unique(a).size == 10
    # ties broken randomly, not by position: over seeds every index gets picked
    picked = np.concatenate([select_batch(s, 1, random_state=r) for r in range(300)])
    assert np.unique(picked).size > 80


def test_select_batch_ties_only_among_equal_scores():
    s = np.array([0.5, 0.1, 0.1, 0.7, 0.1])
    for seed in range(20):
        assert set(select_batch(s, 3, random_state=seed).tolist()) == {1, 2, 4}


def test_select_batch_errors():
    s = np.arange(5.0)
    with pytest.raises(ValueError, match="n_instances must be >= 1"):
        select_batch(s, 0)
    with pytest.raises(ValueError, match="more than the 2 candidate"):
        select_batch(s, 3, candidates=[0, 1])
    with pytest.raises(ValueError, match="more than the 5 candidate"):
        select_batch(s, 6)
    with pytest.raises(ValueError, match="duplicate"):
        select_batch(s, 1, candidates=[1, 1])
    with pytest.raises(ValueError, match="outside"):
        select_batch(s, 1, candidates=[7])
    with pytest.raises(ValueError, match="NaN"):
        select_batch([np.nan, 1.0], 1)
    with pytest.raises(TypeError):
        select_batch(s, 1.5)


@pytest.mark.parametrize("scores", [["a", "b", "c"], [1j, 0.5, 0.2], np.array([None, "x", 1], dtype=object)])
def test_select_batch_refuses_scores_that_are_not_real_numbers(scores):
    with pytest.raises(TypeError, match="scores must hold real numbers"):
        select_batch(scores, 1)
    with pytest.raises(TypeError, match="scores is None"):
        select_batch(None, 1)


# ------------------------------------------------------------------ the batch of a stream of chunks
def test_lowest_and_running_topk_refuse_mismatched_chunks():
    s = np.array([0.3, 0.1, 0.2])
    assert lowest(s, np.arange(3), 0).size == 0
    with pytest.raises(ValueError, match=r"positions must be integers, one per score \(shape \(3,\)\)"):
        lowest(s, np.arange(2), 1)
    with pytest.raises(ValueError, match=r"positions must be integers"):
        lowest(s, np.array([0.0, 1.0, 2.0]), 1)
    with pytest.raises(ValueError, match=r"tiebreak must have one draw per score"):
        lowest(s, np.arange(3), 1, np.zeros(2))
    with pytest.raises(ValueError, match=r"scores must be 1-D"):
        lowest(s[None], np.arange(3), 1)
    with pytest.raises(ValueError, match=r"n must be an integer >= 0, got -1"):
        lowest(s, np.arange(3), -1)
    with pytest.raises(TypeError, match=r"n must be an integer >= 0, got 1.0"):
        lowest(s, np.arange(3), 1.0)
    for n, exc in ((0, ValueError), (-2, ValueError), (1.5, TypeError), ("3", TypeError)):
        with pytest.raises(exc, match=r"n must be an integer >= 1"):
            RunningTopK(n)
    top = RunningTopK(2)
    with pytest.raises(ValueError, match=r"positions must be integers, one per score"):
        top.add([0.1, 0.2], [0], ["a", "b"])
    with pytest.raises(ValueError, match=r"payload must have one entry per score \(2\)"):
        top.add([0.1, 0.2], [0, 1], ["a"])
    top.add([0.1, 0.2], [0, 1], ["a", "b"])  # refused chunks left nothing behind
    assert top.positions.tolist() == [0, 1]
    with pytest.raises(ValueError, match="tiebreak is given for some chunks but not for others"):
        top.add([0.1], [2], ["c"], tiebreak=np.zeros(1))
    seeded = RunningTopK(2)
    seeded.add([0.1], [0], ["a"], tiebreak=np.array([0.5]))
    with pytest.raises(ValueError, match="tiebreak is given for some chunks but not for others"):
        seeded.add([0.1], [1], ["b"])


# ------------------------------------------------------------------ annotators for a batch
def test_assign_annotators_hand_case():
    quality = [0.5, np.nan, 0.9, 0.7]
    eligible = np.array(
        [[1, 1, 1, 1], [1, 1, 0, 1], [1, 1, 1, 1], [1, 1, 1, 1], [0, 1, 0, 0]], dtype=bool
    )
    # best first: 2 (0.9), 3 (0.7), 0 (0.5), 1 (NaN)
    assert assign_annotators(quality, eligible).tolist() == [2, 3, 2, 2, 1]
    assert assign_annotators(quality, eligible, max_per_annotator=1).tolist() == [2, 3, 0, 1, -1]
    with pytest.raises(ValueError, match="max_per_annotator"):
        assign_annotators(quality, eligible, max_per_annotator=0)
    # nobody to ask: every row gets -1
    assert assign_annotators(np.empty(0), np.ones((3, 0), bool)).tolist() == [-1, -1, -1]
    assert assign_annotators(np.empty(0), np.ones((3, 0), bool), max_per_annotator=2).tolist() == [-1] * 3
    # 0/1 numbers are a mask too; NaN quality (None in an object array) ranks last
    quality = np.array([None, 0.5], dtype=object)
    np.testing.assert_array_equal(assign_annotators(quality, [[1, 1], [1, 0]]), [1, 0])


ELIGIBLE = np.ones((3, 2), dtype=bool)


@pytest.mark.parametrize(
    "quality, eligible, kw, exc, match",
    [
        ([0.9, 0.5, 0.1], ELIGIBLE, {}, ValueError,
         r"quality must be 1-D with one entry per column of eligible \(2 annotators\), got shape \(3,\)"),
        ([[0.9, 0.5]], ELIGIBLE, {}, ValueError, r"quality must be 1-D .*got shape \(1, 2\)"),
        (0.5, ELIGIBLE, {}, ValueError, r"quality must be 1-D"),
        (None, ELIGIBLE, {}, TypeError, r"quality is None"),
        (["good", "bad"], ELIGIBLE, {}, TypeError, r"quality must hold real numbers"),
        ([np.inf, 0.5], ELIGIBLE, {}, ValueError, r"quality holds infinite values.*NaN for an annotator"),
        ([0.9, 0.5], [True, False], {}, ValueError,
         r"eligible must be 2-D \(n_rows, n_annotators\), got shape \(2,\).*eligible\[None, :\]"),
        ([0.9, 0.5], np.ones((1, 3, 2), bool), {}, ValueError, r"eligible must be 2-D"),
        ([0.9, 0.5], None, {}, TypeError, r"eligible is None"),
        ([0.9, 0.5], np.array([[0, 2], [1, 0], [1, 1]]), {}, ValueError,
         r"eligible must hold True/False \(or 1/0\) only.*\[2.0\]"),
        ([0.9, 0.5], np.array([[np.nan, 1], [1, 0], [1, 1]]), {}, ValueError, r"eligible must hold True/False"),
        ([0.9, 0.5], np.array([["yes", "no"]] * 3), {}, TypeError, r"eligible must hold real numbers"),
        ([0.9, 0.5], ELIGIBLE, dict(max_per_annotator=0), ValueError,
         r"max_per_annotator must be an integer >= 1 or None \(no cap\), got 0"),
        ([0.9, 0.5], ELIGIBLE, dict(max_per_annotator=-1), ValueError, r"max_per_annotator must be an integer >= 1"),
        ([0.9, 0.5], ELIGIBLE, dict(max_per_annotator=1.5), TypeError,
         r"max_per_annotator must be an integer >= 1 or None \(no cap\), got 1.5"),
        ([0.9, 0.5], ELIGIBLE, dict(max_per_annotator=2.0), TypeError, r"max_per_annotator must be an integer"),
        ([0.9, 0.5], ELIGIBLE, dict(max_per_annotator=float("nan")), TypeError,
         r"max_per_annotator must be an integer"),
        ([0.9, 0.5], ELIGIBLE, dict(max_per_annotator="2"), TypeError, r"max_per_annotator must be an integer"),
        ([0.9, 0.5], ELIGIBLE, dict(max_per_annotator=True), TypeError, r"max_per_annotator must be an integer"),
        ([0.9, 0.5], ELIGIBLE, dict(max_per_annotator=np.array([1, 2])), TypeError,
         r"max_per_annotator must be an integer"),
    ],
)
def test_assign_annotators_bad_input_names_the_argument(quality, eligible, kw, exc, match):
    with pytest.raises(exc, match=match):
        assign_annotators(quality, eligible, **kw)

