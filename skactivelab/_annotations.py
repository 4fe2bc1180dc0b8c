"""Annotation input: every accepted format becomes three aligned integer arrays.

Internally annotations are sparse triples ``(example, annotator, label)`` with
``label`` encoded as 0..K-1 (STYLE.md section 3), so every statistic costs
O(number of annotations) rather than O(N x M).

Accepted formats (see :func:`check_annotations`):

* a 2-D float array, NaN (or -1) for a missing label;
* a 2-D integer array, -1 for a missing label (scikit-learn's "no label");
* a 2-D object/string array, ``None``/NaN for a missing label;
* a pandas DataFrame whose columns are annotator IDs (NaN / ``pd.NA`` / None missing);
* long format: a DataFrame with columns ``task``, ``annotator`` (or ``worker``),
  ``label``, or a *tuple* ``(examples, annotators, labels)`` of three aligned arrays;
* a ``scipy.sparse`` matrix whose explicitly stored entries are the labels.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

__all__ = ["Annotations", "check_annotations", "long_to_wide", "wide_to_long"]

_LONG_EXAMPLE_COLUMNS = ("task", "example", "example_id", "item")
_LONG_ANNOTATOR_COLUMNS = ("annotator", "worker", "annotator_id", "worker_id")
_LONG_LABEL_COLUMNS = ("label",)


@dataclass(frozen=True)
class Annotations:
    """Annotations as aligned arrays; internal currency of the scoring core.

    Attributes
    ----------
    example : ndarray of int64, shape (n_annotations,)
        Row (example) index of each annotation, in ``0 .. n_examples - 1``.
    annotator : ndarray of int64, shape (n_annotations,)
        Column (annotator) index of each annotation, in ``0 .. n_annotators - 1``.
    label : ndarray of int64, shape (n_annotations,)
        Encoded class of each annotation, in ``0 .. n_classes - 1``.
    n_examples, n_annotators, n_classes : int
    classes : ndarray
        ``classes[k]`` is the user's value for encoded class ``k``.
    annotator_ids : ndarray
        The user's ID of each annotator column.
    example_ids : ndarray or None
        The user's ID of each example when the input named them (DataFrame
        index, long-format example IDs), else None.
    """

    example: np.ndarray
    annotator: np.ndarray
    label: np.ndarray
    n_examples: int
    n_annotators: int
    n_classes: int
    classes: np.ndarray
    annotator_ids: np.ndarray
    example_ids: np.ndarray | None = None

    @property
    def n_annotations(self):
        return self.example.shape[0]

    def to_wide(self, missing=np.nan):
        """Dense (n_examples, n_annotators) matrix of encoded labels, ``missing`` elsewhere."""
        dtype = float if isinstance(missing, float) else np.int64
        out = np.full((self.n_examples, self.n_annotators), missing, dtype=dtype)
        out[self.example, self.annotator] = self.label
        return out

    def subset_examples(self, mask):
        """Annotations restricted to examples where ``mask`` is True, rows renumbered."""
        mask = np.asarray(mask, dtype=bool)
        new_index = np.cumsum(mask) - 1
        keep = mask[self.example]
        return Annotations(
            example=new_index[self.example[keep]],
            annotator=self.annotator[keep],
            label=self.label[keep],
            n_examples=int(mask.sum()),
            n_annotators=self.n_annotators,
            n_classes=self.n_classes,
            classes=self.classes,
            annotator_ids=self.annotator_ids,
            example_ids=None if self.example_ids is None else self.example_ids[mask],
        )


def _py(value):
    """NumPy scalar -> Python scalar, for readable error messages."""
    return value.item() if isinstance(value, np.generic) else value


def _is_dataframe(obj):
    return type(obj).__module__.split(".")[0] == "pandas" and hasattr(obj, "columns")


def _is_missing_object(values):
    """Vectorised missing-value test for an object array (None, NaN, pd.NA, NaT)."""
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


def _numeric_labels(values, where):
    """Validate numeric label values: integral, >= 0 (missing already removed)."""
    values = np.asarray(values)
    if values.dtype.kind == "f":
        if not np.all(np.isfinite(values)):
            raise ValueError(
                f"{where} contains infinite values; use NaN (or -1) for a missing label."
            )
        if np.any(values != np.round(values)):
            bad = values[values != np.round(values)][:5]
            raise ValueError(
                f"{where} contains non-integral class labels {bad.tolist()}; class labels "
                "must be whole numbers 0..K-1 (or strings), NaN or -1 for missing."
            )
    if values.size and values.min() < 0:
        bad = np.unique(values[values < 0])[:5]
        raise ValueError(
            f"{where} contains negative labels {bad.tolist()}; the only negative value "
            "allowed is -1, which marks a missing label. Class labels are 0..K-1."
        )
    return values.astype(np.int64)


def _encode_labels(raw, classes, n_classes, where):
    """Encode label values (missing removed) as 0..K-1.

    Returns (codes, classes, n_classes). Numeric labels are their own codes
    (class k is column k of pred_probs); any other hashable labels are encoded by
    sorted order unless ``classes`` is given.
    """
    raw = np.asarray(raw)
    if classes is not None:
        classes = np.asarray(classes)
        if classes.ndim != 1 or classes.size == 0:
            raise ValueError("classes must be a non-empty 1-D list of class labels.")
        if np.unique(classes).size != classes.size:
            raise ValueError("classes contains duplicates; give each class once.")
        if n_classes is not None and classes.size != n_classes:
            raise ValueError(
                f"classes has {classes.size} entries but pred_probs has {n_classes} "
                "columns; give one class per column of pred_probs."
            )
        order = np.argsort(classes, kind="stable")
        try:
            pos = np.searchsorted(classes[order], raw)
            pos = np.minimum(pos, classes.size - 1)
            found = classes[order][pos] == raw
        except TypeError as exc:
            raise TypeError(
                f"{where}: labels and classes cannot be compared ({exc}); give classes "
                "of the same type as the labels."
            ) from None
        if not np.all(found):
            bad = np.unique(raw[~found])[:5]
            raise ValueError(
                f"{where} contains labels {bad.tolist()} that are not in classes; add them "
                "to classes or fix the annotations."
            )
        return order[pos].astype(np.int64), classes, classes.size

    numeric = raw.dtype.kind in "iufb"
    if not numeric and raw.dtype.kind == "O" and raw.size:
        # Object arrays (e.g. a DataFrame with pd.NA) may hold plain numbers.
        is_real = np.frompyfunc(lambda v: isinstance(v, numbers.Real) and not isinstance(v, bool), 1, 1)
        numeric = bool(np.all(is_real(raw).astype(bool)))
        if numeric:
            raw = raw.astype(float)
    if numeric:
        codes = _numeric_labels(raw, where)
        k = int(codes.max()) + 1 if codes.size else 0
        if n_classes is not None:
            if codes.size and codes.max() >= n_classes:
                bad = np.unique(codes[codes >= n_classes])[:5]
                raise ValueError(
                    f"{where} contains class labels {bad.tolist()} but pred_probs has only "
                    f"{n_classes} columns (classes 0..{n_classes - 1}); class k must be "
                    "column k of pred_probs."
                )
            k = n_classes
        return codes, np.arange(k), k
    try:
        uniq, codes = np.unique(raw, return_inverse=True)
    except TypeError as exc:
        raise TypeError(
            f"{where} mixes label types that cannot be sorted ({exc}); use one type "
            "(all strings or all integers), or pass classes=[...]."
        ) from None
    if n_classes is not None and uniq.size != n_classes:
        raise ValueError(
            f"{where} uses {uniq.size} distinct class names {uniq[:10].tolist()} but "
            f"pred_probs has {n_classes} columns; pass classes=[...] (one per column of "
            "pred_probs, in column order) so labels can be matched to columns."
        )
    return codes.astype(np.int64).ravel(), uniq, uniq.size


def _from_dense(values, where):
    """(rows, cols, label values) of the non-missing entries of a 2-D array."""
    values = np.asarray(values)
    if values.dtype.kind == "f":
        present = ~np.isnan(values) & (values != -1)
    elif values.dtype.kind in "iu":
        present = values != -1
    elif values.dtype.kind == "b":
        raise TypeError(
            f"{where} is boolean; give class labels as integers 0..K-1 or strings."
        )
    elif values.dtype.kind in "OUS":
        if values.dtype.kind == "O":
            present = ~_is_missing_object(values)
            num = values[present]
            # -1 is the missing marker for numbers stored in an object array.
            is_neg1 = np.zeros(values.shape, dtype=bool)
            if num.size:
                neg = np.fromiter(
                    (isinstance(v, numbers.Real) and not isinstance(v, bool) and v == -1 for v in num),
                    dtype=bool,
                    count=num.size,
                )
                is_neg1[present] = neg
            present &= ~is_neg1
        else:
            present = values != ""
    else:
        raise TypeError(f"{where} has unsupported dtype {values.dtype}.")
    rows, cols = np.nonzero(present)
    return rows, cols, values[rows, cols]


def _from_long(examples, annotators, labels, where, n_examples, rows_name="pred_probs"):
    examples = np.asarray(examples)
    annotators = np.asarray(annotators)
    labels = np.asarray(labels)
    if not (examples.ndim == annotators.ndim == labels.ndim == 1):
        raise ValueError(
            f"{where}: long format needs three 1-D arrays (examples, annotators, labels)."
        )
    if not (examples.shape[0] == annotators.shape[0] == labels.shape[0]):
        raise ValueError(
            f"{where}: long-format arrays have different lengths {examples.shape[0]}, "
            f"{annotators.shape[0]}, {labels.shape[0]}; give one entry per annotation."
        )
    if labels.dtype.kind == "O":
        keep = ~_is_missing_object(labels)
    elif labels.dtype.kind == "f":
        keep = ~np.isnan(labels) & (labels != -1)
    elif labels.dtype.kind in "iu":
        keep = labels != -1
    else:
        keep = np.ones(labels.shape[0], dtype=bool)
    examples, annotators, labels = examples[keep], annotators[keep], labels[keep]

    example_ids = None
    if examples.dtype.kind in "iu" or (
        examples.dtype.kind == "f" and np.all(examples == np.round(examples))
    ):
        rows = examples.astype(np.int64)
        if rows.size and rows.min() < 0:
            raise ValueError(f"{where}: example indices must be >= 0.")
        if n_examples is not None and rows.size and rows.max() >= n_examples:
            raise ValueError(
                f"{where}: example index {int(rows.max())} is out of range for "
                f"{n_examples} rows of {rows_name}; integer example IDs are row indices."
            )
        n = n_examples if n_examples is not None else (int(rows.max()) + 1 if rows.size else 0)
    else:
        example_ids, rows = np.unique(examples, return_inverse=True)
        rows = rows.ravel().astype(np.int64)
        n = example_ids.size
        if n_examples is not None and n != n_examples:
            raise ValueError(
                f"{where}: {n} distinct example IDs but {rows_name} has {n_examples} rows; "
                "use integer row indices as example IDs, or convert with long_to_wide and "
                "align the rows with pred_probs."
            )
    if (
        annotators.dtype.kind in "iu"
        and annotators.size
        and annotators.min() >= 0
        and annotators.max() < 4 * annotators.size + 1024
    ):
        # small non-negative integer IDs: an O(n) relabelling instead of a sort
        present = np.bincount(annotators, minlength=1) > 0
        annotator_ids = np.flatnonzero(present)
        position = np.cumsum(present) - 1
        cols = position[annotators]
    else:
        annotator_ids, cols = np.unique(annotators, return_inverse=True)
    return rows, cols.ravel().astype(np.int64), labels, n, annotator_ids, example_ids


def _long_columns(df, where):
    cols = list(df.columns)
    lower = {str(c).lower(): c for c in cols}

    def pick(options, what):
        for o in options:
            if o in lower:
                return lower[o]
        raise ValueError(
            f"{where}: long-format DataFrame needs a {what} column (one of {list(options)}); "
            f"it has {cols}."
        )

    return (
        pick(_LONG_EXAMPLE_COLUMNS, "example"),
        pick(_LONG_ANNOTATOR_COLUMNS, "annotator"),
        pick(_LONG_LABEL_COLUMNS, "label"),
    )


def _is_long_frame(df):
    lower = {str(c).lower() for c in df.columns}
    return (
        "label" in lower
        and bool(lower & set(_LONG_ANNOTATOR_COLUMNS))
        and bool(lower & set(_LONG_EXAMPLE_COLUMNS))
        and len(lower) <= 4
    )


def _check_all_labeled(rows, n, where):
    empty = np.flatnonzero(np.bincount(rows, minlength=n) == 0)
    if empty.size:
        shown = empty[:10].tolist()
        raise ValueError(
            f"{where}: {empty.size} example(s) have no label at all (rows {shown}"
            f"{' ...' if empty.size > 10 else ''}); every labeled example needs at least "
            "one annotation. Move unlabeled examples to pred_probs_unlabeled."
        )


def _check_parsed(ann, n_examples, n_classes, require_labeled, where):
    """Checks for an already parsed :class:`Annotations` (no copy, no re-encoding)."""
    if n_examples is not None and ann.n_examples != n_examples:
        raise ValueError(
            f"{where} has {ann.n_examples} examples (rows) but pred_probs has {n_examples}."
        )
    if n_classes is not None and ann.n_classes != n_classes:
        if ann.label.size and ann.label.max() >= n_classes:
            raise ValueError(
                f"{where} uses class index {int(ann.label.max())} but pred_probs has only "
                f"{n_classes} columns."
            )
        if ann.classes.size != n_classes and ann.classes.dtype.kind not in "iu":
            raise ValueError(
                f"{where} has {ann.classes.size} classes but pred_probs has {n_classes} columns."
            )
        from dataclasses import replace

        ann = replace(ann, n_classes=n_classes, classes=np.arange(n_classes))
    if require_labeled:
        _check_all_labeled(ann.example, ann.n_examples, where)
    return ann


def check_annotations(
    labels_multiannotator,
    *,
    n_examples=None,
    n_classes=None,
    classes=None,
    require_labeled=True,
    name="labels_multiannotator",
    rows_name="pred_probs",
):
    """Validate annotations in any accepted format and return :class:`Annotations`.

    Parameters
    ----------
    labels_multiannotator : array-like, DataFrame, sparse matrix or tuple
        See the module docstring for the accepted formats.
    n_examples : int, optional
        Expected number of examples (rows of ``pred_probs``).
    n_classes : int, optional
        Number of classes (columns of ``pred_probs``).
    classes : array-like, optional
        Class values in column order of ``pred_probs``; needed only when labels are
        not integers 0..K-1 and their sorted order is not the column order.
    require_labeled : bool, default=True
        Raise if some example has no annotation at all.
    name, rows_name : str
        How error messages call the annotations and the array giving the rows.

    Returns
    -------
    Annotations
    """
    where = name
    obj = labels_multiannotator
    if obj is None:
        raise ValueError(f"{where} is None; pass the annotations.")
    if isinstance(obj, Annotations):
        return _check_parsed(obj, n_examples, n_classes, require_labeled, where)
    example_ids = None
    may_repeat = True
    if isinstance(obj, tuple):
        if len(obj) != 3:
            raise ValueError(
                f"{where}: a tuple is read as long format (examples, annotators, labels) "
                f"and needs 3 arrays, got {len(obj)}. Pass a 2-D array for wide format."
            )
        rows, cols, raw, n, annotator_ids, example_ids = _from_long(*obj, where, n_examples, rows_name)
    elif _is_dataframe(obj):
        if _is_long_frame(obj):
            ec, ac, lc = _long_columns(obj, where)
            rows, cols, raw, n, annotator_ids, example_ids = _from_long(
                obj[ec].to_numpy(), obj[ac].to_numpy(), obj[lc].to_numpy(), where, n_examples, rows_name
            )
        else:
            annotator_ids = np.asarray(obj.columns)
            if all(dt.kind in "iuf" for dt in obj.dtypes):
                values = obj.to_numpy(dtype=float)
            else:
                values = obj.to_numpy(dtype=object)
            rows, cols, raw = _from_dense(values, where)
            n = values.shape[0]
            example_ids = np.asarray(obj.index)
            may_repeat = False
    elif sp.issparse(obj):
        if obj.ndim != 2:
            raise ValueError(f"{where} must be 2-D (examples x annotators).")
        coo = sp.coo_array(obj)
        keep = ~np.isnan(coo.data) & (coo.data != -1) if coo.data.dtype.kind == "f" else coo.data != -1
        rows = np.asarray(coo.row[keep], dtype=np.int64)
        cols = np.asarray(coo.col[keep], dtype=np.int64)
        raw = coo.data[keep]
        n = obj.shape[0]
        annotator_ids = np.arange(obj.shape[1])
    else:
        try:
            values = np.asarray(obj)
        except ValueError as exc:
            raise ValueError(f"{where} could not be read as an array ({exc}).") from None
        if values.ndim == 1:
            values = values.reshape(-1, 1)
        if values.ndim != 2:
            raise ValueError(
                f"{where} must be 2-D (examples x annotators) but has {values.ndim} "
                "dimensions; for long format pass a tuple (examples, annotators, labels)."
            )
        rows, cols, raw = _from_dense(values, where)
        n = values.shape[0]
        annotator_ids = np.arange(values.shape[1])
        may_repeat = False

    if n_examples is not None and n != n_examples:
        raise ValueError(
            f"{where} has {n} examples (rows) but {rows_name} has {n_examples}; they "
            "must describe the same examples in the same order."
        )
    codes, enc_classes, k = _encode_labels(raw, classes, n_classes, where)

    # Duplicate (example, annotator) pairs can only come from long format or a
    # sparse matrix with repeated entries; a quick sort tells whether there are any.
    dup = np.empty(0, dtype=np.int64)
    if may_repeat and rows.size > 1:
        key = rows * max(len(annotator_ids), 1) + cols
        sorted_key = np.sort(key)
        if np.any(sorted_key[1:] == sorted_key[:-1]):
            order = np.argsort(key, kind="stable")
            key_sorted = key[order]
            dup = np.flatnonzero(key_sorted[1:] == key_sorted[:-1])
    if dup.size:
        a, b = order[dup], order[dup + 1]
        conflict = codes[a] != codes[b]
        if np.any(conflict):
            first = a[np.flatnonzero(conflict)[0]]
            ex_id = example_ids[rows[first]] if example_ids is not None else rows[first]
            raise ValueError(
                f"{where}: annotator {_py(annotator_ids[cols[first]])!r} gave example "
                f"{_py(ex_id)!r} "
                "two different labels; keep one label per (example, annotator) pair "
                "(e.g. drop_duplicates(['task', 'annotator'], keep='last'))."
            )
        keep = np.ones(codes.size, dtype=bool)
        keep[b] = False
        rows, cols, codes = rows[keep], cols[keep], codes[keep]

    if require_labeled:
        _check_all_labeled(rows, n, where)
    return Annotations(
        example=np.ascontiguousarray(rows, dtype=np.int64),
        annotator=np.ascontiguousarray(cols, dtype=np.int64),
        label=np.ascontiguousarray(codes, dtype=np.int64),
        n_examples=int(n),
        n_annotators=int(len(annotator_ids)),
        n_classes=int(k),
        classes=enc_classes,
        annotator_ids=annotator_ids,
        example_ids=example_ids,
    )


def long_to_wide(labels_long, *, missing=np.nan, classes=None):
    """Convert long-format annotations to a wide (examples x annotators) matrix.

    Parameters
    ----------
    labels_long : DataFrame or tuple of three arrays
        A DataFrame with columns ``task`` (or ``example``), ``annotator`` (or
        ``worker``) and ``label``, or a tuple ``(examples, annotators, labels)``.
    missing : scalar, default=np.nan
        Value written where an annotator did not label an example.
    classes : array-like, optional
        Class values; by default numeric labels are kept as they are and other
        labels are sorted.

    Returns
    -------
    wide : ndarray or DataFrame
        A DataFrame (index = example IDs, columns = annotator IDs) when the input
        is a DataFrame, else an object/float ndarray with rows in example order and
        columns in sorted annotator order.

    Examples
    --------
    >>> from skactivelab import long_to_wide
    >>> long_to_wide(([0, 0, 1], ["ann", "bob", "bob"], [1, 0, 1]))
    array([[ 1.,  0.],
           [nan,  1.]])
    """
    ann = check_annotations(labels_long, classes=classes, require_labeled=False, name="labels_long")
    numeric = ann.classes.dtype.kind in "iuf"
    values = ann.classes[ann.label]
    if numeric and isinstance(missing, float):
        wide = np.full((ann.n_examples, ann.n_annotators), missing, dtype=float)
    else:
        wide = np.full((ann.n_examples, ann.n_annotators), missing, dtype=object)
    wide[ann.example, ann.annotator] = values
    if _is_dataframe(labels_long):
        import pandas as pd

        index = ann.example_ids if ann.example_ids is not None else np.arange(ann.n_examples)
        return pd.DataFrame(wide, index=index, columns=ann.annotator_ids)
    return wide


def wide_to_long(labels_multiannotator, *, classes=None):
    """Convert wide annotations to long format.

    Returns a DataFrame with columns ``task``, ``annotator``, ``label`` when pandas
    is installed and the input is a DataFrame; otherwise a tuple of three arrays
    ``(examples, annotators, labels)`` (examples are row indices, annotators are
    column indices or IDs, labels are the user's class values).

    Examples
    --------
    >>> import numpy as np
    >>> from skactivelab import wide_to_long
    >>> ex, ann, lab = wide_to_long(np.array([[1, -1], [0, 1]]))
    >>> ex.tolist(), ann.tolist(), lab.tolist()
    ([0, 1, 1], [0, 0, 1], [1, 0, 1])
    """
    ann = check_annotations(labels_multiannotator, classes=classes, require_labeled=False)
    order = np.lexsort((ann.annotator, ann.example))
    ex = ann.example[order]
    examples = ann.example_ids[ex] if ann.example_ids is not None else ex
    annotators = ann.annotator_ids[ann.annotator[order]]
    labels = ann.classes[ann.label[order]]
    if _is_dataframe(labels_multiannotator):
        import pandas as pd

        return pd.DataFrame({"task": examples, "annotator": annotators, "label": labels})
    return examples, annotators, labels
