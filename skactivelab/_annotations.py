"""Annotation input: every accepted format becomes three aligned integer arrays.

Internally annotations are sparse triples ``(example, annotator, label)`` with
``label`` encoded as 0..K-1 (see docs/design.md), so every statistic costs
O(number of annotations) rather than O(N x M).

Accepted formats (see :func:`check_annotations`):

* a 2-D float array, NaN (or -1) for a missing label;
* a 2-D integer array, -1 for a missing label (scikit-learn's "no label");
* a 2-D object/string array, ``None``/NaN for a missing label (``''`` in a
  NumPy string array; the text ``'nan'`` there is refused, see
  :func:`_string_present`);
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

from ._utils import (
    LONG_ANNOTATOR_COLUMNS,
    LONG_EXAMPLE_COLUMNS,
    LONG_LABEL_COLUMNS,
    is_dataframe,
    is_long_frame,
    is_missing,
    py_scalar,
)

__all__ = ["Annotations", "check_annotations", "long_to_wide", "wide_to_long"]



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


def _first_rows(idx, n=10):
    idx = np.asarray(idx)
    return f"{idx[:n].tolist()}{' ...' if idx.size > n else ''}"


# Per-element kind of an object array, in one pass: 0 other, 1 bool, 2 integral, 3 real.
_OBJECT_KIND = np.frompyfunc(
    lambda v: 1
    if isinstance(v, (bool, np.bool_))
    else 2
    if isinstance(v, numbers.Integral)
    else 3
    if isinstance(v, numbers.Real)
    else 0,
    1,
    1,
)


def _bool_error(where):
    return TypeError(
        f"{where} holds boolean values; class labels must be integers 0..K-1 or strings "
        "(True/False is ambiguous with a mask of which annotations exist). If True and "
        "False really are the classes, convert them first, e.g. with .astype(int)."
    )


def _object_numbers(raw, where):
    """An object array of plain numbers as a numeric array, else ``raw`` unchanged.

    Integers stay exact (no detour through float); booleans are refused.
    """
    kind = _OBJECT_KIND(raw).astype(np.int8)
    if np.any(kind == 1):
        raise _bool_error(where)
    if not np.all(kind >= 2):
        return raw
    if np.all(kind == 2):
        for dtype in (np.int64, np.uint64):
            try:
                return raw.astype(dtype)
            except OverflowError:
                continue
        raise ValueError(
            f"{where} contains integer labels beyond the 64-bit range; give such classes "
            "as strings."
        )
    return raw.astype(float)


def _numeric_labels(values, where):
    """Validate numeric label values: integral, >= 0 (missing already removed).

    Returns an int64 array, or uint64 / float64 for values beyond int64 (never
    wrapped around).
    """
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
    if values.dtype.kind != "u" and values.size and values.min() < 0:
        bad = np.unique(values[values < 0])[:5]
        raise ValueError(
            f"{where} contains negative labels {bad.tolist()}; the only negative value "
            "allowed is -1, which marks a missing label. Class labels are 0..K-1."
        )
    if values.dtype.kind == "u":
        return values if values.size and values.max() >= 2**63 else values.astype(np.int64)
    if values.dtype.kind == "f" and values.size and values.max() >= 2**62:
        return values  # exact as float; cast would overflow
    return values.astype(np.int64)


def _compress_values(values):
    """(codes, classes): classes are the distinct values, sorted; codes index them.

    The cost depends on the number of labels, never on how large a label is.
    """
    if values.size == 0:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    if values.dtype.kind in "iu" and values.max() < 4 * values.size + 1024:
        # small labels: an O(n) relabelling instead of a sort
        small = values.astype(np.int64)
        present = np.bincount(small) > 0
        classes = np.flatnonzero(present).astype(np.int64)
        return (np.cumsum(present) - 1)[small], classes
    classes, codes = np.unique(values, return_inverse=True)
    if classes.dtype.kind == "f":
        classes = classes.astype(np.int64) if classes.max() < 2**62 else classes
    return codes.ravel().astype(np.int64), classes


def _encode_labels(raw, classes, n_classes, where):
    """Encode label values (missing removed) as 0..K-1.

    Returns (codes, classes, n_classes). With ``n_classes`` (pred_probs given),
    integer label k is column k of pred_probs. Without it, integer labels are
    encoded by their distinct values in sorted order (so the cost never depends on
    how large a label is). Other hashable labels are encoded by sorted order
    unless ``classes`` is given. Booleans are refused.
    """
    raw = np.asarray(raw)
    if raw.dtype.kind == "b":
        raise _bool_error(where)
    if raw.dtype.kind == "O" and raw.size:
        raw = _object_numbers(raw, where)
    if classes is not None:
        return _encode_by_classes(raw, classes, n_classes, where)
    if raw.dtype.kind in "iuf":
        return _encode_numbers(raw, n_classes, where)
    return _encode_names(raw, n_classes, where)


def _encode_by_classes(raw, classes, n_classes, where):
    """(codes, classes, K) of labels matched to the user's ``classes``, in their order."""
    classes = np.asarray(classes)
    if classes.ndim != 1 or classes.size == 0:
        raise ValueError("classes must be a non-empty 1-D list of class labels.")
    try:
        order = np.argsort(classes, kind="stable")
        sorted_classes = classes[order]
        if np.any(sorted_classes[1:] == sorted_classes[:-1]):
            raise ValueError("classes contains duplicates; give each class once.")
    except TypeError:
        raise TypeError(
            f"classes mixes types that cannot be compared ({classes[:10].tolist()}); "
            "give classes of one type, the type of the labels."
        ) from None
    if n_classes is not None and classes.size != n_classes:
        raise ValueError(
            f"classes has {classes.size} entries but pred_probs has {n_classes} "
            "columns; give one class per column of pred_probs."
        )
    try:
        pos = np.searchsorted(sorted_classes, raw)
        pos = np.minimum(pos, classes.size - 1)
        found = sorted_classes[pos] == raw
    except TypeError as exc:
        raise TypeError(
            f"{where}: labels and classes cannot be compared ({exc}); give classes "
            "of the same type as the labels."
        ) from None
    if not np.all(found):
        bad = _distinct(raw[~found])[:5]
        raise ValueError(
            f"{where} contains labels {bad.tolist()} that are not in classes; add them "
            "to classes or fix the annotations."
        )
    return order[pos].astype(np.int64), classes, classes.size


def _encode_numbers(raw, n_classes, where):
    """(codes, classes, K) of numeric labels: column numbers, else their sorted values."""
    values = _numeric_labels(raw, where)
    if n_classes is not None:
        if values.size and values.max() >= n_classes:
            bad = _distinct(values[values >= n_classes])[:5]
            raise ValueError(
                f"{where} contains class labels {bad.tolist()} but pred_probs has only "
                f"{n_classes} columns (classes 0..{n_classes - 1}); class k must be "
                "column k of pred_probs."
            )
        return values.astype(np.int64), np.arange(n_classes), n_classes
    codes, uniq = _compress_values(values)
    return codes, uniq, uniq.size


def _encode_names(raw, n_classes, where):
    """(codes, classes, K) of other labels (strings, ...) in their sorted order."""
    try:
        uniq, codes = np.unique(raw, return_inverse=True)
    except TypeError as exc:
        raise TypeError(
            f"{where} mixes label types that cannot be sorted ({exc}); use one type for "
            "every label (all strings or all integers). The scoring functions also accept "
            "classes=[...] to name the classes and their order."
        ) from None
    if n_classes is not None and uniq.size != n_classes:
        raise ValueError(
            f"{where} uses {uniq.size} distinct class names {uniq[:10].tolist()} but "
            f"pred_probs has {n_classes} columns; pass classes=[...] (one per column of "
            "pred_probs, in column order) so labels can be matched to columns."
        )
    return codes.astype(np.int64).ravel(), uniq, uniq.size


def _distinct(values):
    """Distinct values for a message: sorted when comparable, else first appearance."""
    return _factorize(values, first_appearance=False)[0]


def _factorize(values, *, first_appearance):
    """(uniques, codes) of a 1-D array, codes int64 indexing uniques.

    ``first_appearance=False`` sorts the uniques when the values are comparable;
    a mix of kinds that cannot be sorted (0, 1, "carol") keeps the order of first
    appearance, as does ``first_appearance=True``.
    """
    values = np.asarray(values).ravel()
    if not first_appearance or values.dtype.kind != "O":
        try:
            uniq, first, codes = np.unique(values, return_index=True, return_inverse=True)
        except TypeError:
            pass  # mixed kinds: first appearance below
        else:
            codes = codes.ravel()
            if not first_appearance:
                return uniq, codes.astype(np.int64)
            order = np.argsort(first, kind="stable")
            rank = np.empty(order.size, dtype=np.int64)
            rank[order] = np.arange(order.size)
            return uniq[order], rank[codes]
    try:
        import pandas as pd
    except ImportError:  # pragma: no cover - pandas is optional
        lookup = {}
        codes = np.fromiter(
            (lookup.setdefault(v, len(lookup)) for v in values.tolist()),
            dtype=np.int64,
            count=values.size,
        )
        uniq = np.empty(len(lookup), dtype=object)
        uniq[:] = list(lookup)
        return uniq, codes
    codes, uniq = pd.factorize(values)
    return np.asarray(uniq, dtype=values.dtype), codes.astype(np.int64)


def _string_present(values, where):
    """Present-mask of a NumPy unicode/bytes label array: ``''`` is missing.

    The text ``'nan'`` is refused: ``np.array(['a', np.nan])`` stores a missing
    value as that text, and a string array cannot tell it from a class named
    'nan' (an object array can: there ``np.nan`` is missing and ``'nan'`` a class).
    """
    empty = values.dtype.type()
    nan_text = values == values.dtype.type("nan")
    if np.any(nan_text):
        rows = np.flatnonzero(nan_text.reshape(values.shape[0], -1).any(axis=1))
        raise ValueError(
            f"{where} is a NumPy string array holding the text 'nan' (rows "
            f"{_first_rows(rows)}): that is what np.array([..., np.nan]) makes of a "
            "missing value, and a string array cannot tell it from a class named 'nan'. "
            "Build the array with dtype=object (then np.nan or None marks a missing "
            "label) or use '' for missing; if 'nan' really is a class, pass an object "
            "array."
        )
    return values != empty


def _missing_ids(values):
    """Mask of missing IDs: None/NaN/pd.NA, and '' or 'nan' text in string arrays."""
    kind = values.dtype.kind
    if kind == "f":
        return np.isnan(values)
    if kind == "O":
        return is_missing(values)
    if kind in "US":
        t = values.dtype.type
        return (values == t()) | (values == t("nan"))
    return np.zeros(values.shape, dtype=bool)


def _check_ids(values, where, what, positions=None):
    """Refuse missing example/annotator IDs, naming the input rows."""
    miss = _missing_ids(values)
    if np.any(miss):
        rows = np.flatnonzero(miss)
        if positions is not None:
            rows = positions[rows]
        raise ValueError(
            f"{where}: the {what} ID is missing (None, NaN, empty or the text 'nan') in "
            f"rows {_first_rows(rows)}; every annotation needs a {what} ID. Drop or fill "
            "those rows first."
        )


def _integer_ids(values):
    """Integer IDs as int64 (an object array of plain integers included), else None."""
    kind = values.dtype.kind
    if kind in "iu":
        return values.astype(np.int64)
    if kind == "f":
        return values.astype(np.int64) if np.all(values == np.round(values)) else None
    if kind == "O" and values.size:
        k = _OBJECT_KIND(values).astype(np.int8)
        if np.all(k == 2):
            try:
                return values.astype(np.int64)
            except OverflowError:
                return None
    return None


def _align_to_index(ids, index, where, rows_name):
    """Position in ``index`` (the IDs of the rows of pred_probs) of each entry of the
    distinct ``ids``; every ID must be on both sides."""
    import pandas as pd

    index = pd.Index(index)
    if not index.is_unique:
        dup = index[index.duplicated()].unique()[:5].tolist()
        raise ValueError(
            f"{rows_name} has duplicate example IDs in its index {dup}; give each example "
            "one row."
        )
    pos = index.get_indexer(pd.Index(ids))
    if np.any(pos < 0):
        bad = np.asarray(ids)[pos < 0][:10].tolist()
        raise ValueError(
            f"{where} has example IDs {bad} that are not in the index of {rows_name}; add "
            f"their rows to {rows_name}, or pass {rows_name}.to_numpy() to match rows by "
            "position instead of by ID."
        )
    if len(ids) < len(index):
        seen = np.zeros(len(index), dtype=bool)
        seen[pos] = True
        bad = np.asarray(index)[~seen][:10].tolist()
        raise ValueError(
            f"{rows_name} has rows for example IDs {bad} that have no annotation in "
            f"{where}; drop those rows (score unlabeled examples with "
            "pred_probs_unlabeled), or pass .to_numpy() to match rows by position."
        )
    return pos


def _from_dense(values, where):
    """(rows, cols, label values) of the non-missing entries of a 2-D array."""
    values = np.asarray(values)
    if values.dtype.kind == "f":
        # With no value below -1 (the usual case), "> -1" is exactly "not NaN and
        # not -1" in one pass; values below -1 keep the two tests (and are refused later).
        if not np.fmin.reduce(values, axis=None, initial=0.0) < -1:
            present = values > -1
        else:
            present = ~np.isnan(values) & (values != -1)
    elif values.dtype.kind in "iu":
        present = values != -1
    elif values.dtype.kind == "b":
        raise _bool_error(where)
    elif values.dtype.kind in "OUS":
        if values.dtype.kind == "O":
            present = ~is_missing(values)
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
            present = _string_present(values, where)
    else:
        raise TypeError(f"{where} has unsupported dtype {values.dtype}.")
    # positions in row-major order, as np.nonzero gives them
    flat = np.flatnonzero(present)
    if values.shape[1] == 0:
        return flat, flat.copy(), values.reshape(-1)[flat]
    rows, cols = np.divmod(flat, values.shape[1])
    return rows, cols, values.reshape(-1)[flat] if values.flags.c_contiguous else values[rows, cols]


def _from_long(examples, annotators, labels, where, n_examples, rows_name="pred_probs", example_index=None):
    """(rows, cols, label values, n, annotator_ids, example_ids) of long-format arrays."""
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
    keep = _long_present(labels, where)
    positions = None
    if not keep.all():
        positions = np.flatnonzero(keep)
        examples, annotators, labels = examples[keep], annotators[keep], labels[keep]
    # D3: a missing example or annotator ID is an error, never an ID of its own
    _check_ids(examples, where, "example", positions)
    _check_ids(annotators, where, "annotator", positions)
    rows, n, example_ids = _long_rows(examples, where, n_examples, rows_name, example_index)
    annotator_ids, cols = _annotator_columns(annotators)
    return rows, cols.ravel().astype(np.int64), labels, n, annotator_ids, example_ids


def _long_present(labels, where):
    """Mask of the long-format entries whose label is present (not missing)."""
    if labels.dtype.kind == "O":
        keep = ~is_missing(labels)
    elif labels.dtype.kind == "f":
        keep = ~np.isnan(labels) & (labels != -1)
    elif labels.dtype.kind in "iu":
        keep = labels != -1
    elif labels.dtype.kind in "US":
        keep = _string_present(labels, where)
    elif labels.dtype.kind == "b":
        raise _bool_error(where)
    else:
        keep = np.ones(labels.shape[0], dtype=bool)
    return keep


def _long_rows(examples, where, n_examples, rows_name, example_index):
    """(rows, n, example_ids): the row of each long-format example ID."""
    example_ids = None
    int_rows = None if example_index is not None else _integer_ids(examples)
    if example_index is not None:
        # rows aligned by ID to the index of pred_probs
        ids, codes = _factorize(examples, first_appearance=True)
        rows = _align_to_index(ids, example_index, where, rows_name)[codes]
        n = len(example_index)
        example_ids = np.asarray(example_index)
    elif int_rows is not None:
        # integer example IDs are row indices (row i of pred_probs)
        rows = int_rows
        if rows.size and rows.min() < 0:
            raise ValueError(f"{where}: example indices must be >= 0.")
        if n_examples is not None and rows.size and rows.max() >= n_examples:
            raise ValueError(
                f"{where}: example index {int(rows.max())} is out of range for "
                f"{n_examples} rows of {rows_name}; integer example IDs are row indices "
                f"(pass {rows_name} as a DataFrame indexed by example ID to match by ID)."
            )
        n = n_examples if n_examples is not None else (int(rows.max()) + 1 if rows.size else 0)
    else:
        # other IDs: rows in order of first appearance, never sorted
        example_ids, rows = _factorize(examples, first_appearance=True)
        n = example_ids.size
        if n_examples is not None and n != n_examples:
            raise ValueError(
                f"{where}: {n} distinct example IDs but {rows_name} has {n_examples} rows; "
                f"give one row of {rows_name} per example, in order of first appearance in "
                f"the annotations, or pass {rows_name} as a DataFrame indexed by example ID."
            )
    return rows, n, example_ids


def _annotator_columns(annotators):
    """(annotator_ids, cols): the distinct long-format annotator IDs and each entry's column."""
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
        # sorted when comparable; a mix of kinds keeps the order of first appearance
        annotator_ids, cols = _factorize(annotators, first_appearance=False)
    return annotator_ids, cols


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
        pick(LONG_EXAMPLE_COLUMNS, "example"),
        pick(LONG_ANNOTATOR_COLUMNS, "annotator"),
        pick(LONG_LABEL_COLUMNS, "label"),
    )


def _check_all_labeled(rows, n, where, example_ids=None):
    empty = np.flatnonzero(np.bincount(rows, minlength=n) == 0)
    if empty.size:
        shown = empty[:10].tolist()
        ids = ""
        if example_ids is not None:
            ids = f", IDs {_first_rows(np.asarray(example_ids)[empty])}"
        raise ValueError(
            f"{where}: {empty.size} example(s) have no label at all (rows {shown}"
            f"{' ...' if empty.size > 10 else ''}{ids}); every labeled example needs at "
            "least one annotation. Move unlabeled examples to pred_probs_unlabeled."
        )


def _check_parsed(ann, n_examples, n_classes, require_labeled, where, example_index=None):
    """Checks for an already parsed :class:`Annotations` (no copy, no re-encoding)."""
    from dataclasses import replace

    if n_examples is not None and ann.n_examples != n_examples:
        raise ValueError(
            f"{where} has {ann.n_examples} examples (rows) but pred_probs has {n_examples}."
        )
    # As many classes as columns: code k is column k, ann.classes names them (the
    # estimators pass their own classes down this way). Otherwise integer class
    # values are read as column numbers, as for any other input.
    if n_classes is not None and ann.n_classes != n_classes:
        if ann.classes.dtype.kind not in "iu":
            raise ValueError(
                f"{where} has {ann.classes.size} classes but pred_probs has {n_classes} columns."
            )
        # integer class values: value k is column k of pred_probs
        values = ann.classes[ann.label]
        if values.size and values.max() >= n_classes:
            raise ValueError(
                f"{where} uses class {int(values.max())} but pred_probs has only "
                f"{n_classes} columns (classes 0..{n_classes - 1})."
            )
        ann = replace(
            ann, label=values.astype(np.int64), n_classes=n_classes, classes=np.arange(n_classes)
        )
    if example_index is not None:
        ann = replace(ann, example_ids=np.asarray(example_index))
    if require_labeled:
        _check_all_labeled(ann.example, ann.n_examples, where, ann.example_ids)
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
    example_index=None,
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
    example_index : array-like, optional
        The example IDs of the rows of ``pred_probs`` (a DataFrame's index). Long
        format and wide DataFrames are then aligned to it by ID (every ID on both
        sides); other inputs have no IDs and are matched by position. The result's
        ``example_ids`` is then ``example_index``.

    Returns
    -------
    Annotations

    Notes
    -----
    How rows are matched without ``example_index``: a 2-D array, a sparse matrix
    and a wide DataFrame give one row per example, in their order. In long format,
    integer example IDs are row numbers (ID i is row i of ``pred_probs``); any
    other IDs number the rows in order of first appearance in the annotations
    (never sorted).
    """
    where = name
    obj = labels_multiannotator
    if obj is None:
        raise ValueError(f"{where} is None; pass the annotations.")
    if example_index is not None and n_examples is None:
        n_examples = len(example_index)
    if isinstance(obj, Annotations):
        return _check_parsed(obj, n_examples, n_classes, require_labeled, where, example_index)
    rows, cols, raw, n, annotator_ids, example_ids, may_repeat = _read_entries(
        obj, where, n_examples, rows_name, example_index
    )
    if n_examples is not None and n != n_examples:
        raise ValueError(
            f"{where} has {n} examples (rows) but {rows_name} has {n_examples}; they "
            "must describe the same examples in the same order."
        )
    codes, enc_classes, k = _encode_labels(raw, classes, n_classes, where)
    if may_repeat and rows.size > 1:
        rows, cols, codes = _drop_repeated_pairs(rows, cols, codes, annotator_ids, example_ids, where)
    if require_labeled:
        _check_all_labeled(rows, n, where, example_ids)
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


def _read_entries(obj, where, n_examples, rows_name, example_index):
    """(rows, cols, label values, n, annotator_ids, example_ids, may_repeat) of any format.

    ``may_repeat`` tells whether the format can hold an (example, annotator) pair
    twice (long format, a sparse matrix).
    """
    if isinstance(obj, tuple):
        if len(obj) != 3:
            raise ValueError(
                f"{where}: a tuple is read as long format (examples, annotators, labels) "
                f"and needs 3 arrays, got {len(obj)}. Pass a 2-D array for wide format."
            )
        return (*_from_long(*obj, where, n_examples, rows_name, example_index), True)
    if is_dataframe(obj):
        if is_long_frame(obj):
            ec, ac, lc = _long_columns(obj, where)
            entries = _from_long(
                obj[ec].to_numpy(), obj[ac].to_numpy(), obj[lc].to_numpy(), where, n_examples,
                rows_name, example_index,
            )
            return (*entries, True)
        return (*_from_wide_frame(obj, where, rows_name, example_index), False)
    # no IDs in the annotations: matched by position, results carry the index
    example_ids = None if example_index is None else np.asarray(example_index)
    if sp.issparse(obj):
        return (*_from_sparse(obj, where), example_ids, True)
    return (*_from_array(obj, where), example_ids, False)


def _from_sparse(obj, where):
    """(rows, cols, label values, n, annotator_ids) of the stored entries of a sparse matrix."""
    if obj.ndim != 2:
        raise ValueError(f"{where} must be 2-D (examples x annotators).")
    coo = sp.coo_array(obj)
    if coo.data.dtype.kind == "b":
        raise _bool_error(where)
    keep = ~np.isnan(coo.data) & (coo.data != -1) if coo.data.dtype.kind == "f" else coo.data != -1
    rows = np.asarray(coo.row[keep], dtype=np.int64)
    cols = np.asarray(coo.col[keep], dtype=np.int64)
    return rows, cols, coo.data[keep], obj.shape[0], np.arange(obj.shape[1])


def _from_array(obj, where):
    """(rows, cols, label values, n, annotator_ids) of a wide array-like."""
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
    return rows, cols, raw, values.shape[0], np.arange(values.shape[1])


def _drop_repeated_pairs(rows, cols, codes, annotator_ids, example_ids, where):
    """(rows, cols, codes) with a repeated (example, annotator) pair kept once; two labels refused."""
    # Duplicate (example, annotator) pairs can only come from long format or a
    # sparse matrix with repeated entries; a quick sort tells whether there are any.
    key = rows * max(len(annotator_ids), 1) + cols
    sorted_key = np.sort(key, kind="stable")  # fast on annotations grouped by example or annotator
    if not np.any(sorted_key[1:] == sorted_key[:-1]):
        return rows, cols, codes
    order = np.argsort(key, kind="stable")
    key_sorted = key[order]
    dup = np.flatnonzero(key_sorted[1:] == key_sorted[:-1])
    a, b = order[dup], order[dup + 1]
    conflict = codes[a] != codes[b]
    if np.any(conflict):
        first = a[np.flatnonzero(conflict)[0]]
        ex_id = example_ids[rows[first]] if example_ids is not None else rows[first]
        raise ValueError(
            f"{where}: annotator {py_scalar(annotator_ids[cols[first]])!r} gave example "
            f"{py_scalar(ex_id)!r} "
            "two different labels; keep one label per (example, annotator) pair "
            "(e.g. drop_duplicates(['task', 'annotator'], keep='last'))."
        )
    keep = np.ones(codes.size, dtype=bool)
    keep[b] = False
    return rows[keep], cols[keep], codes[keep]


def _from_wide_frame(df, where, rows_name, example_index):
    """(rows, cols, label values, n, annotator_ids, example_ids) of a wide DataFrame."""
    annotator_ids = np.asarray(df.columns)
    missing = _missing_ids(np.asarray(df.columns, dtype=object))
    if np.any(missing):
        raise ValueError(
            f"{where}: annotator columns {_first_rows(np.flatnonzero(missing))} (by position) "
            "have no name (None/NaN); name every annotator column."
        )
    if not df.columns.is_unique:
        dup = df.columns[df.columns.duplicated()].unique()[:5].tolist()
        raise ValueError(
            f"{where} has duplicate annotator columns {dup}; give each annotator one column."
        )
    kinds = [dt.kind for dt in df.dtypes]
    if any(k == "b" for k in kinds):
        raise _bool_error(where)
    if all(k in "iu" for k in kinds) and all(isinstance(dt, np.dtype) for dt in df.dtypes):
        values = df.to_numpy(dtype=np.int64)  # exact, -1 for missing
    elif all(k in "iuf" for k in kinds):
        # na_value: nullable columns (Int64 with pd.NA) need it before pandas 2.1
        values = df.to_numpy(dtype=float, na_value=np.nan)
    else:
        values = df.to_numpy(dtype=object)
    rows, cols, raw = _from_dense(values, where)
    n = values.shape[0]
    example_ids = np.asarray(df.index)
    if example_index is not None:
        if not df.index.is_unique:
            dup = df.index[df.index.duplicated()].unique()[:5].tolist()
            raise ValueError(
                f"{where} has duplicate example IDs in its index {dup}; give each example "
                f"one row to match it with {rows_name} by ID."
            )
        rows = _align_to_index(df.index, example_index, where, rows_name)[rows]
        n = len(example_index)
        example_ids = np.asarray(example_index)
    return rows, cols, raw, n, annotator_ids, example_ids


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
    if is_dataframe(labels_long):
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
    if is_dataframe(labels_multiannotator):
        import pandas as pd

        return pd.DataFrame({"task": examples, "annotator": annotators, "label": labels})
    return examples, annotators, labels


# --------------------------------------------------------------------------- public-function inputs
def result_index(labels, p_index, ann):
    """pandas Index for per-example results when an input carries example IDs, else None.

    pandas in, pandas out: the index of a pred_probs DataFrame, else the example
    IDs of a DataFrame of annotations (a wide frame's index, a long frame's example
    column). Arrays, sparse matrices and tuples carry none.
    """
    if p_index is not None:
        return p_index
    if not is_dataframe(labels):
        return None
    import pandas as pd

    if is_long_frame(labels):
        name = _long_columns(labels, "labels_multiannotator")[0]
        ids = ann.example_ids if ann.example_ids is not None else np.arange(ann.n_examples)
        return pd.Index(ids, name=name)
    return labels.index


def labeled_inputs(labels, pred_probs, *, ndim, classes, name="pred_probs"):
    """Checked ``(ann, P, index, columns)`` for annotations and their probabilities.

    ``P`` is a float64 copy. A pred_probs DataFrame is aligned to the annotations
    by example ID, and its column names (unless they are 0..K-1) give the class of
    each column. ``index`` is the pandas Index of per-example results (None when no
    input carries example IDs); ``columns`` the class names of a DataFrame's columns.
    """
    from ._validation import check_pred_probs, split_pred_probs

    values, p_index, columns = split_pred_probs(pred_probs, name=name, ndim=ndim)
    P = check_pred_probs(values, name=name, ndim=ndim)
    use_classes = classes
    if columns is not None:
        if classes is None:
            use_classes = columns
        elif not np.array_equal(np.asarray(classes, dtype=object), columns.astype(object)):
            raise ValueError(
                f"classes {np.asarray(classes).tolist()[:10]} differ from the columns of "
                f"{name} {columns.tolist()[:10]}; they must name the same classes in the "
                f"same order (or pass {name}.to_numpy() to use classes alone)."
            )
    try:
        ann = check_annotations(
            labels,
            n_examples=P.shape[-2],
            n_classes=P.shape[-1],
            classes=use_classes,
            example_index=p_index,
        )
    except (TypeError, ValueError) as exc:
        if columns is None or classes is not None or "classes" not in str(exc):
            raise
        raise type(exc)(
            f"{name} is a DataFrame whose column names {columns.tolist()[:10]} are read as "
            f"the class of each column, but the labels do not match them ({exc}). Name the "
            f"columns after the classes (e.g. columns=clf.classes_), or pass "
            f"{name}.to_numpy() so that column k is class k (or the k-th sorted class name)."
        ) from None
    return ann, P, result_index(labels, p_index, ann), columns


def unlabeled_inputs(pred_probs_unlabeled, *, ndim, n_classes, labeled_columns):
    """Checked ``(U, index)``; a DataFrame's columns must name the labeled classes."""
    from ._validation import check_pred_probs, split_pred_probs

    name = "pred_probs_unlabeled"
    values, index, columns = split_pred_probs(pred_probs_unlabeled, name=name, ndim=ndim)
    if columns is not None and labeled_columns is not None and not np.array_equal(
        columns.astype(object), np.asarray(labeled_columns, dtype=object)
    ):
        raise ValueError(
            f"{name} has columns {columns.tolist()[:10]} but pred_probs has "
            f"{np.asarray(labeled_columns).tolist()[:10]}; give both the same classes in the "
            "same column order."
        )
    U = check_pred_probs(values, name=name, ndim=ndim, n_classes=n_classes)
    return U, index


# --------------------------------------------------------------------------- rows of X
def _names_rows(X):
    """The index of ``X`` when it names the rows: a pandas DataFrame whose index is not
    just the positions 0..n-1 (where matching by ID and by position agree); else None."""
    if not is_dataframe(X):
        return None
    index = X.index
    n = len(index)
    if index.dtype.kind in "iu" and np.array_equal(np.asarray(index), np.arange(n)):
        return None
    return index


def _long_triples(y, where):
    if isinstance(y, tuple):
        if len(y) != 3:
            raise ValueError(
                f"{where}: a tuple is read as long format (examples, annotators, labels) "
                f"and needs 3 arrays, got {len(y)}. Pass a 2-D array for wide format."
            )
        return tuple(np.asarray(a) for a in y)
    ec, ac, lc = _long_columns(y, where)
    return y[ec].to_numpy(), y[ac].to_numpy(), y[lc].to_numpy()


def rows_of_X(y, X, *, name="y"):
    """Annotations ``y`` re-expressed for the rows of ``X``, matched by example ID.

    When ``X`` is a DataFrame whose index names its rows (anything but 0..n-1),
    long-format example IDs are looked up in that index (an ID it lacks is an
    error naming it; integer IDs are row numbers when the index holds no
    integers). Otherwise long-format example IDs must be integer row numbers of
    ``X``: other IDs cannot be matched to rows and are refused, never taken in
    order of appearance. A wide DataFrame or Series ``y`` with a DataFrame ``X``
    is aligned to ``X``'s index (the same IDs in another order are reordered;
    other IDs are an error). Returns ``y`` unchanged, reordered, or as a
    long-format tuple of row numbers.
    """
    if isinstance(y, tuple) or (is_dataframe(y) and is_long_frame(y)):
        return _long_rows_of_X(y, X, name)
    if is_dataframe(X) and type(y).__module__.split(".")[0] == "pandas":
        index = X.index
        if y.index.equals(index):
            return y
        if y.index.is_unique and len(y.index) == len(index) and y.index.isin(index).all():
            return y.reindex(index)
        diff = index.symmetric_difference(y.index)[:10].tolist()
        raise ValueError(
            f"{name} and X are both pandas objects but their indexes differ (IDs on one side "
            f"only, or repeated: {diff}); rows are matched by ID, so align them first (for "
            f"example {name}.reindex(X.index))."
        )
    return y


def _long_rows_of_X(y, X, name):
    import pandas as pd

    index = _names_rows(X)
    ex, an, lab = _long_triples(y, name)
    keep = _long_present(lab, name)
    int_ids = _integer_ids(ex[keep]) if keep.any() else np.empty(0, dtype=np.int64)
    if index is not None and int_ids is not None and index.dtype.kind not in "iuf":
        index = None  # integers can only be row numbers of X: its index holds none
    if index is None:
        if int_ids is None:
            shown = list(dict.fromkeys(ex[keep].tolist()))[:3]
            n = X.shape[0] if hasattr(X, "shape") else len(X)
            raise ValueError(
                f"{name} is long format with example IDs {shown}... that are not integer row "
                "numbers of X, and X does not name its rows, so rows cannot be matched by ID. "
                "Pass X as a pandas DataFrame indexed by these example IDs "
                f"(X.set_index(...)), or give each example as its integer row number in X (0..{n - 1})."
            )
        return y
    if not index.is_unique:
        dup = index[index.duplicated()].unique()[:5].tolist()
        raise ValueError(f"X has duplicate example IDs {dup} in its index; give each example one row.")
    pos = index.get_indexer(pd.Index(ex[keep]))
    if np.any(pos < 0):
        bad = list(dict.fromkeys(ex[keep][pos < 0].tolist()))[:10]
        raise ValueError(
            f"{name} has example IDs {bad} that are not in the index of X (rows are "
            "matched by ID); add their rows to X, or fix the IDs."
        )
    rows = np.zeros(ex.shape[0], dtype=np.int64)
    rows[keep] = pos
    return rows, an, lab
