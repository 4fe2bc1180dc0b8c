"""Input files of ``score`` and ``fit``: annotations, probabilities and features.

Tables are read with the standard ``csv`` module (Parquet with pandas and
pyarrow; Label Studio exports in ``_labelstudio.py``) into the types of
``_tables.py``. Every problem with an input file raises :class:`InputFileError`, which names the file, the row (the 1-based
line number in the file, header included) and the fix. Nothing here prints.
The file formats are described in ``docs/command_line.md``.
"""

from __future__ import annotations

import csv
import re
from dataclasses import replace

import numpy as np

from .._utils import (
    LONG_ANNOTATOR_COLUMNS as ANNOTATOR_COLUMNS,
    LONG_EXAMPLE_COLUMNS as EXAMPLE_COLUMNS,
    LONG_LABEL_COLUMNS as LABEL_COLUMNS,
)
from .._validation import ROW_SUM_TOL, normalise_rows
from ._labelstudio import looks_like_ls_header, read_ls_csv, read_ls_json
from ._tables import AnnotationTable, FeatureTable, InputFileError, ProbTable, Table, shown

__all__ = [
    "align_pred_probs",
    "encode_labels",
    "read_annotations",
    "read_features",
    "read_pred_probs",
    "sorted_class_names",
]

_INT_RE = re.compile(r"[+-]?\d+")
#: Example IDs that count as row numbers of a bare probability array: ``0`` or
#: a non-negative integer without sign or leading zero (``7``, not ``07``/``+7``).
_ROW_ID_RE = re.compile(r"0|[1-9]\d*")


# --------------------------------------------------------------------------- CSV
def _delimiter(path):
    """Tab for ``.tsv``/``.tab`` files or a first line with tabs and no comma, else comma."""
    if path.lower().endswith((".tsv", ".tab")):
        return "\t"
    try:
        with open(path, encoding="utf-8-sig", errors="replace") as fh:
            first = fh.readline()
    except OSError:
        return ","
    return "\t" if "\t" in first and "," not in first else ","


def _has_padded_cells(text, delimiter):
    """Whether some cell may start or end with white space (else stripping is skipped)."""
    space = " \f\v" if delimiter == "\t" else " \t\f\v"
    edges = (delimiter, "\n", "\r", '"')
    if text[:1] in space or text[-1:] in space:
        return True
    present = [w for w in space if w in text]  # usually none, or only the space
    return any(w + e in text or e + w in text for w in present for e in edges)


def _csv_rows(reader, padded, path):
    """Non-blank rows of a csv.reader with their line numbers; the header first."""
    header, header_line, rows, lines = None, None, [], []
    for cells in reader:
        if padded:
            cells = [c.strip() for c in cells]
        if not any(cells):
            continue  # blank line (or a row of empty cells)
        if header is None:
            header, header_line = cells, reader.line_num
            continue
        if len(cells) != len(header):
            extra = cells[len(header):]
            if len(cells) < len(header) or any(extra):
                raise InputFileError(
                    path, reader.line_num,
                    f"has {len(cells)} cells but the header (row {header_line}) has "
                    f"{len(header)} columns",
                    "Give every row one cell per header column (quote cells that "
                    "contain commas)."
                )
            cells = cells[: len(header)]
        rows.append(cells)
        lines.append(reader.line_num)
    return rows, lines, header, header_line


def _read_csv(path, what):
    """Header and non-blank rows of a CSV (or TSV) file, cells stripped, with their line numbers."""
    path = str(path)
    delimiter = _delimiter(path)
    try:
        fh = open(path, newline="", encoding="utf-8-sig")
    except OSError as exc:
        raise InputFileError(path, None, f"cannot be read ({exc.strerror or exc})",
                             f"Check the path given to {what}.") from None
    header, header_line, rows, lines = None, None, [], []
    try:
        with fh:
            padded = _has_padded_cells(fh.read(), delimiter)
            fh.seek(0)
            reader = csv.reader(fh, delimiter=delimiter)
            rows, lines, header, header_line = _csv_rows(reader, padded, path)
    except UnicodeDecodeError:
        raise InputFileError(path, None, "is not UTF-8 text",
                             f"Give {what} a CSV file saved as UTF-8.") from None
    except csv.Error as exc:
        raise InputFileError(path, None, f"is not valid CSV ({exc})",
                             "Save it as comma-separated values.") from None
    if header is None:
        raise InputFileError(path, 1, "the file is empty",
                             f"Give {what} a CSV file with a header row and one row per entry.")
    if not rows:
        raise InputFileError(path, header_line + 1, "no data rows after the header",
                             f"Give {what} at least one row below the header.")
    seen = {}
    for j, name in enumerate(header):
        key = name
        if key in seen and name:
            raise InputFileError(path, header_line,
                                 f"column name {name!r} appears twice (columns {seen[key] + 1} "
                                 f"and {j + 1})", "Give every column a different name.")
        seen[key] = j
    return Table(path, header, rows, np.asarray(lines, dtype=np.int64)), header_line


def _cell_text(v):
    """A cell of a Parquet / JSON Lines table as CSV text ('' for missing)."""
    if v is None:
        return ""
    if isinstance(v, float):
        if v != v:
            return ""
        return str(int(v)) if v.is_integer() else repr(v)
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (dict, list)):
        import json

        return json.dumps(v, ensure_ascii=False)
    return str(v).strip()


def _require_pandas(path, what):
    try:
        import pandas as pd
    except ImportError:
        raise InputFileError(path, None, "is a Parquet file, which needs pandas and pyarrow",
                             "Install them (pip install 'skactivelab[cli]'), or give "
                             f"{what} as CSV.") from None
    return pd


def _read_parquet(path, what):
    pd = _require_pandas(path, what)
    try:
        df = pd.read_parquet(path)
    except ImportError as exc:
        raise InputFileError(path, None, f"cannot be read as Parquet ({exc})",
                             "Install pyarrow (pip install 'skactivelab[cli]'), or give "
                             f"{what} as CSV.") from None
    except Exception as exc:  # pyarrow raises its own types
        raise InputFileError(path, None, f"cannot be read as Parquet ({exc})",
                             f"Give {what} a Parquet file written by pandas or pyarrow.") from None
    if df.shape[0] == 0:
        raise InputFileError(path, None, "has no rows", f"Give {what} at least one row.")
    header = [str(c) for c in df.columns]
    cols = []
    for c in df.columns:
        col = df[c]
        if col.dtype.kind in "iu":
            cols.append(col.astype(str).tolist())
        else:
            cols.append([_cell_text(v) for v in col.tolist()])
    rows = [list(r) for r in zip(*cols)]
    return Table(path, header, rows, np.arange(1, len(rows) + 1, dtype=np.int64)), None


def _read_jsonl(path, what):
    import json

    header, index, rows, lines = [], {}, [], []
    try:
        with open(path, encoding="utf-8-sig") as fh:
            for n, text in enumerate(fh, start=1):
                if not text.strip():
                    continue
                try:
                    rec = json.loads(text)
                except ValueError as exc:
                    raise InputFileError(path, n, f"is not a JSON object ({exc})",
                                         "Give one JSON object per line (JSON Lines).") from None
                if not isinstance(rec, dict):
                    raise InputFileError(path, n, "is not a JSON object",
                                         "Give one JSON object per line (JSON Lines).")
                for k in rec:
                    if k not in index:
                        index[k] = len(header)
                        header.append(k)
                rows.append(rec)
                lines.append(n)
    except OSError as exc:
        raise InputFileError(path, None, f"cannot be read ({exc.strerror or exc})",
                             f"Check the path given to {what}.") from None
    if not rows:
        raise InputFileError(path, None, "has no records", f"Give {what} one JSON object per line.")
    cells = [[_cell_text(r.get(k)) for k in header] for r in rows]
    return Table(path, [str(h) for h in header], cells, np.asarray(lines, dtype=np.int64)), None


def _read_table(path, what):
    """Any table: CSV, TSV, Parquet (pandas + pyarrow) or JSON Lines, as CSV cells."""
    path = str(path)
    low = path.lower()
    if low.endswith((".parquet", ".pq")):
        return _read_parquet(path, what)
    if low.endswith((".jsonl", ".ndjson")):
        return _read_jsonl(path, what)
    return _read_csv(path, what)


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


def _find_column(header, aliases):
    """Indices of the columns whose lower-cased name is in ``aliases``.

    The bare ``id`` is the weakest name (often a row counter beside ``task`` or
    ``example_id``): it counts only when no other alias is present, as in the
    in-memory readers, which try the aliases in order and have ``id`` last.
    """
    hits = [j for j, name in enumerate(header) if name.lower() in aliases]
    strong = [j for j in hits if header[j].lower() != "id"]
    return strong if strong else hits


def _pick_column(table, header_line, aliases, what, required=True):
    hits = _find_column(table.header, aliases)
    if len(hits) > 1:
        names = [table.header[j] for j in hits]
        raise InputFileError(table.path, header_line, f"several {what} columns {names}",
                             f"Keep one column named one of {list(aliases)}.")
    if not hits:
        if not required:
            return None
        named = repr(aliases[0]) if len(aliases) == 1 else f"one of {list(aliases)}"
        raise InputFileError(table.path, header_line,
                             f"no {what} column (header: {table.header[:8]})",
                             f"Add a column named {named}.")
    return hits[0]


def _parse_numbers(table, cols, what, allow_missing=False):
    """(n_rows, len(cols)) float64 from the given columns; errors name row and column."""
    cells = [[r[j] for j in cols] for r in table.rows]
    try:
        values = np.asarray(cells, dtype=np.float64) if cells else np.empty((0, len(cols)))
        fast = True
    except ValueError:
        fast = False
    if not fast:
        values = np.empty((len(cells), len(cols)))
        for i, row in enumerate(cells):
            for k, cell in enumerate(row):
                if cell == "" and allow_missing:
                    values[i, k] = np.nan
                    continue
                try:
                    values[i, k] = float(cell)
                except ValueError:
                    col = table.header[cols[k]]
                    problem = (f"column {col!r} is empty" if cell == "" else
                               f"column {col!r} holds {cell!r}, which is not a number")
                    hint = "" if cell == "" else (
                        f" If column {col!r} holds the example IDs, pass --example-column {col}.")
                    raise InputFileError(table.path, int(table.lines[i]), problem,
                                         f"Give {what} as plain numbers (like 0.25)"
                                         + ("; leave a cell empty for a missing value."
                                            if allow_missing else ".") + hint) from None
    bad = np.isinf(values) if allow_missing else ~np.isfinite(values)
    if bad.any():
        i, k = np.argwhere(bad)[0]
        raise InputFileError(table.path, int(table.lines[i]),
                             f"column {table.header[cols[k]]!r} holds {table.rows[i][cols[k]]!r}",
                             f"Give {what} as finite numbers.")
    return values


def _check_unique_ids(path, ids, lines, what):
    first = {}
    for i, x in enumerate(ids):
        if x in first:
            raise InputFileError(path, int(lines[i]),
                                 f"{what} {x!r} already appears on row {int(lines[first[x]])}",
                                 f"Give each {what} one row only.")
        first[x] = i


# --------------------------------------------------------------------------- annotations
def _named_or_found(header, name, aliases):
    return [header.index(name)] if name in header else _find_column(header, aliases)


def _detect_format(table, header_line, fmt, columns):
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
            table.path, header_line,
            f"looks like long format (columns {table.header[:8]}) but has no {missing} column",
            f"Name it with --{missing}-column NAME (or rename a column to one of "
            f"{list(aliases)}), or pass --format wide if it is wide format (first column the "
            "example ID, one column per annotator).")
    return "wide"


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
    table, header_line = _read_table(path, what)
    if fmt == "labelstudio" or (fmt == "auto" and looks_like_ls_header(table.header)):
        return read_ls_csv(table, label_column, classes)
    detected = _detect_format(table, header_line, fmt,
                              (example_column, annotator_column, label_column))
    wide_hint = _wide_hint(table) if fmt == "auto" and detected == "wide" else ""
    if detected == "long":
        triples = _long_triples(table, header_line, example_column, annotator_column, label_column)
    else:
        triples = _wide_triples(table, header_line, wide_hint)
    return triples.table(table.path, detected if not wide_hint else "wide (auto)")


def _wide_hint(table):
    """Said when a table read as wide by auto-detection fails: how to read it as long."""
    return (f" (read as wide format: the header {table.header[:6]} has no example, annotator "
            "and label columns; if each row is one label, name them with --example-column, "
            "--annotator-column and --label-column)")


class _Triples:
    """(example, annotator, label, line) of each given label; IDs numbered in order of
    first appearance, with the line where each example first appears."""

    def __init__(self):
        self.ex_index, self.ex_ids, self.ex_line = {}, [], []
        self.an_index, self.an_ids = {}, []
        self.ex, self.an, self.lab, self.lines = [], [], [], []

    def example(self, x, line):
        i = self.ex_index.get(x)
        if i is None:
            i = self.ex_index[x] = len(self.ex_ids)
            self.ex_ids.append(x)
            self.ex_line.append(line)
        return i

    def annotator(self, a):
        j = self.an_index.get(a)
        if j is None:
            j = self.an_index[a] = len(self.an_ids)
            self.an_ids.append(a)
        return j

    def add(self, i, j, label, line):
        if label != "":  # an empty cell is no label
            self.ex.append(i), self.an.append(j), self.lab.append(label), self.lines.append(line)

    def table(self, path, fmt):
        return AnnotationTable(
            path=path, format=fmt, example_ids=self.ex_ids, annotator_ids=self.an_ids,
            example=np.asarray(self.ex, dtype=np.int64),
            annotator=np.asarray(self.an, dtype=np.int64),
            label=np.asarray(self.lab, dtype=object),
            line=np.asarray(self.lines, dtype=np.int64),
            example_line=np.asarray(self.ex_line, dtype=np.int64),
        )


def _named_column(table, header_line, name, option, aliases, what_col):
    """Index of the column ``name`` (given by ``option``), else of the one usual name."""
    if name is None:
        return _pick_column(table, header_line, aliases, what_col)
    if name not in table.header:
        raise InputFileError(table.path, header_line,
                             f"no column {name!r} (header: {table.header[:8]})",
                             f"Give {option} the exact name of the {what_col} column.")
    return table.header.index(name)


def _long_triples(table, header_line, example_column, annotator_column, label_column):
    """Long format: one row per label; the same (example, annotator) twice is an error."""
    ce = _named_column(table, header_line, example_column, "--example-column", EXAMPLE_COLUMNS,
                       "example ID")
    ca = _named_column(table, header_line, annotator_column, "--annotator-column",
                       ANNOTATOR_COLUMNS, "annotator ID")
    cl = _named_column(table, header_line, label_column, "--label-column", LABEL_COLUMNS, "label")
    out, seen = _Triples(), {}
    for cells, line in zip(table.rows, table.lines.tolist()):
        x, a, y = cells[ce], cells[ca], cells[cl]
        for value, col in ((x, ce), (a, ca)):
            if value == "":
                raise InputFileError(table.path, line, f"column {table.header[col]!r} is empty",
                                     "Give every row an example ID and an annotator ID.")
        i, j = out.example(x, line), out.annotator(a)
        if (i, j) in seen:
            raise InputFileError(
                table.path, line,
                f"annotator {a!r} labels example {x!r} again (first on row {seen[(i, j)]})",
                "Keep one row per (example, annotator) pair.")
        seen[(i, j)] = line
        out.add(i, j, y, line)
    return out


def _wide_triples(table, header_line, wide_hint):
    """Wide format: the example ID first, then one column per annotator (its header)."""
    if len(table.header) < 2:
        raise InputFileError(table.path, header_line,
                             f"wide format needs an example ID column and at least one "
                             f"annotator column, the header has {len(table.header)} column",
                             "Add one column per annotator, or give long format with "
                             "columns example_id, annotator_id, label.")
    out = _Triples()
    for j, name in enumerate(table.header[1:], start=2):
        if name == "":
            raise InputFileError(table.path, header_line, f"column {j} has no name",
                                 "Name every annotator column by its annotator ID.")
        out.annotator(name)
    for cells, line in zip(table.rows, table.lines.tolist()):
        x = cells[0]
        if x == "":
            raise InputFileError(table.path, line, "the example ID (first column) is empty",
                                 "Give every row an example ID in the first column.")
        if x in out.ex_index:
            raise InputFileError(table.path, line,
                                 f"example ID {x!r} already appears on row "
                                 f"{out.ex_line[out.ex_index[x]]}{wide_hint}",
                                 "Give each example one row only (one column per annotator).")
        i = out.example(x, line)
        for j, y in enumerate(cells[1:]):
            out.add(i, j, y, line)
    return out


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
    """Codes 0..K-1 of ``ann.label`` for class names ``classes`` (column order).

    An unknown label raises :class:`InputFileError` at its first row in the
    annotations file; ``source`` is the file the class names came from.
    """
    lookup = {c: k for k, c in enumerate(classes)}
    codes = np.fromiter((lookup.get(y, -1) for y in ann.label), dtype=np.int64, count=ann.label.size)
    bad = np.flatnonzero(codes < 0)
    if bad.size:
        i = bad[0]
        unknown = sorted_class_names(ann.label[bad].tolist())
        origin = f" (the columns of {source})" if source else ""
        hint = "" if ann.format != "wide (auto)" else (
            " (the file was read as wide format: each column after the first is an annotator; "
            "if each row is one label, pass --format long with --example-column, "
            "--annotator-column and --label-column)")
        raise InputFileError(
            ann.path, int(ann.line[i]),
            f"label {ann.label[i]!r} is not one of the classes {shown(classes, 10)}{origin}; "
            f"unknown labels: {shown(unknown)}{hint}",
            "Class names must match exactly (case and spaces included): fix the label, "
            + (f"or add a column for it to {source}." if source else "or drop the row."),
            row_label=ann.row_label)
    return codes


# --------------------------------------------------------------------------- probabilities
def _refused_rows(P, limit=6):
    """Positions of the first ``limit`` rows of ``P`` that :func:`normalise_rows` refuses.

    The rule is the library's, row by row, so a block of rows passes when all of them
    do: blocks that fail are halved until single rows are left (a few passes over ``P``).
    """
    found, blocks = [], [(0, P.shape[0])]
    while blocks and len(found) < limit:
        lo, hi = blocks.pop()
        try:
            normalise_rows(P[lo:hi])
            continue
        except ValueError:
            pass
        if hi - lo == 1:
            found.append(lo)
        else:
            mid = (lo + hi) // 2
            blocks += [(mid, hi), (lo, mid)]  # the first half first
    return found


def _check_prob_rows(tab, what):
    """``tab`` with its rows checked and renormalised by the library's one rule
    (:func:`skactivelab._validation.normalise_rows`); a refused row is named by its row
    in the file."""
    try:
        return replace(tab, probs=normalise_rows(tab.probs, name=what))
    except ValueError:
        bad = _refused_rows(tab.probs)
    row = tab.probs[bad[0]]
    if not np.isfinite(row).all():
        raise tab.error(bad[0], "holds NaN or infinity", f"Give {what} finite probabilities.")
    if (row < 0).any():
        raise tab.error(bad[0], "has a negative probability",
                        f"Give {what} probabilities >= 0 (apply a softmax to raw scores).")
    also = ""
    if len(bad) > 1:
        more = ", ".join(str(int(tab.lines[i])) for i in bad[1:])
        also = f" (also {tab.row_label}s {more}{' ...' if len(bad) > 5 else ''})"
    raise tab.error(bad[0], f"probabilities sum to {row.sum():.6g}, not 1{also}",
                    f"Give {what} one probability per class in each row, summing to 1 "
                    f"(within {ROW_SUM_TOL:g}; rows within it are renormalised).")


def _looks_like_probabilities(cells):
    """All cells numbers in [0, 1], at least one strictly between (IDs 0, 1, 2 are not)."""
    try:
        v = np.asarray(cells, dtype=np.float64)
    except ValueError:
        return False
    return bool(v.size and np.all((v >= 0) & (v <= 1)) and np.any((v > 0) & (v < 1)))


def _prob_id_column(table, header_line, class_names, id_column, option, usual=()):
    """Index of the example-ID column of a probability CSV, or None (docs/command_line.md).

    ``id_column`` (the user's ``--example-column``) wins when the file has it.
    Otherwise a column named like an example ID is the ID column unless its
    name is one of ``class_names`` (labels of the annotations) or its cells look
    like probabilities; then it is a class column.
    """
    if id_column is not None:
        return table.header.index(id_column) if id_column in table.header else None
    for name in usual:  # the ID column of the annotations' tool (Label Studio: "id")
        if name in table.header and name not in set(class_names or ()):
            return table.header.index(name)
    hits = _find_column(table.header, EXAMPLE_COLUMNS)
    labels = set(class_names or ())
    hits = [j for j in hits if table.header[j] not in labels
            and not _looks_like_probabilities([r[j] for r in table.rows])]
    if len(hits) > 1:
        names = [table.header[j] for j in hits]
        raise InputFileError(table.path, header_line, f"several example ID columns {names}",
                             f"Pass {option} NAME to say which one holds the example IDs (the "
                             "others are read as classes).")
    return hits[0] if hits else None


def read_pred_probs(path, *, what="--pred-probs", class_names=None, id_column=None,
                    id_option="--example-column", ids_path=None, ids_option="--pred-probs-ids",
                    usual_id_columns=()):
    """Read predicted probabilities from ``.npy`` (2-D array) or CSV.

    A CSV file has one column per class, named by the class, and optionally an
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
        return _check_prob_rows(tab, what)
    table, header_line = _read_table(path, what)
    cid = _prob_id_column(table, header_line, class_names, id_column, id_option,
                          usual_id_columns)
    cols = [j for j in range(len(table.header)) if j != cid]
    classes = [table.header[j] for j in cols]
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
    P = _parse_numbers(table, cols, what)
    whole = np.all(P == np.round(P), axis=0) & (P.max(axis=0) > 1)
    if whole.any():
        name = classes[int(np.flatnonzero(whole)[0])]
        raise InputFileError(path, header_line,
                             f"column {name!r} holds whole numbers above 1, not probabilities",
                             f"If it holds the example IDs, pass {id_option} {name}.")
    ids = None
    if cid is not None:
        ids = [r[cid] for r in table.rows]
        empty = [i for i, x in enumerate(ids) if x == ""]
        if empty:
            raise InputFileError(path, int(table.lines[empty[0]]),
                                 f"column {table.header[cid]!r} is empty",
                                 "Give every row its example ID.")
        _check_unique_ids(path, ids, table.lines, "example ID")
    return _check_prob_rows(ProbTable(path, P, classes, ids, table.lines, header_line=header_line), what)


def _read_id_list(path, n_rows, npy_path, option):
    """Example IDs of the rows of a ``.npy`` file: one per line (an ID-column header allowed)."""
    try:
        with open(path, encoding="utf-8-sig") as fh:
            ids = [ln.strip() for ln in fh.read().splitlines()]
    except (OSError, UnicodeDecodeError) as exc:
        raise InputFileError(path, None, f"cannot be read ({exc})",
                             f"Give {option} a text file with one example ID per line.") from None
    while ids and ids[-1] == "":
        ids.pop()
    if len(ids) == n_rows + 1 and (ids[0].lower() in EXAMPLE_COLUMNS or ids[0].lower() == "id"):
        ids, first = ids[1:], 2
    else:
        first = 1
    if len(ids) != n_rows:
        raise InputFileError(path, None, f"has {len(ids)} IDs but {npy_path} has {n_rows} rows",
                             "Give one example ID per row of the array, in row order.")
    empty = [i for i, x in enumerate(ids) if x == ""]
    if empty:
        raise InputFileError(path, empty[0] + first, "the example ID is empty",
                             "Give every row of the array its example ID.")
    _check_unique_ids(path, ids, np.arange(first, first + len(ids)), "example ID")
    return ids


def _npy_classes(ann, tab):
    """Class names for a ``.npy`` file with K columns (docs/command_line.md, decision 5):
    labels written as column indices ``0``..``K-1`` are those columns; other labels,
    sorted, must number K. A ``.npy`` has no names, so two labels that are one number
    written two ways (``1``, ``01``, ``+1``) cannot be told apart: refused."""
    K = tab.probs.shape[1]
    names = sorted_class_names(ann.label.tolist())
    if not names:  # no label at all: nothing to match, columns are indices
        return [str(k) for k in range(K)], np.empty(0, dtype=np.int64)
    if all(_ROW_ID_RE.fullmatch(n) and int(n) < K for n in names):
        lookup = {n: int(n) for n in names}
        classes = [str(k) for k in range(K)]
        return classes, np.fromiter((lookup[y] for y in ann.label), dtype=np.int64,
                                    count=ann.label.size)
    if all(_INT_RE.fullmatch(n) for n in names):
        same = [(a, b) for a, b in zip(names, names[1:]) if int(a) == int(b)]
        if same:
            first = max(int(ann.line[np.flatnonzero(ann.label == y)[0]]) for y in same[0])
            raise InputFileError(
                ann.path, first,
                f"labels {same[0][0]!r} and {same[0][1]!r} are one number written two ways, "
                f"and {tab.path} (a .npy array) has no class names to tell their columns apart",
                "Write each class one way in the annotations, or give the probabilities as CSV "
                "with one column per class, named exactly like the labels.",
                row_label=ann.row_label)
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
    return ann.format == "long" and bool(ann.example_ids) and all(
        _ROW_ID_RE.fullmatch(x) for x in ann.example_ids)


def _rows_by_number(ann, tab):
    """Rows of a bare ``tab`` for integer example IDs: ID i is row i; the rest is pool."""
    n_rows = tab.probs.shape[0]
    numbers = [int(x) for x in ann.example_ids]
    big = [i for i, r in enumerate(numbers) if r >= n_rows]
    if big:
        i = min(big, key=lambda i: ann.example_line[i])
        raise InputFileError(
            ann.path, int(ann.example_line[i]),
            f"example ID {ann.example_ids[i]!r} is row {numbers[i]} of {tab.path}, which has only "
            f"{n_rows} rows (integer example IDs are row numbers of a probability file without "
            "IDs)",
            f"Give {tab.path} one row per example ID 0..{max(numbers)}, or add an example_id "
            "column to it.", row_label=ann.row_label)
    rows = np.asarray(numbers, dtype=np.int64)
    extra = np.ones(n_rows, dtype=bool)
    extra[rows] = False
    extra_idx = np.flatnonzero(extra)
    return tab.probs[rows], [str(i) for i in extra_idx.tolist()], tab.probs[extra_idx]


def align_pred_probs(ann, tab):
    """Probabilities of every example of ``ann`` plus the rows of ``tab`` it does not name.

    Returns ``(classes, codes, P, extra_ids, P_extra)``: class names in column
    order, label codes aligned with ``ann.label``, ``P`` with one row per
    ``ann.example_ids`` entry, and the rows of ``tab`` whose example ID has no
    annotation (only when ``tab`` has an ID column).
    """
    if tab.classes is None:
        classes, codes = _npy_classes(ann, tab)
    else:
        classes = tab.classes
        unknown = sorted_class_names(set(ann.label.tolist()) - set(classes))
        unused = [c for c in classes if c not in set(ann.label.tolist())]
        if unknown and unused:  # most likely a misspelt or renamed column
            first = int(ann.line[np.flatnonzero(ann.label == unknown[0])[0]])
            raise InputFileError(
                tab.path, tab.header_line,
                f"class column(s) {shown(unused)} match no label, and label(s) {shown(unknown)} "
                f"of {ann.path} (first at its row {first}) match no column",
                "Name each probability column exactly like the class labels (case and spaces "
                "included).")
        codes = encode_labels(ann, classes, source=tab.path)
    n = ann.n_examples
    if tab.ids is None and ann.format.startswith("labelstudio"):
        raise InputFileError(
            tab.path, None,
            f"has no example IDs, and the Label Studio task IDs of {ann.path} are not row numbers",
            "Add an ID column holding the task id (CSV or Parquet), or give the IDs of the "
            ".npy rows with --pred-probs-ids FILE.")
    if tab.ids is None and row_number_ids(ann):
        return (classes, codes) + _rows_by_number(ann, tab)
    if tab.ids is None:
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
        return classes, codes, tab.probs, [], tab.probs[:0]
    pos = {x: i for i, x in enumerate(tab.ids)}
    rows = np.fromiter((pos.get(x, -1) for x in ann.example_ids), dtype=np.int64, count=n)
    missing = np.flatnonzero(rows < 0)
    if missing.size:
        ids = [ann.example_ids[i] for i in missing]
        raise InputFileError(
            tab.path, None,
            f"has no row for {missing.size} example ID(s) of {ann.path}: {shown(ids)} "
            f"(first at {ann.path} {ann.row_label} {int(ann.example_line[missing[0]])})",
            f"Add a row for every example in {ann.path}; IDs must match exactly.")
    extra = np.ones(len(tab.ids), dtype=bool)
    extra[rows] = False
    extra_idx = np.flatnonzero(extra)
    if extra_idx.size and ann.aliases:  # tasks that are copies of an example: its row counts
        copy = np.fromiter((tab.ids[i] in ann.aliases for i in extra_idx), dtype=bool,
                           count=extra_idx.size)
        extra_idx = extra_idx[~copy]
    if extra_idx.size and ann.format.startswith("labelstudio"):
        ids = [tab.ids[i] for i in extra_idx]
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
                        f"{ann.path} ({len(ids)} such ID(s): {shown(ids)})", fix)
    return (classes, codes, tab.probs[rows], [tab.ids[i] for i in extra_idx],
            tab.probs[extra_idx])


# --------------------------------------------------------------------------- features
def read_features(path, *, what="--features", example_column=None):
    """Read a features CSV: an example ID column (``example_column``, else ``example_id``
    or an alias, else the first column) plus numeric feature columns; an empty cell is a
    missing value (NaN)."""
    table, header_line = _read_csv(path, what)
    if example_column is not None:
        if example_column not in table.header:
            raise InputFileError(table.path, header_line,
                                 f"no column {example_column!r} (header: {table.header[:8]})",
                                 "Give --example-column the exact name of the example-ID column.")
        cid = table.header.index(example_column)
    else:
        cid = _pick_column(table, header_line, EXAMPLE_COLUMNS, "example ID", required=False)
    cid = 0 if cid is None else cid
    cols = [j for j in range(len(table.header)) if j != cid]
    if not cols:
        raise InputFileError(table.path, header_line, "has no feature column",
                             "Give an example_id column and at least one numeric feature column.")
    ids = [r[cid] for r in table.rows]
    empty = [i for i, x in enumerate(ids) if x == ""]
    if empty:
        raise InputFileError(table.path, int(table.lines[empty[0]]),
                             f"the example ID (column {table.header[cid]!r}) is empty",
                             "Give every row its example ID.")
    _check_unique_ids(table.path, ids, table.lines, "example ID")
    X = _parse_numbers(table, cols, what, allow_missing=True)
    return FeatureTable(table.path, ids, X, [table.header[j] for j in cols], table.lines, header_line)
