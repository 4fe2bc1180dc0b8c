"""Probability files of ``score`` and which row belongs to which example.

A probability table (CSV, TSV, Parquet, JSON Lines: ``_tabular.py``, its class
columns read as numbers) or a ``.npy`` array becomes a
:class:`~skactivelab.cli._tables.ProbTable`, its rows checked and renormalised by
the library's one rule (:func:`skactivelab._validation.renormalise_rows`);
:func:`align_pred_probs` matches its rows to the examples of the annotations
(docs/command_line.md, decisions 3 to 5). Every problem raises
:class:`InputFileError` naming the file, the row and the fix.
"""

from __future__ import annotations

import re
from dataclasses import replace

import numpy as np

from .._validation import ROW_SUM_TOL, renormalise_rows
from ._columns import ListColumn, consecutive, release_freed
from ._files import EXAMPLE_COLUMNS, encode_labels, find_column, sorted_class_names
from ._tables import InputFileError, ProbTable, Table, shown
from ._tabular import check_names, number_block, read_table, unique_ids

__all__ = ["align_pred_probs", "check_prob_rows", "prob_id_column", "read_pred_probs",
           "row_number_ids"]

_INT_RE = re.compile(r"[+-]?\d+")
#: Example IDs that count as row numbers of a bare probability array: ``0`` or
#: a non-negative integer without sign or leading zero (``7``, not ``07``/``+7``).
_ROW_ID = r"0|[1-9][0-9]*"


# --------------------------------------------------------------------------- the rows
def check_prob_rows(tab, what):
    """``tab`` with its rows checked and renormalised by the library's one rule
    (:func:`skactivelab._validation.renormalise_rows`); a refused row is named by its row
    in the file, with the next refused rows.

    ``tab.probs`` is the reader's own array (made from the file): it is renormalised in
    place when it is already float64 in C order, else converted once.
    """
    P = tab.probs.astype(np.float64, order="C", copy=False)
    problems = renormalise_rows(P)
    if problems is None:
        return replace(tab, probs=P)
    bad = np.union1d(problems.negative, problems.off)  # a non-finite row's sum is off too
    first = int(bad[0])
    if first in problems.nonfinite:
        raise tab.error(first, "holds NaN or infinity", f"Give {what} finite probabilities.")
    if first in problems.negative:
        raise tab.error(first, "has a negative probability",
                        f"Give {what} probabilities >= 0 (apply a softmax to raw scores).")
    also = ""
    if bad.size > 1:
        more = ", ".join(str(int(tab.lines[i])) for i in bad[1:6])
        also = f" (also {tab.row_label}s {more}{' ...' if bad.size > 6 else ''})"
    raise tab.error(first, f"probabilities sum to {problems.sums[first]:.6g}, not 1{also}",
                    f"Give {what} one probability per class in each row, summing to 1 "
                    f"(within {ROW_SUM_TOL:g}; rows within it are renormalised).")


# --------------------------------------------------------------------------- the ID column
def _looks_like_probabilities(column):
    """All cells numbers in [0, 1], at least one strictly between (IDs 0, 1, 2 are not)."""
    if not column.maybe_numbers():
        return False
    v, not_number = column.numbers()
    return bool(v.size and not not_number.any() and np.all((v >= 0) & (v <= 1))
                and np.any((v > 0) & (v < 1)))


def _id_candidates(header, id_column, usual):
    """Columns that may hold the example IDs (read as text; the others as numbers)."""
    named = {header.index(n) for n in (id_column, *usual) if n is not None and n in header}
    return named | set(find_column(header, EXAMPLE_COLUMNS))


def prob_id_column(table, class_names, id_column, option, usual=()):
    """Index of the example-ID column of a probability table, or None (docs/command_line.md).

    ``id_column`` (the user's ``--example-column``) wins when the file has it.
    Otherwise a column named like an example ID is the ID column unless its
    name is one of ``class_names`` (labels of the annotations) or its cells look
    like probabilities; then it is a class column.
    """
    if id_column is not None:
        return table.header.index(id_column) if id_column in table.header else None
    labels = set(class_names or ())
    for name in usual:  # the ID column of the annotations' tool (Label Studio: "id")
        if name in table.header and name not in labels:
            return table.header.index(name)
    hits = [j for j in find_column(table.header, EXAMPLE_COLUMNS)
            if table.header[j] not in labels and not _looks_like_probabilities(table.columns[j])]
    if len(hits) > 1:
        names = [table.header[j] for j in hits]
        raise InputFileError(table.path, table.header_line, f"several example ID columns {names}",
                             f"Pass {option} NAME to say which one holds the example IDs (the "
                             "others are read as classes).")
    return hits[0] if hits else None


# --------------------------------------------------------------------------- files
def read_pred_probs(path, *, what="--pred-probs", class_names=None, id_column=None,
                    id_option="--example-column", ids_path=None, ids_option="--pred-probs-ids",
                    usual_id_columns=()):
    """Read predicted probabilities from ``.npy`` (2-D array) or a table.

    A table has one column per class, named by the class, and optionally an
    example ID column: ``id_column`` if given, else a column named like an
    example ID (``example_id``, ``task``, ``example``, ``item``, else ``id``) whose name is
    not one of ``class_names`` and whose cells do not look like probabilities.
    Rows must be non-negative and sum to 1 within ``ROW_SUM_TOL`` (they are
    renormalised).
    """
    path = str(path)
    if ids_path is not None and not path.lower().endswith(".npy"):
        raise InputFileError(ids_path, None, f"is an ID list for {path}, which is not a .npy file",
                             f"Use {ids_option} only with a .npy file; a table names its IDs in "
                             "a column.")
    if path.lower().endswith(".npy"):
        return _read_npy(path, what, ids_path, ids_option)

    def numeric(header):
        ids = _id_candidates(header, id_column, usual_id_columns)
        return [j for j in range(len(header)) if j not in ids]

    table = read_table(path, what, numeric=numeric)
    cid = prob_id_column(table, class_names, id_column, id_option, usual_id_columns)
    cols = [j for j in range(len(table.header)) if j != cid]
    classes = [table.header[j] for j in cols]
    _check_class_names(table, classes)
    P = number_block(table, cols, what)
    ids = None
    if cid is not None:
        unique_ids(table, cid, "example ID")
        ids = table.columns[cid]
    tab = ProbTable(path, P, classes, ids, table.lines, header_line=table.header_line)
    del table  # its number columns: the rows are in P now
    release_freed()
    _check_not_ids(tab, id_option)
    return check_prob_rows(tab, what)


def _check_not_ids(tab, id_option):
    """A class column of whole numbers above 1 is no probability: most likely the IDs."""
    if not tab.probs.size or not tab.probs.max() > 1:  # one pass over the array as it lies
        return
    big = np.flatnonzero(tab.probs.max(axis=0) > 1)
    for k in big.tolist():
        column = tab.probs[:, k]
        if np.all(column == np.round(column)):
            name = tab.classes[k]
            raise InputFileError(tab.path, tab.header_line,
                                 f"column {name!r} holds whole numbers above 1, not probabilities",
                                 f"If it holds the example IDs, pass {id_option} {name}.")


def _check_class_names(table, classes):
    path, header_line = table.path, table.header_line
    if any(name == "" for name in classes):
        raise InputFileError(path, header_line, "a class column has no name",
                             "Name every probability column by its class (like the labels).")
    if all(re.fullmatch(r"[+-]?(\d+\.\d*|\.\d+)([eE][+-]?\d+)?", n) for n in classes):
        raise InputFileError(path, header_line,
                             f"the first row {table.header[:6]} looks like numbers, not class names",
                             "Add a header row naming the class of each column.")
    if len(classes) < 2:
        raise InputFileError(path, header_line, f"has {len(classes)} class column",
                             "Give one probability column per class (at least 2), named by class.")
    check_names(table)


def _read_npy(path, what, ids_path, ids_option):
    try:
        P = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise InputFileError(path, None, f"cannot be read as a .npy array ({exc})",
                             f"Give {what} a file written by numpy.save, or a CSV file.") from None
    if P.ndim != 2 or P.shape[1] < 2 or P.shape[0] == 0 or P.dtype.kind not in "biuf":
        raise InputFileError(path, None,
                             f"holds a {P.dtype} array of shape {P.shape}",
                             "Give a 2-D numeric array, one row per example and one column "
                             "per class (at least 2 classes).")
    ids = None if ids_path is None else _read_id_list(ids_path, P.shape[0], path, ids_option)
    tab = ProbTable(path, P, None, ids, np.arange(P.shape[0]), row_label="array row")
    return check_prob_rows(tab, what)


def _read_id_list(path, n_rows, npy_path, option):
    """Example IDs of the rows of a ``.npy`` file: one per line (an ID-column header allowed);
    the cell rule holds (an ID does not start or end with white space)."""
    try:
        with open(path, encoding="utf-8-sig", newline="") as fh:
            ids = fh.read().splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise InputFileError(path, None, f"cannot be read ({exc})",
                             f"Give {option} a text file with one example ID per line.") from None
    while ids and (ids[-1] == "" or ids[-1].isspace()):
        ids.pop()
    if len(ids) == n_rows + 1 and (ids[0].lower() in EXAMPLE_COLUMNS or ids[0].lower() == "id"):
        ids, first = ids[1:], 2
    else:
        first = 1
    if len(ids) != n_rows:
        raise InputFileError(path, None, f"has {len(ids)} IDs but {npy_path} has {n_rows} rows",
                             "Give one example ID per row of the array, in row order.")
    for k, x in enumerate(ids):
        if x == "" or x != x.strip():
            problem = ("the example ID is empty" if x == "" else
                       f"the example ID {x!r} starts or ends with white space")
            raise InputFileError(path, k + first, problem,
                                 "Give every row of the array its example ID, exactly.")
    column = ListColumn(ids)
    unique_ids(Table(path, ["example_id"], [column], np.arange(first, first + len(ids))), 0,
               "example ID")
    return column


# --------------------------------------------------------------------------- which row is whose
def _npy_classes(ann, tab):
    """Class names for a ``.npy`` file with K columns (docs/command_line.md, decision 5):
    labels written as column indices ``0``..``K-1`` are those columns; other labels,
    sorted, must number K. A ``.npy`` has no names, so two labels that are one number
    written two ways (``1``, ``01``, ``+1``) cannot be told apart: refused."""
    K = tab.probs.shape[1]
    names = sorted_class_names(ann.label_names)
    if not names:  # no label at all: nothing to match, columns are indices
        return [str(k) for k in range(K)], np.empty(0, dtype=np.int64)
    if all(re.fullmatch(_ROW_ID, n) and int(n) < K for n in names):
        by_name = np.asarray([int(n) for n in ann.label_names], dtype=np.int64)
        return [str(k) for k in range(K)], by_name[ann.label_code]
    if all(_INT_RE.fullmatch(n) for n in names):
        same = [(a, b) for a, b in zip(names, names[1:]) if int(a) == int(b)]
        if same:
            first = max(int(np.flatnonzero(ann.label_code == ann.label_names.index(y))[0])
                        for y in same[0])
            raise ann.error(first, f"labels {same[0][0]!r} and {same[0][1]!r} are one number "
                            f"written two ways, and {tab.path} (a .npy array) has no class names "
                            "to tell their columns apart",
                            "Write each class one way in the annotations, or give the "
                            "probabilities as CSV with one column per class, named exactly like "
                            "the labels.")
    if len(names) != K:
        raise InputFileError(
            tab.path, None,
            f"has {K} columns but the labels in {ann.path} are not column indices 0..{K - 1} "
            f"and there are {len(names)} distinct ones ({shown(names)})",
            "Give the probabilities as CSV with one column per class, named by class, or "
            "label with column indices 0..K-1.")
    return names, encode_labels(ann, names)


def row_number_ids(ann):
    """True when the example IDs of ``ann`` are row numbers of a bare probability array.

    That is when the annotations are in long format and every example ID is a
    non-negative integer written plainly (``0``, ``17``; not ``007``, ``+3``
    or ``1.0``). Other IDs, and wide format, follow the order of first
    appearance (docs/command_line.md).
    """
    return ann.format == "long" and ann.n_examples > 0 and bool(
        ann.example_ids.matches(_ROW_ID).all())


def _rows_by_number(ann, tab):
    """Rows of a bare ``tab`` for integer example IDs: ID i is row i; the rest is pool."""
    n_rows = tab.probs.shape[0]
    rows = ann.example_ids.integers()
    big = np.flatnonzero(rows >= n_rows)
    if big.size:
        i = int(big[np.argmin(ann.example_line[big])])
        raise InputFileError(
            ann.path, int(ann.example_line[i]),
            f"example ID {ann.example_ids[i]!r} is row {ann.example_ids[i]} of {tab.path}, which "
            f"has only {n_rows} rows (integer example IDs are row numbers of a probability file "
            "without IDs)",
            f"Give {tab.path} one row per example ID 0..{ann.example_ids[int(np.argmax(rows))]}, "
            "or add an example_id column to it.", row_label=ann.row_label)
    extra = np.ones(n_rows, dtype=bool)
    extra[rows] = False
    extra_idx = np.flatnonzero(extra)
    return tab.probs[rows], ListColumn([str(i) for i in extra_idx.tolist()]), tab.probs[extra_idx]


def _class_codes(ann, tab):
    """Class names (column order) and the class code of each label of ``ann``."""
    if tab.classes is None:
        return _npy_classes(ann, tab)
    classes = tab.classes
    known = set(classes)
    unknown = sorted_class_names(set(ann.label_names) - known)
    unused = [c for c in classes if c not in set(ann.label_names)]
    if unknown and unused:  # most likely a misspelt or renamed column
        first = int(ann.line[np.flatnonzero(ann.label_code
                                            == ann.label_names.index(unknown[0]))[0]])
        raise InputFileError(
            tab.path, tab.header_line,
            f"class column(s) {shown(unused)} match no label, and label(s) {shown(unknown)} "
            f"of {ann.path} (first at its row {first}) match no column",
            "Name each probability column exactly like the class labels (case and spaces "
            "included).")
    return classes, encode_labels(ann, classes, source=tab.path)


def align_pred_probs(ann, tab):
    """Probabilities of every example of ``ann`` plus the rows of ``tab`` it does not name.

    Returns ``(classes, codes, P, extra_ids, P_extra)``: class names in column
    order, label codes aligned with the labels of ``ann``, ``P`` with one row per
    ``ann.example_ids`` entry, and the rows of ``tab`` whose example ID has no
    annotation (``extra_ids`` a column; rows only when ``tab`` has an ID column or
    the example IDs are row numbers). ``tab.probs`` is the reader's own matrix: ``P`` and
    ``P_extra`` are views of its rows where they lie in runs; when the examples' rows are
    not a run, the other rows are moved to the matrix's front (``P_extra``) and the
    examples' rows, gathered in their order, written after them (``P``): views of the one
    matrix, no second one.
    """
    classes, codes = _class_codes(ann, tab)
    if tab.ids is None and ann.format.startswith("labelstudio"):
        raise InputFileError(
            tab.path, None,
            f"has no example IDs, and the Label Studio task IDs of {ann.path} are not row numbers",
            "Add an ID column holding the task id (CSV or Parquet), or give the IDs of the "
            ".npy rows with --pred-probs-ids FILE.")
    if tab.ids is None and row_number_ids(ann):
        return (classes, codes) + _rows_by_number(ann, tab)
    if tab.ids is None:
        return (classes, codes) + _rows_in_order(ann, tab)
    rows = ann.example_ids.positions_in(tab.ids)
    missing = np.flatnonzero(rows < 0)
    if missing.size:
        ids = ann.example_ids.take(missing[:6])
        raise InputFileError(
            tab.path, None,
            f"has no row for {missing.size} example ID(s) of {ann.path}: "
            f"{shown(ids, total=missing.size)} (first at {ann.path} {ann.row_label} {int(ann.example_line[missing[0]])})",
            f"Add a row for every example in {ann.path}; IDs must match exactly.")
    extra = np.ones(len(tab.ids), dtype=bool)
    extra[rows] = False
    extra_idx = np.flatnonzero(extra)
    if extra_idx.size and ann.aliases:  # tasks that are copies of an example: its row counts
        copy = tab.ids.subset(extra_idx).positions_in(ListColumn(list(ann.aliases))) >= 0
        extra_idx = extra_idx[~copy]
    if extra_idx.size and ann.format.startswith("labelstudio") and ann.lists_every_task:
        _no_such_task(ann, tab, extra_idx)
    P = _rows_of(tab.probs, rows)
    if np.may_share_memory(P, tab.probs):  # the examples' rows are a run of the matrix
        P_extra = _rows_of(tab.probs, extra_idx)
    else:  # gathered: the other rows move to the matrix's front, the examples' follow them
        P_extra = _rows_in_front(tab.probs, extra_idx)
        k = P_extra.shape[0]
        tail = tab.probs[k:k + P.shape[0]]
        tail[...] = P
        P = tail  # (one matrix held, as when the file lists the examples in order)
    return classes, codes, P, tab.ids.subset(extra_idx), P_extra


def _rows_of(P, idx):
    """``P[idx]``, as a view of ``P`` when ``idx`` is a run of consecutive rows (as when
    the probability file lists the examples in the order of the annotations)."""
    run = consecutive(idx)
    return P[idx] if run is None else P[run.start:run.stop]


#: rows moved at a time by :func:`_rows_in_front`
_MOVE_ROWS = 1 << 16


def _rows_in_front(P, idx):
    """``P[idx]`` (``idx`` increasing) as the first ``idx.size`` rows of ``P`` itself,
    moved there a block of rows at a time (a view of ``P``; no second matrix): a row never
    moves down, so no block overwrites a row a later block still reads. ``P`` is the
    reader's own array, read by row number only through the rows returned; its other rows
    are left as they come."""
    if not idx.size or (idx[0] == 0 and consecutive(idx) is not None):  # (in front already)
        return P[:idx.size]
    for lo in range(0, idx.size, _MOVE_ROWS):  # a loop over blocks of rows
        hi = min(lo + _MOVE_ROWS, idx.size)
        P[lo:hi] = P[idx[lo:hi]]
    return P[:idx.size]


def _rows_in_order(ann, tab):
    """A bare ``tab`` whose rows follow the order in which examples first appear."""
    n = ann.n_examples
    if tab.probs.shape[0] != n:
        problem = (f"has {tab.probs.shape[0]} rows but {ann.path} names {n} examples; "
                   "without an example_id column rows follow the order in which examples "
                   f"first appear in {ann.path}"
                   + (" (its example IDs are not all row numbers 0, 1, 2, ...)"
                      if ann.format == "long" else ""))
        if tab.probs.shape[0] > n:
            raise tab.error(n, problem, "Remove the extra rows, or add an example_id column.")
        raise InputFileError(tab.path, None, problem,
                             "Give one row per example, or add an example_id column.")
    return tab.probs, ListColumn([]), tab.probs[:0]


def _no_such_task(ann, tab, extra_idx):
    ids = tab.ids.take(extra_idx[:6])
    if ann.format == "labelstudio-json":
        fix = ("The JSON export lists every task, labeled or not: give probabilities for "
               "its task IDs only (pass other examples with --unlabeled-pred-probs).")
    else:
        fix = ("Remove the row if the task is gone. JSON-MIN and CSV exports leave out "
               "tasks whose only annotations were cancelled (skipped): for such a task, "
               "export the project as JSON, which lists every task, or give its row with "
               "--unlabeled-pred-probs.")
    raise tab.error(extra_idx[0],
                    f"example ID {ids[0]!r} is no task of the Label Studio export "
                    f"{ann.path} ({extra_idx.size} such ID(s): "
                    f"{shown(ids, total=extra_idx.size)})", fix)
