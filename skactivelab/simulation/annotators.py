"""Simulated annotators: noise matrices and the oracle of every annotator's labels.

* :func:`shared_noise_matrix`: one noise matrix with a given trace, as in the paper;
* :func:`heterogeneous_noise_matrices` and :func:`mixed_annotator_accuracies`: one
  matrix per annotator, a mixed crowd (near-perfect, typical, poor annotators and
  spammers);
* :func:`simulate_annotator_labels`: the hidden "oracle" matrix of every annotator's
  label for every example.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "heterogeneous_noise_matrices",
    "mixed_annotator_accuracies",
    "shared_noise_matrix",
    "simulate_annotator_labels",
]


def shared_noise_matrix(n_classes, trace, *, spread=0.05, random_state=None):
    """One noise matrix shared by all annotators, with the given trace.

    Parameters
    ----------
    n_classes : int
    trace : float
        Sum of the diagonal; ``trace / n_classes`` is the mean accuracy per class
        (the paper uses ``0.85 * n_classes``).
    spread : float, default=0.05
        Per-class accuracies vary uniformly by up to this much around
        ``trace / n_classes`` (then shifted back to the exact trace).
    random_state : int, Generator or None

    Returns
    -------
    ndarray of shape (n_classes, n_classes)
        Row-stochastic ``T[true, given]`` = probability an annotator gives class
        ``given`` to an example of class ``true``; the diagonal is the largest
        entry of each row.

    Examples
    --------
    >>> import numpy as np
    >>> T = shared_noise_matrix(3, 0.8 * 3, random_state=0)
    >>> T.shape, bool(np.allclose(T.sum(axis=1), 1.0)), round(float(np.trace(T)), 6)
    ((3, 3), True, 2.4)
    """
    K = int(n_classes)
    if K < 2:
        raise ValueError(f"n_classes must be >= 2, got {n_classes}.")
    mean_acc = trace / K
    if not (1.0 / K < mean_acc <= 1.0):
        raise ValueError(
            f"trace={trace} gives a mean accuracy {mean_acc:.3f}; it must be in (1/K, 1] "
            f"= ({1 / K:.3f}, 1] so the diagonal dominates."
        )
    rng = np.random.default_rng(random_state)
    d = mean_acc + rng.uniform(-spread, spread, K)
    d += mean_acc - d.mean()
    d = np.clip(d, 1.0 / K + 1e-3, 1.0)
    off = rng.dirichlet(np.ones(K - 1), size=K) * (1.0 - d)[:, None]
    T = np.empty((K, K))
    mask = ~np.eye(K, dtype=bool)
    T[mask] = off.ravel()
    T[np.arange(K), np.arange(K)] = d
    # the diagonal must dominate each row (a valid noise matrix)
    worst = np.where(mask, T, -np.inf).max(axis=1)
    if np.any(worst >= d):
        T[mask] = np.repeat((1.0 - d) / (K - 1), K - 1)
    return T


def heterogeneous_noise_matrices(accuracies, n_classes):
    """One symmetric noise matrix per annotator from its accuracy.

    Annotator j answers correctly with probability ``accuracies[j]`` and otherwise
    picks one of the other ``n_classes - 1`` classes uniformly; an accuracy of
    ``1 / n_classes`` is a spammer (uniformly random labels).

    Returns
    -------
    ndarray of shape (n_annotators, n_classes, n_classes)

    Examples
    --------
    >>> T = heterogeneous_noise_matrices([1.0, 0.5], 3)
    >>> T.shape
    (2, 3, 3)
    >>> T[1].tolist()
    [[0.5, 0.25, 0.25], [0.25, 0.5, 0.25], [0.25, 0.25, 0.5]]
    """
    acc = np.asarray(accuracies, dtype=np.float64)
    K = int(n_classes)
    if acc.ndim != 1 or np.any(acc < 0) or np.any(acc > 1):
        raise ValueError("accuracies must be a 1-D array of numbers in [0, 1].")
    eye = np.eye(K)
    return acc[:, None, None] * eye + ((1.0 - acc) / (K - 1))[:, None, None] * (1.0 - eye)


def mixed_annotator_accuracies(n_annotators, n_classes, *, random_state=None):
    """Accuracies of a mixed crowd: 20% near-perfect (0.95-1.0), 50% typical
    (0.7-0.9), 20% poor (0.45-0.6, above chance), 10% spammers (``1/K``).

    Returns ndarray of shape (n_annotators,), in random order.

    Examples
    --------
    >>> acc = mixed_annotator_accuracies(10, 4, random_state=0)
    >>> acc.shape, int((acc >= 0.95).sum()), int((acc == 1 / 4).sum())
    ((10,), 2, 1)
    """
    rng = np.random.default_rng(random_state)
    M = int(n_annotators)
    n_good, n_typ, n_poor = round(0.2 * M), round(0.5 * M), round(0.2 * M)
    n_spam = M - n_good - n_typ - n_poor
    acc = np.concatenate(
        [
            rng.uniform(0.95, 1.0, n_good),
            rng.uniform(0.7, 0.9, n_typ),
            rng.uniform(max(0.45, 1.0 / n_classes + 0.05), 0.6, n_poor),
            np.full(max(n_spam, 0), 1.0 / n_classes),
        ]
    )[:M]
    return rng.permutation(acc)


def simulate_annotator_labels(y_true, noise_matrix, n_annotators=None, *, random_state=None):
    """Oracle matrix: every annotator's label for every example.

    Parameters
    ----------
    y_true : array-like of int, shape (n_examples,)
        True classes 0..K-1.
    noise_matrix : array-like of shape (K, K) or (n_annotators, K, K)
        Row-stochastic ``T[true, given]``; a single matrix is shared by
        ``n_annotators`` annotators.
    n_annotators : int, optional
        Required with a single (K, K) matrix.
    random_state : int, Generator or None

    Returns
    -------
    ndarray of int64, shape (n_examples, n_annotators)

    Examples
    --------
    Perfect annotators (an identity noise matrix) copy the true classes:

    >>> import numpy as np
    >>> simulate_annotator_labels([0, 1, 2], np.eye(3), n_annotators=2, random_state=0).tolist()
    [[0, 0], [1, 1], [2, 2]]
    """
    y = np.asarray(y_true, dtype=np.int64)
    T = np.asarray(noise_matrix, dtype=np.float64)
    if T.ndim == 2:
        if n_annotators is None:
            raise ValueError("pass n_annotators with a single (K, K) noise matrix.")
        T = np.broadcast_to(T, (int(n_annotators),) + T.shape)
    elif n_annotators is not None and n_annotators != T.shape[0]:
        raise ValueError(f"noise_matrix has {T.shape[0]} annotators but n_annotators={n_annotators}.")
    if T.ndim != 3 or T.shape[1] != T.shape[2]:
        raise ValueError(f"noise_matrix must be (K, K) or (M, K, K), got shape {T.shape}.")
    if not np.allclose(T.sum(axis=2), 1.0, atol=1e-6) or np.any(T < 0):
        raise ValueError("each row of noise_matrix (true class) must be a probability distribution.")
    if y.size and (y.min() < 0 or y.max() >= T.shape[1]):
        raise ValueError(f"y_true must hold classes 0..{T.shape[1] - 1}.")
    rng = np.random.default_rng(random_state)
    C = np.cumsum(T, axis=2)[:, y, :]  # (M, N, K)
    u = rng.random((T.shape[0], y.size, 1))
    labels = np.minimum((u > C[:, :, :-1]).sum(axis=2), T.shape[1] - 1)
    return labels.T.astype(np.int64)
