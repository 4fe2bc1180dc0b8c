"""Small helpers shared by the package's modules (internal).

What several modules need to agree on lives here once: how a pandas object or a
long-format table is recognised, what counts as a missing value in an object
array, how a NumPy scalar is shown in a message, and what makes an object "a
fitted multi-annotator estimator" for the query strategies (duck typing: the
fitted attributes they read, not a class).
"""

from __future__ import annotations

import os
import sys

import numpy as np

__all__ = [
    "LONG_ANNOTATOR_COLUMNS",
    "LONG_EXAMPLE_COLUMNS",
    "LONG_LABEL_COLUMNS",
    "MULTIANNOTATOR_FITTED_ATTRIBUTES",
    "is_dataframe",
    "is_long_format",
    "is_long_frame",
    "is_missing",
    "no_class_array",
    "py_scalar",
    "user_stacklevel",
]

# Column names of a long-format annotation table (case-insensitive).
LONG_EXAMPLE_COLUMNS = ("task", "example", "example_id", "item", "id")  # "id" weakest: last
LONG_ANNOTATOR_COLUMNS = ("annotator", "worker", "annotator_id", "worker_id")
LONG_LABEL_COLUMNS = ("label",)


def py_scalar(value):
    """NumPy scalar -> Python scalar (readable messages and IDs); anything else unchanged.

    Examples
    --------
    >>> import numpy as np
    >>> from skactivelab._utils import py_scalar
    >>> py_scalar(np.int64(3)), py_scalar("a")
    (3, 'a')
    """
    return value.item() if isinstance(value, np.generic) else value


def is_dataframe(obj):
    """True for a pandas DataFrame (pandas is never imported to decide)."""
    return type(obj).__module__.split(".")[0] == "pandas" and hasattr(obj, "columns")


def is_missing(values):
    """Vectorised missing-value test for an object array (None, NaN, pd.NA, NaT).

    Examples
    --------
    >>> import numpy as np
    >>> from skactivelab._utils import is_missing
    >>> is_missing(np.array([1, None, float("nan"), "a"], dtype=object)).tolist()
    [False, True, True, False]
    """
    try:
        import pandas as pd

        return np.asarray(pd.isna(values), dtype=bool)
    except ImportError:  # pragma: no cover - pandas is optional
        flat = values.ravel()
        miss = np.fromiter(
            (v is None or (isinstance(v, float) and v != v) for v in flat),
            dtype=bool,
            count=flat.size,
        )
        return miss.reshape(values.shape)


def is_long_frame(df):
    """A DataFrame is long format when it has an example, an annotator and a label
    column (by name, see :data:`LONG_EXAMPLE_COLUMNS` and its siblings), whatever
    other columns it has.

    A wide DataFrame whose annotators are named after all three (for instance
    "task", "worker" and "label") would be read as long format: rename such
    annotator columns.
    """
    lower = {str(c).lower() for c in df.columns}
    return (
        bool(lower & set(LONG_LABEL_COLUMNS))
        and bool(lower & set(LONG_ANNOTATOR_COLUMNS))
        and bool(lower & set(LONG_EXAMPLE_COLUMNS))
    )


def is_long_format(y):
    """True when annotations ``y`` are long format: a ``(examples, annotators, labels)``
    tuple or a long-format DataFrame (rows named by example ID, not by position)."""
    return isinstance(y, tuple) or (is_dataframe(y) and is_long_frame(y))


# What the query strategies read from a fitted multi-annotator estimator: any
# object with these attributes and an ``active_learning_scores`` method will do.
MULTIANNOTATOR_FITTED_ATTRIBUTES = (
    "active_learning_fit_",
    "active_learning_scores_",
    "labeled_mask_",
    "n_annotations_",
    "num_examples_labeled_",
    "oof_pred_probs_",
)



def no_class_array(classes, n, *, float_marker=np.nan):
    """An array of ``n`` "no class" markers that can also hold every value of ``classes``.

    The marker is -1 for integer classes (scikit-learn's "no label"), ``float_marker``
    for float classes and None for any other kind. Unsigned classes get a signed
    array (int64) so -1 fits; classes beyond int64 get an object array with None.

    Examples
    --------
    >>> import numpy as np
    >>> from skactivelab._utils import no_class_array
    >>> no_class_array(np.array([3, 7], dtype=np.uint8), 2)
    array([-1, -1])
    >>> no_class_array(np.array([2**63 + 1], dtype=np.uint64), 1)
    array([None], dtype=object)
    >>> no_class_array(np.array(["a", "b"]), 1)
    array([None], dtype=object)
    """
    classes = np.asarray(classes)
    kind = classes.dtype.kind
    if kind == "i":
        return np.full(n, -1, dtype=classes.dtype)
    if kind == "u":
        if classes.size == 0 or int(classes.max()) <= np.iinfo(np.int64).max:
            return np.full(n, -1, dtype=np.int64)
        return np.full(n, None, dtype=object)
    if kind == "f":
        return np.full(n, float_marker, dtype=classes.dtype)
    return np.full(n, None, dtype=object)


def user_stacklevel():
    """The ``stacklevel`` that makes a warning raised by the caller of this function point at
    the user's line: the first frame outside skactivelab and scikit-learn (whose wrappers run
    an estimator's fit), however deep the call came from (the estimators, strategies and
    functions reach the same check at different depths)."""
    import sklearn  # already imported by every caller

    dirs = tuple(os.path.dirname(os.path.abspath(f)) + os.sep for f in (__file__, sklearn.__file__))
    frame, level = sys._getframe(1), 1  # the frame that calls warnings.warn
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(dirs):
        frame, level = frame.f_back, level + 1
    return level
