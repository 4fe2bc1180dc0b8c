"""Annotation and features files of ``score`` and ``fit``.

A table file (``_tabular.py``) or a Label Studio export (``_labelstudio.py``)
becomes an :class:`~skactivelab.cli._tables.AnnotationTable`; a features file a
:class:`~skactivelab.cli._tables.FeatureTable`. Every check is a whole-column
operation (masks, codes) whose first offending row is named: every problem
raises :class:`InputFileError` with the file, the row (the 1-based line number
in the file, header included) and the fix. Nothing here prints. Probability
files are read by ``_probs.py``; the formats are described in
``docs/command_line.md``.
"""

from __future__ import annotations

import re

import numpy as np

from .._utils import (
    LONG_ANNOTATOR_COLUMNS as ANNOTATOR_COLUMNS,
    LONG_EXAMPLE_COLUMNS as EXAMPLE_COLUMNS,
    LONG_LABEL_COLUMNS as LABEL_COLUMNS,
)
from ._columns import ArrowColumn, release_freed
from ._labelstudio import looks_like_ls_header, read_ls_csv, read_ls_json
from ._tables import AnnotationTable, FeatureTable, InputFileError, shown
from ._tabular import (
    check_names,
    factorized,
    first_mask,
    first_repeat,
    number_block,
    padded_cell,
    raise_first,
    read_table,
    unique_ids,
)

__all__ = [
    "EXAMPLE_COLUMNS",
    "encode_labels",
    "find_column",
    "pick_column",
    "read_annotations",
    "read_features",
    "sorted_class_names",
]

_INT_RE = re.compile(r"[+-]?\d+")


def _is_json_document(path):
    if path.lower().endswith((".jsonl", ".ndjson")):
        return False
    if path.lower().endswith(".json"):
        return True
    try:
        with open(path, "rb") as fh:
            head = fh.read(64).lstrip(b"\xef\xbb\xbf \t\r\n")
    except OSError:
        return False
    return head[:1] in (b"[", b"{")


# --------------------------------------------------------------------------- columns by name
def find_column(header, aliases):
    """Indices of the columns whose lower-cased name is in ``aliases``.

    The bare ``id`` is the weakest name (often a row counter beside ``task`` or
    ``example_id``): it counts only when no other alias is present, as in the
    in-memory readers, which try the aliases in order and have ``id`` last.
    """
    hits = [j for j, name in enumerate(header) if name.lower() in aliases]
    strong = [j for j in hits if header[j].lower() != "id"]
    return strong if strong else hits


def pick_column(table, aliases, what, required=True):
    """Index of the one column named like ``aliases`` (None if absent and not
    ``required``)."""
    hits = find_column(table.header, aliases)
    if len(hits) > 1:
        names = [table.header[j] for j in hits]
        raise InputFileError(table.path, table.header_line, f"several {what} columns {names}",
                             f"Keep one column named one of {list(aliases)}.")
    if not hits:
        if not required:
            return None
        named = repr(aliases[0]) if len(aliases) == 1 else f"one of {list(aliases)}"
        raise InputFileError(table.path, table.header_line,
                             f"no {what} column (header: {table.header[:8]})",
                             f"Add a column named {named}.")
    return hits[0]


def _named_column(table, name, option, aliases, what_col):
    """Index of the column ``name`` (given by ``option``), else of the one usual name."""
    if name is None:
        return pick_column(table, aliases, what_col)
    if name not in table.header:
        raise InputFileError(table.path, table.header_line,
                             f"no column {name!r} (header: {table.header[:8]})",
                             f"Give {option} the exact name of the {what_col} column.")
    return table.header.index(name)


def _named_or_found(header, name, aliases):
    return [header.index(name)] if name in header else find_column(header, aliases)


def _detect_format(table, fmt, columns):
    groups = {
        "example": _named_or_found(table.header, columns[0], EXAMPLE_COLUMNS),
        "annotator": _named_or_found(table.header, columns[1], ANNOTATOR_COLUMNS),
        "label": _named_or_found(table.header, columns[2], LABEL_COLUMNS),
    }
    if fmt != "auto":
        return fmt
    present = [g for g, hits in groups.items() if hits]
    if len(present) == 3:
        return "long"
    if "label" in present and len(present) == 2:
        missing = next(g for g in groups if not groups[g])
        aliases = EXAMPLE_COLUMNS if missing == "example" else ANNOTATOR_COLUMNS
        raise InputFileError(
            table.path, table.header_line,
            f"looks like long format (columns {table.header[:8]}) but has no {missing} column",
            f"Name it with --{missing}-column NAME (or rename a column to one of "
            f"{list(aliases)}), or pass --format wide if it is wide format (first column the "
            "example ID, one column per annotator).")
    return "wide"


# --------------------------------------------------------------------------- annotations
def read_annotations(path, fmt="auto", *, what="--annotations", example_column=None,
                     annotator_column=None, label_column=None, classes=None):
    """Read annotations: a Label Studio export, or a long or wide table.

    Parameters
    ----------
    path : str or Path
    fmt : {"auto", "labelstudio", "long", "wide"}
        Long format has columns example ID (``example_id``, ``task``,
        ``example`` or ``item``, else ``id``), annotator ID (``annotator_id``,
        ``annotator`` or ``worker``) and ``label``, one row per label; other
        columns are ignored. Wide format has the example ID in the first column
        and one column per annotator (the header is the annotator ID). "auto"
        picks long when the three long-format columns are present. An empty
        label cell is no label; an example with no label is unlabeled.
    what : str
        How the file is named in fixes (the command-line option).
    example_column, annotator_column, label_column : str, optional
        Names of the columns of long format (exact), instead of the usual
        names; ``label_column`` is also the ``<Choices>`` tag of a Label Studio
        export. Label Studio exports (JSON, JSON-MIN, CSV) are recognised by
        their content (see ``_labelstudio.py``); tables may be CSV, TSV,
        Parquet or JSON Lines.
    classes : set of str, optional
        Class names known from elsewhere (the probability file): when several
        ``<Choices>`` tags (columns) of a Label Studio export could hold the
        class, the one whose answers are all classes is taken.

    Returns
    -------
    AnnotationTable
    """
    if fmt not in ("auto", "labelstudio", "long", "wide"):
        raise ValueError(f"fmt must be 'auto', 'labelstudio', 'long' or 'wide', got {fmt!r}.")
    path = str(path)
    if fmt in ("auto", "labelstudio") and _is_json_document(path):
        return read_ls_json(path, label_column, classes)
    table = read_table(path, what)
    if fmt == "labelstudio" or (fmt == "auto" and looks_like_ls_header(table.header)):
        return read_ls_csv(table, label_column, classes)
    check_names(table)
    detected = _detect_format(table, fmt, (example_column, annotator_column, label_column))
    if detected == "long":
        ann = _read_long(table, example_column, annotator_column, label_column)
    else:
        ann = _read_wide(table, _wide_hint(table) if fmt == "auto" else "")
    del table
    release_freed()  # the cells as read: only the codes are kept
    return ann


def _wide_hint(table):
    """Said when a table read as wide by auto-detection fails: how to read it as long."""
    return (f" (read as wide format: the header {table.header[:6]} has no example, annotator "
            "and label columns; if each row is one label, name them with --example-column, "
            "--annotator-column and --label-column)")


def _labels(codes, names):
    """Label codes and names without the empty label (an empty cell is no label):
    ``(keep, codes of the kept, names)``, ``keep`` a mask or ``slice(None)`` (all)."""
    if "" not in names:
        return slice(None), codes, list(names)
    k = names.index("")
    keep = codes != k
    return keep, codes[keep] - (codes[keep] > k), names[:k] + names[k + 1:]


def _first_rows(codes):
    """Position of the first appearance of each code (codes numbered in order of first
    appearance: each new one is the largest so far)."""
    if not codes.size:
        return np.zeros(0, dtype=np.int64)
    top = np.maximum.accumulate(codes)
    return np.flatnonzero(np.r_[True, top[1:] != top[:-1]])


def _read_long(table, example_column, annotator_column, label_column):
    """Long format: one row per label; the same (example, annotator) twice is an error."""
    ce = _named_column(table, example_column, "--example-column", EXAMPLE_COLUMNS, "example ID")
    ca = _named_column(table, annotator_column, "--annotator-column", ANNOTATOR_COLUMNS,
                       "annotator ID")
    cl = _named_column(table, label_column, "--label-column", LABEL_COLUMNS, "label")
    E, A, Y = (table.columns[j] for j in (ce, ca, cl))

    def empty(j):
        return lambda pos: table.error(pos, f"column {table.header[j]!r} is empty",
                                       "Give every row an example ID and an annotator ID.")

    (ex, ex_ids, ex_empty, ex_padded), (an, an_ids, an_empty, an_padded), \
        (y, names, _, y_padded) = _each_factorized([E, A, Y])
    problems = [(ex_empty, empty(ce)), (an_empty, empty(ca)),
                padded_cell(table, ce, "example ID", ex_padded),
                padded_cell(table, ca, "annotator ID", an_padded),
                padded_cell(table, cl, "label", y_padded)]
    repeat = first_repeat(ex * max(len(an_ids), 1) + an)

    def again(pos):
        return table.error(pos, f"annotator {A[pos]!r} labels example {E[pos]!r} again (first "
                                f"on row {int(table.lines[repeat[1]])})",
                           "Keep one row per (example, annotator) pair.")

    problems.append((None if repeat is None else repeat[0], again))
    raise_first(problems)
    keep, y, names = _labels(y, names.to_list())
    return AnnotationTable(
        path=table.path, format="long", example_ids=ex_ids, annotator_ids=an_ids.to_list(),
        example=ex[keep], annotator=an[keep], label_code=y, label_names=names,
        line=table.lines[keep], example_line=table.lines[_first_rows(ex)])


def _each_factorized(columns):
    """:func:`factorized` of each column; the others in threads while the first is encoded
    (pyarrow's kernels let them run side by side)."""
    if len(columns) < 2 or not all(isinstance(c, ArrowColumn) for c in columns):
        return [factorized(c) for c in columns]
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=len(columns) - 1) as pool:
        rest = [pool.submit(factorized, c) for c in columns[1:]]
        first = factorized(columns[0])
        return [first] + [f.result() for f in rest]


def _read_wide(table, wide_hint):
    """Wide format: the example ID first, then one column per annotator (its header)."""
    if len(table.header) < 2:
        raise InputFileError(table.path, table.header_line,
                             f"wide format needs an example ID column and at least one "
                             f"annotator column, the header has {len(table.header)} column",
                             "Add one column per annotator, or give long format with "
                             "columns example_id, annotator_id, label.")
    for j, name in enumerate(table.header[1:], start=2):
        if name == "":
            raise InputFileError(table.path, table.header_line, f"column {j} has no name",
                                 "Name every annotator column by its annotator ID.")
    X = table.columns[0]
    ex, ex_ids, ex_empty, ex_padded = factorized(X)
    problems = [(ex_empty, lambda pos: table.error(
        pos, "the example ID (first column) is empty",
        "Give every row an example ID in the first column.")),
        padded_cell(table, 0, "example ID", ex_padded)]
    repeat = first_repeat(ex)
    problems.append((None if repeat is None else repeat[0], lambda pos: table.error(
        pos, f"example ID {X[pos]!r} already appears on row {int(table.lines[repeat[1]])}"
             f"{wide_hint}", "Give each example one row only (one column per annotator).")))
    problems += [padded_cell(table, j, "label") for j in range(1, len(table.header))]
    raise_first(problems)
    rows, who, codes, names = _wide_cells(table)
    order = np.lexsort((who, rows))  # row by row, annotators in column order
    return AnnotationTable(
        path=table.path, format="wide" if not wide_hint else "wide (auto)", example_ids=ex_ids,
        annotator_ids=list(table.header[1:]), example=rows[order], annotator=who[order],
        label_code=codes[order], label_names=names, line=table.lines[rows[order]],
        example_line=table.lines)


def _wide_cells(table):
    """``(row, annotator, label code, label names)`` of every filled annotator cell; names in
    order of first appearance, column by column."""
    rows, who, codes, index = [], [], [], {}
    for j, column in enumerate(table.columns[1:]):
        filled = np.flatnonzero(~column.empty())
        y, names = column.factorize()
        to_global = np.asarray([-1 if n == "" else index.setdefault(n, len(index))
                                for n in names.to_list()] or [-1], dtype=np.int64)
        rows.append(filled)
        who.append(np.full(filled.size, j, dtype=np.int64))
        codes.append(to_global[y[filled]])
    return (np.concatenate(rows), np.concatenate(who), np.concatenate(codes), list(index))


def sorted_class_names(names):
    """Distinct names sorted: numerically when all look like integers, else as strings.

    Examples
    --------
    >>> sorted_class_names(["10", "2", "2", "1"])
    ['1', '2', '10']
    >>> sorted_class_names(["dog", "cat", "Cat"])
    ['Cat', 'cat', 'dog']
    """
    uniq = set(names)
    if uniq and all(_INT_RE.fullmatch(n) for n in uniq):
        return sorted(uniq, key=lambda n: (int(n), n))
    return sorted(uniq)


def encode_labels(ann, classes, *, source=None):
    """Codes 0..K-1 of the labels of ``ann`` for class names ``classes`` (column order).

    An unknown label raises :class:`InputFileError` at its first row in the
    annotations file; ``source`` is the file the class names came from.
    """
    lookup = {c: k for k, c in enumerate(classes)}
    by_name = np.asarray([lookup.get(y, -1) for y in ann.label_names] or [-1], dtype=np.int64)
    codes = by_name[ann.label_code]
    bad = np.flatnonzero(codes < 0)
    if bad.size:
        i = bad[0]
        unknown = sorted_class_names([y for y, k in zip(ann.label_names, by_name) if k < 0])
        origin = f" (the columns of {source})" if source else ""
        hint = "" if ann.format != "wide (auto)" else (
            " (the file was read as wide format: each column after the first is an annotator; "
            "if each row is one label, pass --format long with --example-column, "
            "--annotator-column and --label-column)")
        raise ann.error(
            i, f"label {ann.label_names[ann.label_code[i]]!r} is not one of the classes "
            f"{shown(classes, 10)}{origin}; unknown labels: {shown(unknown)}{hint}",
            "Class names must match exactly (case and spaces included): fix the label, "
            + (f"or add a column for it to {source}." if source else "or drop the row."))
    return codes


# --------------------------------------------------------------------------- features
def read_features(path, *, what="--features", example_column=None, text_column=None):
    """Read a features table: an example ID column (``example_column``, else
    ``example_id`` or an alias, else the first column) plus numeric feature columns; an
    empty cell is a missing value (NaN). With ``text_column``, the features are that one
    column of text (``X`` an object array of shape (n, 1); other columns are not read as
    features)."""
    def numeric(header):
        if text_column is not None:
            return []
        cid = _feature_id_column(header, example_column)
        return [j for j in range(len(header)) if j != cid]

    table = read_table(path, what, numeric=numeric)
    cid = _feature_id_column(table.header, example_column, table)
    if text_column is not None:
        return _text_features(table, cid, text_column, what)
    cols = [j for j in range(len(table.header)) if j != cid]
    if not cols:
        raise InputFileError(table.path, table.header_line, "has no feature column",
                             "Give an example_id column and at least one numeric feature column.")
    check_names(table)
    pos = first_mask(table.columns[cid].empty())
    if pos is not None:
        raise table.error(pos, f"the example ID (column {table.header[cid]!r}) is empty",
                          "Give every row its example ID.")
    unique_ids(table, cid, "example ID")
    X = number_block(table, cols, what, allow_missing=True)
    return FeatureTable(table.path, table.columns[cid], X, [table.header[j] for j in cols],
                        table.lines, table.header_line)


def _text_features(table, cid, text_column, what):
    """The ID column and the text column ``text_column`` of a features table."""
    if text_column not in table.header:
        raise InputFileError(table.path, table.header_line,
                             f"has no column {text_column!r} (header: {table.header[:8]})",
                             f"Give --text-column the exact name of the text column of {what}.")
    tj = table.header.index(text_column)
    if tj == cid:
        raise InputFileError(table.path, table.header_line,
                             f"column {text_column!r} is the example-ID column",
                             "Name the text column with --text-column and the IDs with "
                             "--example-column.")
    check_names(table)
    pos = first_mask(table.columns[cid].empty())
    if pos is not None:
        raise table.error(pos, f"the example ID (column {table.header[cid]!r}) is empty",
                          "Give every row its example ID.")
    unique_ids(table, cid, "example ID")
    X = np.asarray(table.columns[tj].to_list(), dtype=object).reshape(-1, 1)
    return FeatureTable(table.path, table.columns[cid], X, [text_column], table.lines,
                        table.header_line)


def _feature_id_column(header, example_column, table=None):
    """The example-ID column of a features table; with ``table``, a missing or doubled one
    is an error (without it, a guess for reading the others as numbers)."""
    if example_column is not None:
        if example_column in header:
            return header.index(example_column)
        if table is not None:
            raise InputFileError(table.path, table.header_line,
                                 f"no column {example_column!r} (header: {header[:8]})",
                                 "Give --example-column the exact name of the example-ID column.")
        return None
    if table is not None:
        cid = pick_column(table, EXAMPLE_COLUMNS, "example ID", required=False)
        return 0 if cid is None else cid
    hits = find_column(header, EXAMPLE_COLUMNS)
    return hits[0] if hits else 0
