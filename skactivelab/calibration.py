"""Temperature calibration of predicted probabilities against annotations (algorithms 3)."""

from __future__ import annotations

import numbers

import numpy as np

from . import _kernels as K_
from ._annotations import labeled_inputs
from ._utils import is_dataframe
from ._validation import check_pred_probs

# Below this temperature log(p) / T can overflow; the limit T -> 0 is used instead.
_TINY_TEMPERATURE = 1e-300

__all__ = ["find_best_temperature", "temp_scale_pred_probs"]


def find_best_temperature(pred_probs, labels_multiannotator, *, classes=None):
    """Temperature that makes ``pred_probs`` best match the annotators' label distribution.

    Minimises the normalised cross-entropy between each example's empirical label
    distribution and ``softmax(log(pred_probs) / T)``: first over the grid
    0.1, 0.2, 0.5, 0.8, 1, 2, 3, 5, 8, then over a finer grid around the best
    grid value.

    Parameters
    ----------
    pred_probs : array-like or DataFrame of shape (n_examples, n_classes)
        A DataFrame indexed by example ID is matched to the annotations by ID.
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
    ann, P, _, _ = labeled_inputs(labels_multiannotator, pred_probs, ndim=2, classes=classes)
    n_per = np.bincount(ann.example, minlength=ann.n_examples).astype(np.float64)
    return K_.best_temperature(P, ann, n_per)


def temp_scale_pred_probs(pred_probs, temperature):
    """Rescale probabilities: ``softmax(log(pred_probs) / temperature)`` per row.

    Probabilities are first clipped below at 1e-30 and renormalised so that
    zeros stay finite; the input is not modified. As the temperature goes to 0
    each row tends to all its mass on its most probable class (shared equally
    between tied classes); temperatures below 1e-300 return that limit.

    Parameters
    ----------
    pred_probs : array-like of shape (n_examples, n_classes) or (n_models, n_examples, n_classes)
        Or a DataFrame (n_examples, n_classes); the result then is a DataFrame
        with the same index and columns.
    temperature : float > 0
        A real number (not a bool); values above 1 soften, below 1 sharpen.

    Returns
    -------
    ndarray (or DataFrame) of the same shape as ``pred_probs``

    Examples
    --------
    >>> import numpy as np
    >>> from skactivelab import temp_scale_pred_probs
    >>> temp_scale_pred_probs(np.array([[0.8, 0.2]]), 2.0).round(3).tolist()
    [[0.667, 0.333]]
    """
    T = _check_temperature(temperature)
    frame = pred_probs if is_dataframe(pred_probs) else None
    P = np.asarray(pred_probs.to_numpy() if frame is not None else pred_probs)
    P = check_pred_probs(P, ndim=P.ndim if P.ndim in (2, 3) else 2)
    if T < _TINY_TEMPERATURE:
        # the limit T -> 0: all mass on the most probable class(es) of each row
        top = P == P.max(axis=-1, keepdims=True)
        out = top / top.sum(axis=-1, keepdims=True)
    else:
        out = K_.temp_scale(P, T)
    if frame is None:
        return out
    return type(frame)(out, index=frame.index, columns=frame.columns)


def _check_temperature(temperature):
    """A real number > 0 (not a bool) as a float; a 0-d numeric array counts."""
    if isinstance(temperature, np.ndarray) and temperature.ndim == 0 and temperature.dtype.kind in "iuf":
        temperature = temperature.item()
    if isinstance(temperature, (bool, np.bool_)) or not isinstance(temperature, numbers.Real):
        raise TypeError(
            f"temperature must be a single real number > 0, got {temperature!r} "
            f"({type(temperature).__name__})."
        )
    T = float(temperature)
    if not np.isfinite(T) or T <= 0:
        raise ValueError(f"temperature must be a finite number > 0, got {temperature!r}.")
    return T
