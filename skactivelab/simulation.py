"""Simulated annotators and the ActiveLab benchmark runner (docs/algorithms.md, section 6).

Pieces, usable on their own:

* annotators: :func:`shared_noise_matrix` (one noise matrix with a given trace,
  as in the paper), :func:`heterogeneous_noise_matrices` and
  :func:`mixed_annotator_accuracies` (near-perfect, typical, poor annotators and
  spammers), :func:`simulate_annotator_labels` (the hidden "oracle" matrix of
  every annotator's label for every example);
* :func:`make_task`: train/test split, oracle and initial annotations for one of
  the :data:`SETTINGS`;
* :func:`run_method`: one method on one task, round by round;
* :func:`run_benchmark`: every method x seed (in parallel with ``n_jobs``),
  returning a :class:`BenchmarkResult` with ``to_csv``, ``to_json``, ``summary``;
* :func:`plot_results`: accuracy against round per method (matplotlib, optional),
  optionally beside the paper's curves (:func:`load_paper_results`).

A round (algorithms 6): (1) consensus labels of the labeled set: majority vote
while no example has two labels (always in round 0), else CROWDLAB on the
previous round's out-of-fold ``pred_probs`` (calibrated); (2) k-fold
cross-validation on the consensus gives out-of-fold ``pred_probs`` for the
labeled set, the fold models' mean prediction for the pool, and the mean of the
fold models' test accuracies; (3) record test and consensus accuracy; (4) the
method scores every candidate (lower = label first) and the ``batch_size``
lowest get one more label each from the oracle. Every random choice flows from
one seed through :class:`numpy.random.Generator` objects.
"""

from __future__ import annotations

import json
import time
import warnings
from dataclasses import dataclass, field

import numpy as np
from sklearn.model_selection import train_test_split

from ._annotations import check_annotations
from ._models import fit_fold_model, fold_splits, make_model, seeded
from ._phases import kind_of
from .crowdlab import get_label_quality_multiannotator, get_label_quality_multiannotator_ensemble
from .majority_vote import get_majority_vote_label
from .query import assign_annotators, select_batch
from .strategies import (ActiveLabQuery, EntropyQuery, GoodRandomQuery, PoolRows, RandomQuery,
                         UncertaintyQuery)

__all__ = [
    "BenchmarkResult",
    "METHODS",
    "SETTINGS",
    "SimulatedTask",
    "heterogeneous_noise_matrices",
    "load_paper_results",
    "make_model",
    "make_replay_task",
    "make_task",
    "mixed_annotator_accuracies",
    "plot_results",
    "run_benchmark",
    "run_method",
    "shared_noise_matrix",
    "simulate_annotator_labels",
]

#: Methods of :func:`run_method`. Each scores rows with its query strategy
#: (random, good_random, entropy, uncertainty: the baselines; the "activelab*"
#: methods: :class:`~skactivelab.ActiveLabQuery`); "activelab_ensemble" scores
#: with several models; "activelab_em*" use ``active_learning_method="activelab_em"``
#: for consensus and scores; "*suggest*" methods send each pick to the best-rated
#: annotator who has not labeled it (CROWDLAB quality, or the crowd model's
#: accuracy for "activelab_em_suggest"), "activelab_suggest" with at most
#: ``ceil(2 B / M)`` picks per annotator per round.
METHODS = (
    "random",
    "good_random",
    "entropy",
    "uncertainty",
    "activelab",
    "activelab_ensemble",
    "activelab_suggest",
    "activelab_suggest_nocap",
    "activelab_em",
    "activelab_em_suggest",
)
_ACTIVELAB_METHODS = ("activelab", "activelab_ensemble", "activelab_suggest", "activelab_suggest_nocap",
                      "activelab_em", "activelab_em_suggest")
_SUGGEST_METHODS = ("activelab_suggest", "activelab_suggest_nocap", "activelab_em_suggest")


def _active_learning_method(method):
    """The ``active_learning_method`` a method scores (and forms its consensus) with."""
    return "activelab_em" if method.startswith("activelab_em") else "activelab"

#: Distribution of the number of initial labels per labeled example (1..5):
#: mostly one label, as in the paper's released data (898/94/7/1 of 1000).
MOSTLY_ONE_LABEL = (0.90, 0.09, 0.008, 0.001, 0.001)

#: The four settings of the issue. ``initial_fraction`` of the training rows
#: start labeled, the rest are the unlabeled pool.
SETTINGS = {
    # (1) multi-annotator active learning with an unlabeled pool (the paper's main setting)
    "multiannotator": dict(initial_fraction=0.5, allow_relabel=True, initial_label_probs=MOSTLY_ONE_LABEL),
    # (2) a large pool, noisy annotators: re-labeling allowed ...
    "large_pool": dict(initial_fraction=0.1, allow_relabel=True, initial_label_probs=(1.0,)),
    # ... versus at most one label per example
    "large_pool_no_relabel": dict(initial_fraction=0.1, allow_relabel=False, initial_label_probs=(1.0,)),
    # (3) single annotation per example: traditional active learning
    "single_label": dict(initial_fraction=0.5, allow_relabel=False, initial_label_probs=(1.0,)),
    # (4) label cleaning: every example labeled, no pool ("wall-robot-completely-labeled")
    "label_cleaning": dict(initial_fraction=1.0, allow_relabel=True, initial_label_probs=MOSTLY_ONE_LABEL),
}


# --------------------------------------------------------------------------- annotators
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


# --------------------------------------------------------------------------- task
@dataclass
class SimulatedTask:
    """Data, hidden oracle and initial annotations of one simulation run.

    Annotations are sparse triples over training rows: ``init_example[a]`` got
    label ``init_label[a]`` from annotator ``init_annotator[a]``.

    Examples
    --------
    >>> import numpy as np
    >>> X, y = np.arange(8.0).reshape(4, 2), np.array([0, 1, 0, 1])
    >>> oracle = np.array([[0, 0], [1, 0], [0, 0], [1, 1]])
    >>> task = SimulatedTask(X, y, X, y, oracle, init_example=np.array([0, 1]),
    ...                      init_annotator=np.array([0, 1]), init_label=np.array([0, 0]), n_classes=2)
    >>> task.n_annotators, task.is_replay
    (2, False)
    """

    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    oracle: np.ndarray
    init_example: np.ndarray
    init_annotator: np.ndarray
    init_label: np.ndarray
    n_classes: int
    allow_relabel: bool = True
    setting: str = "custom"
    #: Replayed real labels: ``available[i, j]`` = annotator j has a label for
    #: example i (``oracle[i, j]``, -1 elsewhere); None for simulated annotators,
    #: who can label anything.
    available: np.ndarray | None = None
    #: Replay order: ``reveal_rank[i, j]`` = when annotator j's label of example i
    #: comes out (lower first; a random order per seed); None when simulated.
    reveal_rank: np.ndarray | None = None

    @property
    def n_annotators(self):
        return self.oracle.shape[1]

    @property
    def is_replay(self):
        return self.available is not None


def _setting_config(setting, **overrides):
    """The values of ``SETTINGS[setting]``, with the overrides that are not None."""
    if setting not in SETTINGS:
        raise ValueError(f"unknown setting {setting!r}; use one of {sorted(SETTINGS)}.")
    cfg = dict(SETTINGS[setting])
    cfg.update({key: val for key, val in overrides.items() if val is not None})
    return cfg


def _initial_annotations(n_tr, M, initial_fraction, initial_label_probs, rng):
    """(example, annotator) of the initial labels: a random ``initial_fraction`` of the rows, each with
    ``n`` distinct random annotators, ``n`` drawn from ``initial_label_probs``."""
    n_init = int(round(initial_fraction * n_tr))
    if n_init < 1:
        raise ValueError("initial_fraction leaves no labeled example; the first model needs labels.")
    rows = np.sort(rng.permutation(n_tr)[:n_init])
    probs = np.asarray(initial_label_probs, dtype=np.float64)
    probs = probs / probs.sum()
    n_lab = np.minimum(rng.choice(np.arange(1, probs.size + 1), size=n_init, p=probs), M)
    # n_lab[i] distinct random annotators per example: the first n_lab[i] of a random order
    order = np.argsort(rng.random((n_init, M)), axis=1)
    take = np.arange(M)[None, :] < n_lab[:, None]
    return np.repeat(rows, n_lab), order[take]


def make_task(
    X,
    y,
    *,
    setting="multiannotator",
    n_annotators=30,
    trace=0.85,
    noise_matrices=None,
    test_size=1 / 3,
    initial_fraction=None,
    initial_label_probs=None,
    allow_relabel=None,
    random_state=None,
):
    """Split data, simulate annotators and reveal the initial annotations.

    Parameters
    ----------
    X, y : arrays
        Features and true classes 0..K-1.
    setting : str, default="multiannotator"
        A key of :data:`SETTINGS`; ``initial_fraction``, ``initial_label_probs``
        and ``allow_relabel`` override its values.
    n_annotators : int, default=30
    trace : float, default=0.85
        Mean annotator accuracy; the shared noise matrix has trace ``trace * K``
        (ignored when ``noise_matrices`` is given).
    noise_matrices : array of shape (K, K) or (n_annotators, K, K), optional
        E.g. from :func:`heterogeneous_noise_matrices`.
    test_size : float, default=1/3
    initial_fraction : float, optional
        Fraction of training rows labeled at the start.
    initial_label_probs : sequence of float, optional
        ``p[n-1]`` = probability an initially labeled example has n labels.
    allow_relabel : bool, optional
        Whether labeled examples may receive more labels.
    random_state : int or None

    Returns
    -------
    SimulatedTask

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> X, y = make_classification(60, 4, n_informative=3, n_redundant=0, random_state=0)
    >>> task = make_task(X, y, n_annotators=5, random_state=0)
    >>> task.X_train.shape, task.X_test.shape, task.oracle.shape
    ((40, 4), (20, 4), (40, 5))
    >>> int(task.init_example.size) >= 20  # half of the training rows start labeled
    True
    """
    cfg = _setting_config(setting, initial_fraction=initial_fraction, initial_label_probs=initial_label_probs,
                          allow_relabel=allow_relabel)
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.int64)
    K = int(y.max()) + 1
    ss = np.random.SeedSequence(random_state)
    r_split, r_noise, r_oracle, r_init = (np.random.default_rng(s) for s in ss.spawn(4))
    X_tr, X_te, y_tr, y_te = train_test_split(
        X, y, test_size=test_size, stratify=y, random_state=int(r_split.integers(2**31 - 1))
    )
    if noise_matrices is None:
        noise_matrices = shared_noise_matrix(K, trace * K, random_state=r_noise)
    oracle = simulate_annotator_labels(
        y_tr, noise_matrices, None if np.ndim(noise_matrices) == 3 else n_annotators, random_state=r_oracle
    )
    ex, ann = _initial_annotations(y_tr.size, oracle.shape[1], cfg["initial_fraction"],
                                   cfg["initial_label_probs"], r_init)
    return SimulatedTask(
        X_train=X_tr,
        y_train=y_tr,
        X_test=X_te,
        y_test=y_te,
        oracle=oracle,
        init_example=ex,
        init_annotator=ann,
        init_label=oracle[ex, ann],
        n_classes=K,
        allow_relabel=bool(cfg["allow_relabel"]),
        setting=setting,
    )


def _check_code_triples(annotations):
    """``(example, annotator, label)`` as three 1-D arrays of codes >= 0, of one length."""
    try:
        ex, ann, lab = (np.asarray(a) for a in annotations)
    except (TypeError, ValueError):
        raise TypeError("annotations must be a tuple (example, annotator, label) of integer arrays.") from None
    for name, a in (("example", ex), ("annotator", ann), ("label", lab)):
        if a.ndim != 1 or a.size != ex.size or (a.size and a.dtype.kind not in "iu"):
            raise ValueError(f"annotations: {name} must be a 1-D integer array as long as the others.")
        if a.size and a.min() < 0:
            raise ValueError(f"annotations: {name} codes must be >= 0.")
    return ex, ann, lab


def _reveal_order(available, rng):
    """A random order of each example's annotators (unavailable ones last): the sort keys (inf where
    unavailable) and ``reveal_rank[i, j]``, annotator j's place in example i's order."""
    N, M = available.shape
    keys = np.where(available, rng.random((N, M)), np.inf)
    reveal_rank = np.empty((N, M), dtype=np.int64)
    reveal_rank[np.arange(N)[:, None], np.argsort(keys, axis=1)] = np.arange(M)
    return keys, reveal_rank


def make_replay_task(
    annotations,
    y_true,
    X,
    X_test,
    y_test,
    *,
    n_initial=None,
    n_classes=None,
    allow_relabel=True,
    random_state=None,
):
    """A task that replays labels collected from a real crowd.

    Each seed draws a random order of every example's real annotators and a
    random set of ``n_initial`` examples that start with their first label in
    that order. Every later pick of an example reveals its next label, from the
    annotator who gave it; an example whose labels are all revealed can no
    longer be picked. A method that suggests annotators (``activelab_suggest``,
    ``activelab_suggest_nocap``, ``activelab_em_suggest``) may instead choose
    which of the example's remaining annotators answers.

    Parameters
    ----------
    annotations : tuple of three int arrays
        ``(example, annotator, label)`` in long format: example = row of ``X``
        (0..n-1), annotator 0..M-1, label 0..K-1; an annotator labels an
        example at most once (see :func:`skactivelab.datasets.load_real_crowd`).
    y_true : array-like of int, shape (n,)
        True class of every row of ``X`` (for consensus accuracy).
    X : array-like of shape (n, n_features)
        Features of the annotated examples (the training rows).
    X_test, y_test : arrays
        Held-out test set.
    n_initial : int, optional
        Examples revealed with one label at the start. Default: half of them.
    n_classes : int, optional
        Default: one more than the largest class in ``y_true``, ``y_test`` and
        the labels.
    allow_relabel : bool, default=True
        Whether a labeled example may be picked again.
    random_state : int, SeedSequence or None

    Returns
    -------
    SimulatedTask
        ``oracle`` (n, M) holds the real labels (-1 where an annotator did not
        label an example), ``available`` and ``reveal_rank`` the replay state.

    Examples
    --------
    >>> import numpy as np
    >>> ex, ann, lab = np.array([0, 0, 1, 1, 2]), np.array([0, 1, 0, 1, 1]), np.array([0, 1, 1, 1, 0])
    >>> X = np.arange(6.0).reshape(3, 2)
    >>> task = make_replay_task((ex, ann, lab), [0, 1, 0], X, X, [0, 1, 0], n_initial=2, random_state=0)
    >>> task.oracle.tolist()
    [[0, 1], [1, 1], [-1, 0]]
    >>> int(task.init_example.size)
    2
    """
    ex, ann, lab = _check_code_triples(annotations)
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y_true, dtype=np.int64)
    X_test = np.asarray(X_test, dtype=np.float64)
    y_test = np.asarray(y_test, dtype=np.int64)
    N = X.shape[0]
    if y.shape != (N,) or X_test.shape[0] != y_test.size or X_test.shape[1:] != X.shape[1:]:
        raise ValueError("X and y_true, X_test and y_test must have matching rows, X and X_test the same features.")
    if ex.size == 0 or ex.max() >= N:
        raise ValueError(f"annotations: example codes must be rows of X (0..{N - 1}).")
    M = int(ann.max()) + 1
    K = int(max(y.max(), y_test.max(), lab.max())) + 1 if n_classes is None else int(n_classes)
    oracle = np.full((N, M), -1, dtype=np.int64)
    oracle[ex, ann] = lab
    if np.count_nonzero(oracle >= 0) != ex.size:
        raise ValueError("annotations: an annotator labels an example at most once; found repeats.")
    available = oracle >= 0
    has = np.flatnonzero(available.any(axis=1))
    n_init = has.size // 2 if n_initial is None else int(n_initial)
    if not 2 <= n_init <= has.size:
        raise ValueError(f"n_initial must be in 2..{has.size} (the annotated examples; cross-validation "
                         f"needs two labeled examples), got {n_initial}.")
    ss = random_state if isinstance(random_state, np.random.SeedSequence) else np.random.SeedSequence(random_state)
    r_order, r_init = (np.random.default_rng(s) for s in ss.spawn(2))
    keys, reveal_rank = _reveal_order(available, r_order)
    rows = np.sort(r_init.permutation(has)[:n_init])
    first = np.argmin(keys[rows], axis=1)
    return SimulatedTask(
        X_train=X,
        y_train=y,
        X_test=X_test,
        y_test=y_test,
        oracle=oracle,
        init_example=rows,
        init_annotator=first,
        init_label=oracle[rows, first],
        n_classes=K,
        allow_relabel=bool(allow_relabel),
        setting="replay",
        available=available,
        reveal_rank=reveal_rank,
    )


# --------------------------------------------------------------------------- one run
def _cross_val(models, X_lab, y_cons, X_other, y_test, n_test, K, n_folds, rng):
    """Out-of-fold P (E, N, K), mean fold prediction on X_other (E, n_other, K), test accuracy."""
    N = y_cons.size
    n_splits = min(n_folds, N)
    splits = fold_splits(X_lab, y_cons, n_splits, int(rng.integers(2**31 - 1)))
    E = len(models)
    P = np.zeros((E, N, K))
    O = np.zeros((E, X_other.shape[0], K))
    accs = []
    for tr, ho in splits:
        for e, model in enumerate(models):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # convergence warnings of small folds
                # a fold with one class: every model predicts it
                m = fit_fold_model(seeded(model, int(rng.integers(2**31 - 1))), X_lab[tr], y_cons[tr])
            cols = np.asarray(m.classes_, dtype=np.int64)
            P[e][np.ix_(ho, cols)] = m.predict_proba(X_lab[ho])
            if X_other.shape[0]:
                po = m.predict_proba(X_other)
                O[e][:, cols] += po / n_splits
                pt = po[X_other.shape[0] - n_test :]
                accs.append(np.mean(cols[np.argmax(pt, axis=1)] == y_test))
    return P, O, float(np.mean(accs))


def _annotator_quality(ex, ann, lab, P, n_annotators):
    """CROWDLAB annotator quality (NaN where unknown) for the annotator-suggestion variant."""
    quality = np.full(n_annotators, np.nan)
    if np.bincount(ex).max() < 2:
        return quality  # nobody can be compared yet
    res = get_label_quality_multiannotator((ex, ann, lab), P[0], calibrate_probs=True, random_state=0)
    ids = np.asarray(res.annotator_ids, dtype=np.int64)
    inside = ids < n_annotators
    quality[ids[inside]] = res.annotator_quality[inside]
    return quality


def _crowd_fit(method, ex, ann, lab, P):
    """The active learning method's fit of local-row triples and P (E, N, K)."""
    parsed = check_annotations((ex, ann, lab), n_examples=P.shape[1], n_classes=P.shape[2])
    return kind_of(_active_learning_method(method)).fit(parsed, P)


def _annotator_ranking(method, triples, P, n_annotators):
    """How a suggest method ranks annotators: its own crowd model's estimate of their quality
    (as :meth:`~skactivelab.MultiAnnotatorActiveLearner.suggest_annotators` does): the
    accuracies of the method's fit where it estimates them, else CROWDLAB's quality."""
    if kind_of(_active_learning_method(method)).decides_consensus:
        fit = _crowd_fit(method, *triples, P)
        acc = np.full(n_annotators, np.nan)
        ids = np.asarray(fit.annotations.annotator_ids, dtype=np.int64)
        inside = ids < n_annotators
        acc[ids[inside]] = fit.annotator_accuracy[inside]
        return acc
    return _annotator_quality(*triples, P, n_annotators)


def _consensus(ex, ann, lab, P, rng_seed, use_crowdlab, method="activelab"):
    """Consensus of the labeled set (local rows); P is (E, N, K) or None."""
    n_per = np.bincount(ex)
    triples = (ex, ann, lab)
    if kind_of(_active_learning_method(method)).decides_consensus and P is not None and use_crowdlab:
        return np.argmax(_crowd_fit(method, *triples, P).posterior, axis=1), None
    if P is None or not use_crowdlab or n_per.max() < 2:
        pp = None if P is None else P.mean(axis=0)
        mv = get_majority_vote_label(triples, pred_probs=pp, random_state=rng_seed)
        return np.asarray(mv, dtype=np.int64), None
    if P.shape[0] == 1:
        res = get_label_quality_multiannotator(triples, P[0], calibrate_probs=True, random_state=rng_seed)
    else:
        res = get_label_quality_multiannotator_ensemble(triples, P, calibrate_probs=True, random_state=rng_seed)
    return np.asarray(res.consensus_label, dtype=np.int64), res


#: Extra per-round records of ``run_method(..., details=True)``.
DETAIL_KEYS = ("model_weight", "mean_annotator_weight", "mean_agreement_multi", "n_multi",
               "n_single_overridden", "single_overridden_right", "single_overridden_label_right",
               "batch_relabel_share", "batch_label_accuracy", "batch_poor_annotator_share")


def _consensus_details(res, cons, ex, lab, y_lab):
    """How CROWDLAB weighed the crowd this round, and what it did to single labels."""
    n_per = np.bincount(ex, minlength=cons.size)
    single = n_per == 1
    first = np.full(cons.size, -1)
    first[ex[single[ex]]] = lab[single[ex]]
    over = single & (cons != first)
    out = dict(
        model_weight=np.nan, mean_annotator_weight=np.nan, mean_agreement_multi=np.nan,
        n_multi=int(np.sum(n_per > 1)), n_single_overridden=int(over.sum()),
        single_overridden_right=float(np.mean(cons[over] == y_lab[over])) if over.any() else np.nan,
        single_overridden_label_right=float(np.mean(first[over] == y_lab[over])) if over.any() else np.nan,
    )
    if res is not None:
        out["model_weight"] = float(np.mean(res.model_weight))
        out["mean_annotator_weight"] = float(np.nanmean(res.annotator_weights))
        out["mean_agreement_multi"] = float(np.mean(np.asarray(res.annotator_agreement)[n_per > 1]))
    return out


# The steps of one round of :func:`run_method`, in the order it calls them.
def _split_rows(ex, n_tr):
    """Labels per training row, the labeled and pool rows, and each row's index among the labeled (-1 in the pool)."""
    n_per = np.bincount(ex, minlength=n_tr)
    lab_rows = np.flatnonzero(n_per > 0)
    pool_rows = np.flatnonzero(n_per == 0)
    local = np.full(n_tr, -1)
    local[lab_rows] = np.arange(lab_rows.size)
    return n_per, lab_rows, pool_rows, local


def _record_consensus_details(rec, cres, cons, ex, lab, y_lab):
    """Append the round's consensus details; the batch details start as NaN, filled when the batch is picked."""
    for key, val in _consensus_details(cres, cons, ex, lab, y_lab).items():
        rec[key].append(val)
    for key in ("batch_relabel_share", "batch_label_accuracy", "batch_poor_annotator_share"):
        rec[key].append(np.nan)


def _method_strategy(method):
    """The query strategy whose rule scores ``method``'s rows (the one a learner would use)."""
    if method in _ACTIVELAB_METHODS:
        return ActiveLabQuery(active_learning_method=_active_learning_method(method))
    return {"random": RandomQuery, "good_random": GoodRandomQuery, "entropy": EntropyQuery,
            "uncertainty": UncertaintyQuery}[method]()


def _method_scores(strategy, n_per, P, U, triples, rng):
    """Score of every training row by ``strategy``'s rule (lower = label first)."""
    rows = PoolRows(labeled=n_per > 0, n_annotations=n_per, annotations=triples, P_lab=P, P_unl=U)
    return strategy.score_rows(rows, rng)


def _selection_mode(method, task, annotator_selection):
    """Who answers: "quality" (the learner suggests), "replay" (the next real label), or ``annotator_selection``."""
    selection = "quality" if method in _SUGGEST_METHODS else annotator_selection
    if task.is_replay and selection != "quality":
        selection = "replay"  # the next real label in this seed's order
    return selection


def _pick_examples(scores, task, pool_rows, labeled_by, selection, batch_size, rng):
    """The batch: the lowest scores among the rows that may (still) get a label."""
    cand = np.arange(scores.size) if task.allow_relabel else pool_rows
    if selection != "paper":
        cand = cand[~labeled_by[cand].all(axis=1)]  # someone left to ask
    if cand.size == 0:
        return np.empty(0, dtype=np.int64)
    return select_batch(scores, min(batch_size, cand.size), candidates=cand, random_state=rng)


def _pick_annotators(selection, method, picked, task, labeled_by, triples, P, annotator_selection, rng):
    """One annotator per picked example, one who has not labeled it yet (every mode but "paper")."""
    M = task.n_annotators
    if selection == "quality":
        # the learner's suggestion: the best-rated annotator (CROWDLAB quality, or the crowd
        # model's accuracy for the EM methods) among those who have not labeled the example;
        # "activelab_suggest" caps each annotator per round
        cap = int(np.ceil(2 * picked.size / M)) if method == "activelab_suggest" else None
        who = assign_annotators(
            _annotator_ranking(method, triples, P, M), ~labeled_by[picked],
            max_per_annotator=cap,
        )
        left = who < 0  # caps exhausted: a random annotator still free
        if left.any():
            keys = (task.reveal_rank[picked[left]].astype(np.float64) if task.is_replay
                    else rng.random((int(left.sum()), M)))
            keys[labeled_by[picked[left]]] = np.inf
            who[left] = np.argmin(keys, axis=1)
        return who
    if selection == "replay":
        keys = task.reveal_rank[picked].astype(np.float64)
        keys[labeled_by[picked]] = np.inf
        return np.argmin(keys, axis=1)
    if selection == "distinct":
        keys = rng.random((picked.size, M))
        keys[labeled_by[picked]] = np.inf
        return np.argmin(keys, axis=1)
    who = np.asarray(annotator_selection(picked, labeled_by.copy(), rng), dtype=np.int64)
    if who.shape != picked.shape or np.any(labeled_by[picked, who]):
        raise ValueError(
            "annotator_selection must return one annotator per picked example, "
            "one who has not labeled that example yet."
        )
    return who


def _who_answers(selection, method, picked, task, labeled_by, triples, P, annotator_selection, rng, next_col):
    """``(who, column, next_col)``: who labels each picked example and under which annotator
    column the label is stored ("paper" mode: a random annotator, one new column per round)."""
    if selection == "paper":
        who = rng.integers(0, task.n_annotators, picked.size)
        return who, np.full(picked.size, next_col), next_col + 1
    who = _pick_annotators(selection, method, picked, task, labeled_by, triples, P, annotator_selection, rng)
    return who, who, next_col


def _check_run(method, consensus, batch_size, n_rounds):
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; use one of {METHODS}.")
    if consensus not in ("crowdlab", "majority_vote", "paper"):
        raise ValueError("consensus must be 'crowdlab', 'majority_vote' or 'paper'.")
    if batch_size < 1 or n_rounds < 0:
        raise ValueError("batch_size must be >= 1 and n_rounds >= 0.")


def _initial_state(task):
    """The task's initial (example, annotator, label) triples (copies) and ``labeled_by``:
    ``labeled_by[i, j]``, annotator j cannot be asked about example i (already answered,
    or, when replaying real labels, has no label for it)."""
    ex, ann, lab = task.init_example.copy(), task.init_annotator.copy(), task.init_label.copy()
    labeled_by = np.zeros(task.oracle.shape, dtype=bool) if not task.is_replay else ~task.available
    labeled_by[ex, ann] = True
    return ex, ann, lab, labeled_by


def _poor_annotators(task):
    """Annotators right less than ``2/K`` of the time over all their labels in the oracle."""
    has = task.available if task.is_replay else np.ones_like(task.oracle, dtype=bool)
    right = np.where(has, task.oracle == task.y_train[:, None], 0).sum(axis=0)
    return right < (2.0 / task.n_classes) * np.maximum(has.sum(axis=0), 1)


def _record_batch_details(rec, n_per, picked, who, task, poor, selection):
    """Fill the round's batch details: share of re-labels, accuracy of the new labels, share of poor annotators."""
    rec["batch_relabel_share"][-1] = float(np.mean(n_per[picked] > 0))
    rec["batch_label_accuracy"][-1] = float(np.mean(task.oracle[picked, who] == task.y_train[picked]))
    rec["batch_poor_annotator_share"][-1] = float(np.mean(poor[who])) if selection != "paper" else np.nan


def run_method(
    task,
    method,
    *,
    model="extratrees",
    ensemble_models=None,
    n_rounds=20,
    batch_size=100,
    n_folds=5,
    consensus="crowdlab",
    annotator_selection="paper",
    random_state=None,
    progress=None,
    details=False,
):
    """Run one method on one task; return per-round metrics.

    Parameters
    ----------
    task : SimulatedTask
    method : str
        One of :data:`METHODS`.
    model : str or estimator, default="extratrees"
        Classifier for single-model methods (a :func:`make_model` name or an
        unfitted scikit-learn classifier with ``predict_proba``).
    ensemble_models : list, optional
        Models of "activelab_ensemble"; default ``[model, "logreg", "knn"]``.
    n_rounds : int, default=20
        Number of annotation batches; metrics are recorded for rounds
        ``0..n_rounds`` (round r = after r batches).
    batch_size : int, default=100
        Annotations collected per round.
    n_folds : int, default=5
    consensus : {"crowdlab", "majority_vote", "paper"}, default="crowdlab"
        How each round's training labels are formed: CROWDLAB for every method,
        majority vote for every method, or as in the paper's code (CROWDLAB for
        the ActiveLab methods, majority vote with ``pred_probs`` tie-breaks for
        the baselines). Round 0, and any round where no example has two labels,
        always uses majority vote. The "activelab_em" methods use their crowd
        model's consensus wherever CROWDLAB would be used, from round 1 on even
        when no example has two labels yet (the model needs none).
    annotator_selection : "paper", "distinct" or callable, default="paper"
        Who labels a picked example. "paper": a uniformly random annotator (the
        same one may answer twice), the round's labels stored as one new
        annotator column, as in the paper's code. "distinct": a random annotator
        who has not labeled that example yet, stored under that annotator. A
        callable ``f(examples, labeled_by, rng) -> annotators`` (``labeled_by``
        is a boolean (n_train, n_annotators) array) is the hook for annotator
        suggestion; it must not repeat an annotator on an example.
    random_state : int or None
    progress : callable, optional
        Called as ``progress(round, record)`` after each round.
    details : bool, default=False
        Also record :data:`DETAIL_KEYS`: the CROWDLAB model weight, mean
        annotator weight and mean agreement of multiply-labeled examples of the
        round's consensus (NaN for majority vote), how many singly labeled
        examples the consensus overrides and how often rightly (and how often
        their label was right), and, for the batch picked after the round, the
        share of re-labels, the accuracy of the new labels and the share
        answered by poor annotators (right less than ``2/K`` of the time over
        all their labels in the oracle). NaN where undefined.

    Returns
    -------
    dict of ndarray
        ``round``, ``test_accuracy``, ``consensus_accuracy``, ``n_labeled``,
        ``n_annotations``, ``n_relabel_picks``, ``seconds`` (and the detail
        keys), each of length ``n_rounds + 1``.

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> X, y = make_classification(60, 4, n_informative=3, n_redundant=0, random_state=0)
    >>> task = make_task(X, y, n_annotators=5, random_state=0)
    >>> rec = run_method(task, "activelab", model="logreg", n_rounds=2, batch_size=5, n_folds=2,
    ...                  random_state=0)
    >>> rec["round"].tolist(), rec["n_annotations"].tolist()
    ([0, 1, 2], [20, 25, 30])
    """
    _check_run(method, consensus, batch_size, n_rounds)
    rng = np.random.default_rng(random_state)
    K, M = task.n_classes, task.n_annotators
    n_tr = task.y_train.size
    models = [model]
    if method == "activelab_ensemble":
        models = list(ensemble_models) if ensemble_models is not None else [model, "logreg", "knn"]
    use_crowdlab = consensus == "crowdlab" or (consensus == "paper" and method in _ACTIVELAB_METHODS)
    selection = _selection_mode(method, task, annotator_selection)
    strategy = _method_strategy(method)

    ex, ann, lab, labeled_by = _initial_state(task)
    next_col = M  # "paper" mode: one new annotator column per round
    P_all = None  # (E, n_tr, K): out-of-fold P of labeled rows, pool prediction elsewhere
    X_test, y_test = task.X_test, task.y_test
    rec = {k: [] for k in ("round", "test_accuracy", "consensus_accuracy", "n_labeled", "n_annotations",
                           "n_relabel_picks", "seconds") + (DETAIL_KEYS if details else ())}
    poor = _poor_annotators(task) if details else None
    n_relabel = 0
    for r in range(n_rounds + 1):
        t0 = time.perf_counter()
        n_per, lab_rows, pool_rows, local = _split_rows(ex, n_tr)
        # (1) consensus labels of the labeled set
        P_prev = None if P_all is None else P_all[:, lab_rows]
        cons, cres = _consensus(local[ex], ann, lab, P_prev, int(rng.integers(2**31 - 1)), use_crowdlab,
                                method)
        if details:
            _record_consensus_details(rec, cres, cons, local[ex], lab, task.y_train[lab_rows])
        cons_acc = float(np.mean(cons == task.y_train[lab_rows]))
        # (2) cross-validation on the consensus
        X_other = np.concatenate([task.X_train[pool_rows], X_test])
        P, O, test_acc = _cross_val(models, task.X_train[lab_rows], cons, X_other, y_test, y_test.size, K,
                                    n_folds, rng)
        U = O[:, : pool_rows.size]
        # (3) record
        for key, val in (("round", r), ("test_accuracy", test_acc), ("consensus_accuracy", cons_acc),
                         ("n_labeled", lab_rows.size), ("n_annotations", ex.size),
                         ("n_relabel_picks", n_relabel)):
            rec[key].append(val)
        if r < n_rounds:
            # (4) score, select, annotate
            triples = (local[ex], ann, lab)
            scores = _method_scores(strategy, n_per, P, U, triples, rng)
            picked = _pick_examples(scores, task, pool_rows, labeled_by, selection, batch_size, rng)
            n_relabel += int(np.sum(n_per[picked] > 0))
            who, col, next_col = _who_answers(selection, method, picked, task, labeled_by, triples, P,
                                              annotator_selection, rng, next_col)
            if details and picked.size:
                _record_batch_details(rec, n_per, picked, who, task, poor, selection)
            labeled_by[picked, who] = True
            ex = np.concatenate([ex, picked])
            ann = np.concatenate([ann, col])
            lab = np.concatenate([lab, task.oracle[picked, who]])
            P_all = np.empty((len(models), n_tr, K))
            P_all[:, lab_rows] = P
            P_all[:, pool_rows] = U
        rec["seconds"].append(time.perf_counter() - t0)
        if progress is not None:
            progress(r, {k: v[-1] for k, v in rec.items()})
    return {k: np.asarray(v) for k, v in rec.items()}


# --------------------------------------------------------------------------- benchmark
@dataclass
class BenchmarkResult:
    """Per-round records of a benchmark: one row per (method, seed, round).

    Examples
    --------
    >>> rows = [dict(method="random", seed=s, round=r, test_accuracy=0.5 + 0.1 * r + 0.1 * s,
    ...              consensus_accuracy=0.8) for s in (0, 1) for r in (0, 1)]
    >>> result = BenchmarkResult(records=rows)
    >>> result.methods(), result.curves("test_accuracy")["random"].shape
    (['random'], (2, 2))
    >>> round(result.summary()["random"]["test_accuracy_mean"], 6)
    0.65
    """

    records: list
    config: dict = field(default_factory=dict)

    _COLUMNS = ("setting", "model", "method", "seed", "round", "test_accuracy", "consensus_accuracy",
                "n_labeled", "n_annotations", "n_relabel_picks", "seconds")

    def methods(self):
        return list(dict.fromkeys(r["method"] for r in self.records))

    def curves(self, metric):
        """``{method: array (n_seeds, n_rounds + 1)}`` of a metric."""
        out = {}
        for m in self.methods():
            rows = [r for r in self.records if r["method"] == m]
            seeds = sorted({r["seed"] for r in rows})
            n_r = max(r["round"] for r in rows) + 1
            arr = np.full((len(seeds), n_r), np.nan)
            for r in rows:
                arr[seeds.index(r["seed"]), r["round"]] = r[metric]
            out[m] = arr
        return out

    def summary(self, round=None):
        """``{method: {metric_mean, metric_std}}`` at ``round`` (default: last)."""
        out = {}
        for metric in ("test_accuracy", "consensus_accuracy"):
            for m, arr in self.curves(metric).items():
                col = arr[:, -1 if round is None else round]
                d = out.setdefault(m, {"n_seeds": int(np.sum(~np.isnan(col)))})
                d[f"{metric}_mean"] = float(np.nanmean(col))
                d[f"{metric}_std"] = float(np.nanstd(col))
        return out

    def to_csv(self, path):
        import csv

        extra = [k for k in DETAIL_KEYS if self.records and k in self.records[0]]
        with open(path, "w", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=list(self._COLUMNS) + extra, extrasaction="ignore")
            w.writeheader()
            w.writerows(self.records)

    def to_json(self, path):
        with open(path, "w") as fh:
            json.dump({"config": self.config, "summary": self.summary(), "records": self.records}, fh, indent=1,
                      default=_json_default)

    def to_frame(self):
        import pandas as pd

        extra = [k for k in DETAIL_KEYS if self.records and k in self.records[0]]
        return pd.DataFrame(self.records, columns=list(self._COLUMNS) + extra)


def _json_default(o):
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    return str(o)


def _job(X, y, setting, method, seed, task_kw, run_kw, crowd=None):
    if crowd is not None:
        task = make_replay_task(crowd["annotations"], crowd["target"], crowd["data"], crowd["data_test"],
                                crowd["target_test"], random_state=seed, **task_kw)
    else:
        task = make_task(X, y, setting=setting, random_state=seed, **task_kw)
    seed_method = np.random.SeedSequence([seed, METHODS.index(method)])
    rec = run_method(task, method, random_state=seed_method, **run_kw)
    return method, seed, rec


def run_benchmark(
    X,
    y,
    *,
    setting="multiannotator",
    methods=("random", "good_random", "entropy", "uncertainty", "activelab"),
    seeds=(0,),
    model="extratrees",
    n_rounds=20,
    batch_size=100,
    n_jobs=1,
    task_kwargs=None,
    progress=None,
    crowd=None,
    **run_kwargs,
):
    """Every method on every seed; the same simulated task per seed for all methods.

    Parameters
    ----------
    X, y : arrays
        Data with true classes 0..K-1 (see :mod:`skactivelab.datasets`).
    setting : str
        A key of :data:`SETTINGS`.
    methods : sequence of str
    seeds : sequence of int
        Each seed fixes the split, the annotators, the initial labels and every
        choice of every method.
    model, n_rounds, batch_size : see :func:`run_method`.
    n_jobs : int, default=1
        (method, seed) runs in parallel (joblib processes).
    task_kwargs : dict, optional
        Passed to :func:`make_task` (``n_annotators``, ``trace``, ...), or to
        :func:`make_replay_task` (``n_initial``, ...) with ``crowd``.
    crowd : mapping, optional
        Replay a real crowd instead of simulating annotators: a mapping (e.g.
        the Bunch of :func:`skactivelab.datasets.load_real_crowd`) with
        ``annotations`` (example, annotator, label), ``data``, ``target``,
        ``data_test``, ``target_test``. ``X``, ``y`` and ``setting`` are then
        ignored (the setting is recorded as "replay").
    progress : callable, optional
        ``progress(done, total, method, seed, seconds)`` after each run, in the
        calling process.
    **run_kwargs
        Passed to :func:`run_method` (``consensus``, ``n_folds``, ...).

    Returns
    -------
    BenchmarkResult

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> X, y = make_classification(60, 4, n_informative=3, n_redundant=0, random_state=0)
    >>> result = run_benchmark(X, y, methods=("random", "activelab"), seeds=(0,), model="logreg",
    ...                        n_rounds=1, batch_size=5, n_folds=2, task_kwargs=dict(n_annotators=5))
    >>> result.methods(), len(result.records)  # 2 methods x 1 seed x 2 rounds
    (['random', 'activelab'], 4)
    """
    from joblib import Parallel, delayed

    for m in methods:
        if m not in METHODS:
            raise ValueError(f"unknown method {m!r}; use some of {METHODS}.")
    task_kw = dict(task_kwargs or {})
    run_kw = dict(model=model, n_rounds=n_rounds, batch_size=batch_size, **run_kwargs)
    if crowd is not None:
        missing = [k for k in ("annotations", "data", "target", "data_test", "target_test") if k not in crowd]
        if missing:
            raise ValueError(f"crowd lacks {missing}; see skactivelab.datasets.load_real_crowd.")
        crowd = {k: crowd[k] for k in ("annotations", "data", "target", "data_test", "target_test")}
        setting = "replay"
    jobs = [(m, s) for s in seeds for m in methods]
    t0 = time.perf_counter()
    gen = Parallel(n_jobs=n_jobs, return_as="generator_unordered")(
        delayed(_job)(X, y, setting, m, s, task_kw, run_kw, crowd) for m, s in jobs
    )
    results = {}
    for done, (m, s, rec) in enumerate(gen, 1):
        results[(m, s)] = rec
        if progress is not None:
            progress(done, len(jobs), m, s, time.perf_counter() - t0)
    model_name = model if isinstance(model, str) else type(model).__name__
    records = []
    for m, s in jobs:
        rec = results[(m, s)]
        for i in range(rec["round"].size):
            row = {"setting": setting, "model": model_name, "method": m, "seed": int(s)}
            row.update({k: rec[k][i].item() for k in rec})
            records.append(row)
    config = dict(setting=setting, methods=list(methods), seeds=[int(s) for s in seeds], model=model_name,
                  n_rounds=n_rounds, batch_size=batch_size, n_jobs=n_jobs, task_kwargs=task_kw,
                  run_kwargs={k: v for k, v in run_kwargs.items() if isinstance(v, (str, int, float, bool))},
                  total_seconds=time.perf_counter() - t0)
    return BenchmarkResult(records=records, config=config)


# --------------------------------------------------------------------------- paper & plots
_PAPER_SETTING = {"multiannotator": "wall-robot", "label_cleaning": "wall-robot-completely-labeled"}
_PAPER_MODEL = {"extratrees": "et", "mlp": "mlp"}


def load_paper_results(path, setting="multiannotator", model="extratrees"):
    """The paper's mean curves: ``{method: {metric: array (20,)}}`` from
    ``paper_results_wall_robot.csv`` (setting and model in our names or the CSV's).

    Examples
    --------
    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "paper.csv"
    >>> _ = path.write_text("setting,model,method,metric,n_runs,round_0,round_1\\n"
    ...                     "wall-robot,et,random,test_accuracy,5,0.80,0.82\\n")
    >>> load_paper_results(path)["random"]["test_accuracy"].tolist()
    [0.8, 0.82]
    """
    import csv

    s = _PAPER_SETTING.get(setting, setting)
    mo = _PAPER_MODEL.get(model, model)
    out = {}
    with open(path, newline="") as fh:
        for row in csv.DictReader(fh):
            if row["setting"] == s and row["model"] == mo:
                vals = np.array([float(row[k]) for k in row if k.startswith("round_")])
                out.setdefault(row["method"], {})[row["metric"]] = vals
    return out


def _pyplot():
    try:
        import matplotlib

        matplotlib.use("Agg", force=False)
        import matplotlib.pyplot as plt
    except ImportError:
        raise ImportError(
            "plotting needs matplotlib: pip install 'skactivelab[plot]' (or pip install matplotlib)."
        ) from None
    return plt


def plot_results(result, path, *, paper=None, title=None):
    """Mean test and consensus accuracy against round, one line per method.

    With ``paper`` (from :func:`load_paper_results`) the paper's curves are drawn
    in a second row with the same axes. Writes ``path`` (PNG) and returns it.
    Needs matplotlib.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> rows = [dict(method="random", seed=0, round=r, test_accuracy=0.7 + 0.1 * r,
    ...              consensus_accuracy=0.8) for r in (0, 1)]
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "curves.png"
    >>> plot_results(BenchmarkResult(records=rows), path) == path and path.stat().st_size > 0
    True
    """
    plt = _pyplot()
    metrics = ("test_accuracy", "consensus_accuracy")
    nrows = 2 if paper else 1
    fig, axes = plt.subplots(nrows, 2, figsize=(11, 4.2 * nrows), squeeze=False)
    cmap = plt.get_cmap("tab10")
    names = list(dict.fromkeys(list(result.methods()) + (list(paper) if paper else [])))
    colors = {m: cmap(i % 10) for i, m in enumerate(names)}
    n_seeds = len({r["seed"] for r in result.records})
    for j, metric in enumerate(metrics):
        ax = axes[0, j]
        for m, arr in result.curves(metric).items():
            mean = np.nanmean(arr, axis=0)
            x = np.arange(mean.size)
            ax.plot(x, mean, label=m, color=colors[m], lw=2.2 if m.startswith("activelab") else 1.4)
            if arr.shape[0] > 1:
                ax.fill_between(x, np.nanmin(arr, axis=0), np.nanmax(arr, axis=0), color=colors[m], alpha=0.12)
        ax.set_title(f"skactivelab: {metric.replace('_', ' ')} (mean of {n_seeds} seed(s))")
        ax.set_xlabel("round")
        ax.grid(alpha=0.3)
        if paper:
            axp = axes[1, j]
            for m, d in paper.items():
                if metric in d:
                    axp.plot(np.arange(d[metric].size), d[metric], label=m, color=colors[m],
                             lw=2.2 if m.startswith("activelab") else 1.4)
            axp.set_title(f"paper: {metric.replace('_', ' ')} (mean of 5 runs)")
            axp.set_xlabel("round")
            axp.grid(alpha=0.3)
            lo = min(axes[0, j].get_ylim()[0], axp.get_ylim()[0])
            hi = max(axes[0, j].get_ylim()[1], axp.get_ylim()[1])
            axes[0, j].set_ylim(lo, hi)
            axp.set_ylim(lo, hi)
            axp.legend(fontsize=8, loc="lower right")
    axes[0, 1].legend(fontsize=8, loc="lower right")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
