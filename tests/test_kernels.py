"""Kernels against direct, dense implementations of the spec formulas (hand computation)."""

import numpy as np
import pytest

import skactivelab as sk
from skactivelab import _kernels as K_
from skactivelab._annotations import check_annotations


def _dense_entropy(P, ann, T):
    """spec 3 written out densely: mean_i -sum_k E log max(S_T, TINY) / log K."""
    N, K = P.shape
    n = np.bincount(ann.example, minlength=N)
    E = np.zeros((N, K))
    np.add.at(E, (ann.example, ann.label), 1.0)
    E /= n[:, None]
    with np.errstate(divide="ignore"):
        z = np.log(P) / max(T, 1e-6)
    S = np.exp(z - z.max(axis=1, keepdims=True))
    S /= S.sum(axis=1, keepdims=True)
    return np.mean(-(E * np.log(np.maximum(S, 1e-30))).sum(axis=1) / np.log(K))


def _dense_best_temperature(P, ann):
    grid = [0.1, 0.2, 0.5, 0.8, 1, 2, 3, 5, 8]
    g = int(np.argmin([_dense_entropy(P, ann, T) for T in grid]))
    fine = []
    if g > 0:
        fine += list(np.linspace(grid[g - 1], grid[g], 4, endpoint=False))
    if g < len(grid) - 1:
        fine += list(np.linspace(grid[g], grid[g + 1], 5, endpoint=True))
    return fine[int(np.argmin([_dense_entropy(P, ann, T) for T in fine]))]


@pytest.mark.parametrize("seed", range(6))
def test_entropy_loss_matches_dense_formula_with_exact_zeros(seed):
    rng = np.random.default_rng(seed)
    N, K = 300, 2 + seed
    P = rng.dirichlet(np.ones(K) * 0.3, N)
    P[rng.random((N, K)) < 0.3] = 0.0  # trees give exact zeros: the TINY clip binds
    P[:, 0] += 1e-9
    P /= P.sum(axis=1, keepdims=True)
    P[:30] = np.eye(K)[rng.integers(0, K, 30)]
    L = np.where(rng.random((N, 4)) < 0.5, rng.integers(0, K, (N, 4)), -1)
    L[:, 0] = rng.integers(0, K, N)
    ann = check_annotations(L, n_classes=K)
    n = np.bincount(ann.example, minlength=N).astype(float)
    temps = np.concatenate([K_.COARSE_TEMPERATURES, [0.35, 1.25, 6.5]])
    ours = K_._entropy_loss(P, ann, n, temps)
    dense = np.array([_dense_entropy(P, ann, T) for T in temps])
    np.testing.assert_allclose(ours, dense, rtol=1e-12, atol=1e-12)
    assert sk.find_best_temperature(P, L) == pytest.approx(_dense_best_temperature(P, ann), abs=1e-12)


def test_threaded_log_norms_equal_single_block(monkeypatch):
    rng = np.random.default_rng(0)
    shifted = -rng.random((5, 1001)) * 4
    temps = [0.1, 1.0, 8.0]
    monkeypatch.setattr(K_, "_n_threads", lambda size: 1)
    one = K_._log_norms(shifted, temps)
    monkeypatch.setattr(K_, "_n_threads", lambda size: 3)
    three = K_._log_norms(shifted, temps)
    np.testing.assert_array_equal(one, three)
    np.testing.assert_allclose(one[1], np.log(np.exp(shifted).sum(axis=0)), rtol=1e-13)


def test_max_temp_scaled_matches_full_scaling():
    rng = np.random.default_rng(1)
    U = rng.dirichlet(np.ones(7) * 0.5, 200)
    U[:20, 3] = 0.0
    U /= U.sum(axis=1, keepdims=True)
    for T in (0.1, 1.0, 2.5):
        np.testing.assert_allclose(
            K_.max_temp_scaled(U, T), K_.temp_scale(U, T).max(axis=1), rtol=1e-13
        )


def test_crowdlab_posterior_hand_example():
    # 3 examples, 2 annotators, K = 2; consensus = majority vote with P ties.
    L = np.array([[0, 0], [1, 0], [1, 1]])
    P = np.array([[0.8, 0.2], [0.3, 0.7], [0.4, 0.6]])
    res = sk.get_label_quality_multiannotator(L, P, consensus_method="majority_vote")
    # majority vote: row 1 tied (1 vs 0) -> highest P -> 1
    assert res.consensus_label.tolist() == [0, 1, 1]
    # spec 2: agree = [1, 0.5, 1]; I+ = all; p_agree = 5/6; p_other = 1/6
    # mlc over consensus [0,1,1]: most frequent 1, error 1/3
    # s_j: annotator 0 labels (0,1,1): m-1 = (1,0,1) over n-1 = (1,1,1) -> 2/3; annotator 1: (0,0,1) -> (1,0,1) -> 2/3
    # w_j = 1 - (1/3)/(1/3) = 0 -> clipped to 1e-6
    # model error: argmax P = [0,1,1] vs consensus -> 0 -> w_M = 1 * sqrt(2)
    w, wM, pa, po = 1e-6, np.sqrt(2.0), 5 / 6, 1 / 6
    lik = np.where(L[:, :, None] == np.arange(2), pa, po).sum(axis=1)  # sum over annotators
    post = (wM * P + w * lik) / (wM + 2 * w)
    np.testing.assert_allclose(res.post_pred_probs, post, rtol=1e-12)
    np.testing.assert_allclose(res.model_weight, wM, rtol=1e-12)
    np.testing.assert_allclose(res.annotator_weights, [w, w], rtol=1e-12)
    np.testing.assert_allclose(res.consensus_quality_score, post[[0, 1, 2], [0, 1, 1]], rtol=1e-12)
