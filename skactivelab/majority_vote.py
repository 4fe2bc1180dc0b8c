"""Majority vote with a deterministic, documented tie-break (spec section 1)."""

from __future__ import annotations

from sklearn.utils import check_random_state

from . import _kernels as K_
from ._annotations import check_annotations
from ._validation import check_pred_probs

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
    pred_probs : array-like of shape (n_examples, n_classes), optional
        Predicted probabilities to break ties. Without them the number of
        classes is the largest integer label + 1 (or the number of class names).
    random_state : int, RandomState instance or None, default=None
        Seed for the last-resort random tie-break.
    classes : array-like, optional
        Class values in column order of ``pred_probs``.

    Returns
    -------
    ndarray of shape (n_examples,)
        The majority-vote label of each example, in the user's class values.

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
    if pred_probs is not None:
        P = check_pred_probs(pred_probs)
    ann = check_annotations(
        labels_multiannotator,
        n_examples=None if P is None else P.shape[0],
        n_classes=None if P is None else P.shape[1],
        classes=classes,
    )
    count = K_.label_counts(ann)
    mv = K_.majority_vote(ann, count, P, check_random_state(random_state))
    return ann.classes[mv]
