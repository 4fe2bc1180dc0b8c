"""Majority vote with a deterministic, documented tie-break (algorithms 1)."""

from __future__ import annotations

from sklearn.utils import check_random_state

from . import _kernels as K_
from ._annotations import labeled_inputs, result_index, check_annotations

__all__ = ["get_majority_vote_label"]


def get_majority_vote_label(labels_multiannotator, pred_probs=None, random_state=None, *, classes=None):
    """Majority-vote label of each example, ties broken in a fixed order.

    Ties between the most chosen classes of an example are broken by, in order:
    the highest ``pred_probs`` (if given); the class that is least frequent in
    the whole dataset; the class chosen by the annotators who agree most with
    the unambiguous majority elsewhere; a random choice seeded by
    ``random_state``.

    Parameters
    ----------
    labels_multiannotator : array-like, DataFrame, sparse matrix or tuple
        Annotations in any format accepted by
        :func:`get_label_quality_multiannotator`. Every example needs a label.
    pred_probs : array-like or DataFrame of shape (n_examples, n_classes), optional
        Predicted probabilities to break ties; a DataFrame indexed by example ID
        is matched to the annotations by ID (see
        :func:`get_active_learning_scores` for how rows are matched). Without
        them the classes are the distinct labels given.
    random_state : int, RandomState instance or None, default=None
        Seed for the last-resort random tie-break.
    classes : array-like, optional
        Class values in column order of ``pred_probs``.

    Returns
    -------
    ndarray or pandas Series of shape (n_examples,)
        The majority-vote label of each example, in the user's class values; a
        Series indexed by example ID when the annotations (a DataFrame) or
        ``pred_probs`` (a DataFrame) carry example IDs.

    Examples
    --------
    >>> import numpy as np
    >>> from skactivelab import get_majority_vote_label
    >>> labels = np.array([[0, 0, 1], [1, 0, -1], [2, 2, -1]])
    >>> get_majority_vote_label(labels, pred_probs=np.array(
    ...     [[0.5, 0.3, 0.2], [0.1, 0.6, 0.3], [0.1, 0.1, 0.8]])).tolist()
    [0, 1, 2]
    """
    P = None
    if pred_probs is None:
        ann = check_annotations(labels_multiannotator, classes=classes)
        index = result_index(labels_multiannotator, None, ann)
    else:
        ann, P, index, _ = labeled_inputs(labels_multiannotator, pred_probs, ndim=2, classes=classes)
    count = K_.label_counts(ann)
    mv = K_.majority_vote(ann, count, P, check_random_state(random_state))
    labels = ann.classes[mv]
    if index is None:
        return labels
    import pandas as pd

    return pd.Series(labels, index=index, name="majority_vote_label")
