"""Cross-validation of multi-annotator estimators: :class:`ConsensusStratifiedKFold`."""

from __future__ import annotations

from numbers import Integral

import numpy as np
from sklearn.model_selection import BaseCrossValidator
from sklearn.utils import check_random_state

from . import _kernels as K_
from ._annotations import check_annotations, rows_of_X
from ._models import fold_splits

__all__ = ["ConsensusStratifiedKFold"]


class ConsensusStratifiedKFold(BaseCrossValidator):
    """K folds stratified by the consensus of an annotation matrix, for ``cv=`` anywhere.

    scikit-learn's default ``cv`` for :class:`~skactivelab.MultiAnnotatorClassifier`
    is an unshuffled ``KFold`` (the annotation matrix is not a class vector it can
    stratify), so unlabeled rows gathered at the end of ``X`` make test folds
    with no label to score against (NaN scores in ``cross_val_score``, a
    ``GridSearchCV`` whose ``best_params_`` mean nothing). This splitter takes
    the annotations as ``y`` (any format the estimator accepts), stratifies the
    labeled rows by their majority-vote consensus (the fold rule of the
    estimator: ``StratifiedKFold``, or ``KFold`` when every class has fewer
    labeled rows than folds) and spreads the unlabeled rows evenly over the
    folds, so every test fold and every training fold has labeled rows of the
    classes.

    Parameters
    ----------
    n_splits : int, default=5
        Number of folds (at least 2, and at most the number of labeled rows).
    shuffle : bool, default=False
        Shuffle the rows of each class (and the unlabeled rows) before splitting.
    random_state : int, RandomState instance or None, default=None
        Seeds the shuffling (only with ``shuffle=True``).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.model_selection import cross_val_score
    >>> from skactivelab import ConsensusStratifiedKFold, MultiAnnotatorClassifier
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(60, 2))
    >>> L = np.full((60, 2), np.nan)
    >>> L[:40, 0] = (X[:40, 0] > 0).astype(int)      # rows 40..59 are unlabeled
    >>> cv = ConsensusStratifiedKFold(4, shuffle=True, random_state=0)
    >>> scores = cross_val_score(MultiAnnotatorClassifier(LogisticRegression(), cv=3), X, L, cv=cv)
    >>> bool(np.isfinite(scores).all())
    True
    """

    def __init__(self, n_splits=5, *, shuffle=False, random_state=None):
        if isinstance(n_splits, (bool, np.bool_)) or not isinstance(n_splits, Integral) or n_splits < 2:
            raise ValueError(f"n_splits must be an integer >= 2, got {n_splits!r}.")
        if not isinstance(shuffle, (bool, np.bool_)):
            raise TypeError(f"shuffle must be True or False, got {shuffle!r}.")
        if not shuffle and random_state is not None:
            raise ValueError(
                "random_state has no effect without shuffle=True; pass shuffle=True to shuffle, "
                "or leave random_state=None."
            )
        self.n_splits = int(n_splits)
        self.shuffle = bool(shuffle)
        self.random_state = random_state

    def get_n_splits(self, X=None, y=None, groups=None):
        """Number of folds (``n_splits``)."""
        return self.n_splits

    def split(self, X, y, groups=None):
        """Yield ``(train, test)`` row indices of each fold.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The rows (a DataFrame's index names them, as for the estimator).
        y : annotations for the rows of ``X``
            Any format :meth:`MultiAnnotatorClassifier.fit` accepts (NaN or -1
            where an annotator gave no label; rows without labels are unlabeled).
        groups : ignored
        """
        n = X.shape[0] if hasattr(X, "shape") else len(X)
        ann = check_annotations(rows_of_X(y, X), n_examples=n, require_labeled=False, name="y", rows_name="X")
        labeled = np.bincount(ann.example, minlength=n) > 0
        lab_idx, unl_idx = np.flatnonzero(labeled), np.flatnonzero(~labeled)
        if lab_idx.size < self.n_splits:
            raise ValueError(
                f"y has {lab_idx.size} labeled row(s), fewer than n_splits={self.n_splits}; "
                "every fold needs labeled rows: lower n_splits or label more rows."
            )
        rng = check_random_state(self.random_state)
        seed = rng.randint(np.iinfo(np.int32).max) if self.shuffle else None
        ann_lab = ann.subset_examples(labeled)
        consensus = K_.modes(K_.label_counts(ann_lab))[0]  # majority vote, ties: first class
        lab_folds = fold_splits(np.zeros((lab_idx.size, 1)), consensus, self.n_splits, seed, shuffle=self.shuffle)
        order = rng.permutation(unl_idx.size) if self.shuffle else np.arange(unl_idx.size)
        unl_folds = np.array_split(unl_idx[order], self.n_splits)
        for (_, lab_test), unl_test in zip(lab_folds, unl_folds):
            test = np.sort(np.concatenate([lab_idx[lab_test], unl_test]))
            yield np.setdiff1d(np.arange(n), test, assume_unique=True), test
