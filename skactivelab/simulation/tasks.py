"""Tasks of a simulation run: data, hidden oracle and initial annotations.

:func:`make_task` splits data, simulates annotators and reveals the initial labels in
one of the :data:`SETTINGS`; :func:`make_replay_task` replays the labels of a real crowd
instead. Both return a :class:`SimulatedTask`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.model_selection import train_test_split

from .annotators import shared_noise_matrix, simulate_annotator_labels

__all__ = ["MOSTLY_ONE_LABEL", "SETTINGS", "SimulatedTask", "make_replay_task", "make_task"]

#: Distribution of the number of initial labels per labeled example (1..5):
#: mostly one label, as in the paper's released data (898/94/7/1 of 1000).
MOSTLY_ONE_LABEL = (0.90, 0.09, 0.008, 0.001, 0.001)

#: The settings of the benchmark. ``initial_fraction`` of the training rows
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
    ``activelab_suggest_nocap``) may instead choose
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
