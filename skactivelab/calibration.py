"""Temperature calibration of predicted probabilities against annotations (spec section 3)."""

from __future__ import annotations

import numpy as np

from . import _kernels as K_
from ._annotations import check_annotations
from ._validation import check_pred_probs

__all__ = ["find_best_temperature", "temp_scale_pred_probs"]


def find_best_temperature(pred_probs, labels_multiannotator, *, classes=None):
    """Temperature that makes ``pred_probs`` best match the annotators' label distribution.

    Minimises the normalised cross-entropy between each example's empirical label
    distribution and ``softmax(log(pred_probs) / T)``: first over the grid
    0.1, 0.2, 0.5, 0.8, 1, 2, 3, 5, 8, then over a finer grid around the best
    grid value.

    Parameters
    ----------
    pred_probs : array-like of shape (n_examples, n_classes)
    labels_multiannotator : array-like, DataFrame, sparse matrix or tuple
        Annotations in any accepted format; every example needs a label.
    classes : array-like, optional
        Class values in column order of ``pred_probs``.

    Returns
    -------
    float
        The temperature; values above 1 soften over-confident predictions.

    Examples
    --------
    >>> import numpy as np
    >>> from skactivelab import find_best_temperature
    >>> labels = np.array([[0, 1], [0, 0], [1, 1], [1, 0]])
    >>> pred_probs = np.array([[0.99, 0.01], [0.98, 0.02], [0.03, 0.97], [0.01, 0.99]])
    >>> find_best_temperature(pred_probs, labels) > 1
    True
    """
    P = check_pred_probs(pred_probs)
    ann = check_annotations(
        labels_multiannotator, n_examples=P.shape[0], n_classes=P.shape[1], classes=classes
    )
    n_per = np.bincount(ann.example, minlength=ann.n_examples).astype(np.float64)
    return K_.best_temperature(P, ann, n_per)


def temp_scale_pred_probs(pred_probs, temperature):
    """Rescale probabilities: ``softmax(log(pred_probs) / temperature)`` per row.

    Probabilities are first clipped below at 1e-30 and renormalised so that
    zeros stay finite; the input is not modified.

    Parameters
    ----------
    pred_probs : array-like of shape (n_examples, n_classes) or (n_models, n_examples, n_classes)
    temperature : float > 0

    Returns
    -------
    ndarray of the same shape as ``pred_probs``

    Examples
    --------
    >>> import numpy as np
    >>> from skactivelab import temp_scale_pred_probs
    >>> temp_scale_pred_probs(np.array([[0.8, 0.2]]), 2.0).round(3).tolist()
    [[0.667, 0.333]]
    """
    P = np.asarray(pred_probs, dtype=np.float64)
    P = check_pred_probs(P, ndim=P.ndim if P.ndim in (2, 3) else 2)
    if not np.isscalar(temperature) and np.ndim(temperature) != 0:
        raise TypeError("temperature must be a single positive number.")
    temperature = float(temperature)
    if not np.isfinite(temperature) or temperature <= 0:
        raise ValueError(f"temperature must be a finite number > 0, got {temperature}.")
    return K_.temp_scale(P, temperature)
