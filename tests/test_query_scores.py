"""Model-only query scores and batch selection (skactivelab.query)."""

import numpy as np
import pytest

from skactivelab.query import entropy_scores, margin_scores, select_batch, uncertainty_scores

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
