"""Any table file as a :class:`~skactivelab.cli._tables.Table`: CSV and TSV, Parquet,
JSON Lines.

CSV and TSV are read by pyarrow's columnar reader when pyarrow is installed, else
by the standard ``csv`` module; both give the same cells, rows and line numbers
(the 1-based line where each row ends in the file, header included, as the
``csv`` module counts lines: blank lines and line breaks inside quoted cells
count). A file pyarrow refuses (a row with another number of cells, text that is
not UTF-8, ...) is read again with the ``csv`` module, whose messages name the
row. Columns that the caller expects to hold numbers may be read as numbers
directly (``numeric``); a cell there that pyarrow cannot read sends that file to
the text reader, so numbers follow Python's ``float`` in every case. Parquet
needs pyarrow. Every problem raises :class:`InputFileError`.
"""

from __future__ import annotations

import csv
import os
import re

import numpy as np

from ._columns import ArrowColumn, ListColumn, cell_text, import_pyarrow, release_freed
from ._tables import InputFileError, RowLines, Table

__all__ = ["read_table"]

PARQUET = (".parquet", ".pq")
JSON_LINES = (".jsonl", ".ndjson")


def read_table(path, what, numeric=None):
    """The table in ``path`` (CSV, TSV, Parquet or JSON Lines, by its name).

    ``what`` names the file in fixes (the command-line option); ``numeric(header)``
    gives the positions of the columns that should hold numbers (read as float64 by
    pyarrow when it can).
    """
    path = str(path)
    low = path.lower()
    if low.endswith(PARQUET):
        table = _read_parquet(path, what)
    elif low.endswith(JSON_LINES):
        table = _read_jsonl(path, what)
    else:
        table = _read_csv(path, what, numeric)
    _check_header(table)
    return table


def _check_header(table):
    seen = {}
    for j, name in enumerate(table.header):
        if name in seen and name:
            raise InputFileError(table.path, table.header_line,
                                 f"column name {name!r} appears twice (columns {seen[name] + 1} "
                                 f"and {j + 1})", "Give every column a different name.")
        seen[name] = j


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


def _blank(cells):
    return all(c == "" or c.isspace() for c in cells)


def _open_csv(path, what):
    try:
        return open(path, newline="", encoding="utf-8-sig")
    except OSError as exc:
        raise InputFileError(path, None, f"cannot be read ({exc.strerror or exc})",
                             f"Check the path given to {what}.") from None


def _csv_records(path, what, delimiter, stop_at_header=False):
    """``(header, header_line, records before and with the header, rows, lines)`` of a CSV
    file by the ``csv`` module: blank rows (every cell empty or white space) skipped, rows
    with other cell counts refused (extra empty cells at the end are dropped)."""
    header, header_line, n_head, rows, lines = None, None, 0, [], []
    try:
        with _open_csv(path, what) as fh:
            reader = csv.reader(fh, delimiter=delimiter)
            for cells in reader:
                if header is None:
                    n_head += 1
                if _blank(cells):
                    continue
                if header is None:
                    header, header_line = cells, reader.line_num
                    if stop_at_header:
                        break
                    continue
                rows.append(_fit_row(path, reader.line_num, cells, header, header_line))
                lines.append(reader.line_num)
    except UnicodeDecodeError:
        raise InputFileError(path, None, "is not UTF-8 text",
                             f"Give {what} a CSV file saved as UTF-8.") from None
    except csv.Error as exc:
        raise InputFileError(path, None, f"is not valid CSV ({exc})",
                             "Save it as comma-separated values.") from None
    if header is None:
        raise InputFileError(path, 1, "the file is empty",
                             f"Give {what} a CSV file with a header row and one row per entry.")
    return header, header_line, n_head, rows, lines


def _fit_row(path, line, cells, header, header_line):
    if len(cells) != len(header):
        if len(cells) < len(header) or any(cells[len(header):]):
            raise InputFileError(
                path, line, f"has {len(cells)} cells but the header (row {header_line}) has "
                f"{len(header)} columns",
                "Give every row one cell per header column (quote cells that contain commas).")
        cells = cells[: len(header)]
    return cells


def _read_csv(path, what, numeric):
    delimiter = _delimiter(path)
    header, header_line, n_head, _, _ = _csv_records(path, what, delimiter, stop_at_header=True)
    table = None
    if import_pyarrow() is not None:
        table = _read_csv_arrow(path, delimiter, header, header_line, n_head, numeric)
    if table is None:
        _, _, _, rows, lines = _csv_records(path, what, delimiter)
        columns = [ListColumn(list(c)) for c in zip(*rows)] if rows else \
            [ListColumn([]) for _ in header]
        table = Table(path, header, columns, np.asarray(lines, dtype=np.int64), header_line)
    if not table.n_rows:
        raise InputFileError(path, header_line + 1, "no data rows after the header",
                             f"Give {what} at least one row below the header.")
    return table


def _arrow_csv(path, delimiter, n_head, types, quoted=True):
    """pyarrow's CSV reader: every line a row (blank ones too, so that rows can be counted
    into lines), cells as written, an empty number cell null; None if it refuses the file.
    A file without a double quote (``quoted`` False) holds no line break inside a cell.
    The blocks are parsed in this thread: the reader's threads left about 30 MB more freed
    memory in the process on a million rows (their own blocks), for no gain in time on two
    cores."""
    import pyarrow as pa
    import pyarrow.csv as pcsv

    names = [f"c{j}" for j in range(len(types))]
    try:
        return pcsv.read_csv(
            path, read_options=pcsv.ReadOptions(column_names=names, skip_rows=n_head,
                                                use_threads=False),
            parse_options=pcsv.ParseOptions(delimiter=delimiter, ignore_empty_lines=False,
                                            newlines_in_values=quoted),
            convert_options=pcsv.ConvertOptions(
                column_types=dict(zip(names, types)), null_values=[""],
                strings_can_be_null=False, quoted_strings_can_be_null=False))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, OSError):
        return None


def _read_csv_arrow(path, delimiter, header, header_line, n_head, numeric):
    """The rows below the header by pyarrow (None when it cannot read them: the ``csv``
    module then does, and says what is wrong)."""
    import pyarrow as pa

    number_cols = set(numeric(header)) if numeric is not None else set()
    text = [pa.string()] * len(header)
    types = [pa.float64() if j in number_cols else pa.string() for j in range(len(header))]
    quoted = _has_quote(path)
    read = _arrow_csv(path, delimiter, n_head, types, quoted)
    if read is None and number_cols:  # a cell that is not a number: read it as text
        number_cols, types = set(), text
        read = _arrow_csv(path, delimiter, n_head, types, quoted)
    if read is None:
        return None
    release_freed()  # the reader's blocks
    columns = [ArrowColumn(c) for c in read.columns]
    lines = RowLines(header_line + 1, read.num_rows)  # one line per row: not held
    if quoted:  # only a quoted cell holds a line break
        breaks = sum((_line_breaks(c) for j, c in enumerate(columns) if j not in number_cols),
                     np.zeros(read.num_rows, dtype=np.int64))
        lines = header_line + np.cumsum(1 + breaks)
    blank = np.ones(read.num_rows, dtype=bool)
    for j, c in enumerate(columns):  # a number cell: empty is null
        blank &= c.empty() if j in number_cols else c.blank()
        if not blank.any():
            break
    if blank.any():
        keep = pa.array(~blank)
        columns = [ArrowColumn(c.array.filter(keep)) for c in columns]
        lines = lines[~blank]
    def as_text():
        return _read_csv_arrow(path, delimiter, header, header_line, n_head, None)

    if isinstance(lines, np.ndarray):
        lines = lines.astype(np.int64, copy=False)
    return Table(path, header, columns, lines, header_line, as_text if number_cols else None)


def _has_quote(path, block=1 << 22):
    """Whether the file holds a double quote (read in blocks into one buffer: neither a
    copy nor a mapping of the whole file adds to the memory in use)."""
    buffer = bytearray(block)
    with open(path, "rb", buffering=0) as fh:
        while True:
            n = fh.readinto(buffer)
            if not n:
                return False
            if buffer.find(b'"', 0, n) >= 0:
                return True


def _line_breaks(column):
    """Line breaks inside each cell (quoted cells), counted as the ``csv`` module counts
    lines: ``\\r\\n``, ``\\n`` and ``\\r`` are one each."""
    import pyarrow.compute as pc

    text = column.text
    if not column.n or not (pc.any(pc.match_substring(text, "\n")).as_py()
                            or pc.any(pc.match_substring(text, "\r")).as_py()):
        return np.zeros(column.n, dtype=np.int64)
    count = [pc.count_substring(text, s).to_numpy(zero_copy_only=False)
             for s in ("\n", "\r", "\r\n")]
    return (count[0] + count[1] - count[2]).astype(np.int64)


# --------------------------------------------------------------------------- Parquet
def _read_parquet(path, what):
    if import_pyarrow() is None:
        raise InputFileError(path, None, "is a Parquet file, which needs pyarrow",
                             "Install it (pip install 'skactivelab[cli]'), or give "
                             f"{what} as CSV.")
    import pyarrow.parquet as pq

    try:
        read = pq.read_table(path)
    except Exception as exc:  # pyarrow raises its own types
        if isinstance(exc, OSError) and not os.path.exists(path):
            raise InputFileError(path, None, "cannot be read (No such file or directory)",
                                 f"Check the path given to {what}.") from None
        raise InputFileError(path, None, f"cannot be read as Parquet ({exc})",
                             f"Give {what} a Parquet file written by pandas or pyarrow.") from None
    if read.num_rows == 0:
        raise InputFileError(path, None, "has no rows", f"Give {what} at least one row.")
    keep = [j for j, name in enumerate(read.column_names) if not _pandas_index(name)]
    return Table(path, [str(read.column_names[j]) for j in keep],
                 [ArrowColumn(read.column(j)) for j in keep],
                 RowLines(1, read.num_rows), None)


def _pandas_index(name):
    """pandas' unnamed index, stored as a column: not data."""
    return re.fullmatch(r"__index_level_\d+__", str(name)) is not None


# --------------------------------------------------------------------------- JSON Lines
def _read_jsonl(path, what):
    import json

    header, index, records, lines = [], {}, [], []
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
                records.append(rec)
                lines.append(n)
    except OSError as exc:
        raise InputFileError(path, None, f"cannot be read ({exc.strerror or exc})",
                             f"Check the path given to {what}.") from None
    except UnicodeDecodeError:
        raise InputFileError(path, None, "is not UTF-8 text",
                             f"Give {what} a JSON Lines file saved as UTF-8.") from None
    if not records:
        raise InputFileError(path, None, "has no records", f"Give {what} one JSON object per line.")
    columns = [ListColumn([cell_text(r.get(k)) for r in records]) for k in header]
    return Table(path, [str(h) for h in header], columns, np.asarray(lines, dtype=np.int64), None)


# --------------------------------------------------------------------------- cell rules
_UNKNOWN = object()


def raise_first(problems):
    """Raise the problem of the earliest row. ``problems`` are ``(row position or None,
    make)`` pairs, ``make(position)`` building the error; on one row, the first pair wins."""
    found = [(pos, k, make) for k, (pos, make) in enumerate(problems) if pos is not None]
    if found:
        pos, _, make = min(found, key=lambda t: t[:2])
        raise make(pos)


def first_repeat(codes):
    """``(position, earlier)``: the first position whose code an earlier position has, and
    the first position with that code; None when the codes are distinct."""
    if not _any_repeat(codes):
        return None
    order = np.argsort(codes, kind="stable")
    ranked = codes[order]
    again = np.flatnonzero(ranked[1:] == ranked[:-1]) + 1
    if not again.size:
        return None
    pos = int(order[again].min())
    return pos, int(np.flatnonzero(codes == codes[pos])[0])


def _any_repeat(codes):
    """Whether two positions share a code (non-negative integers): marked in a table of
    the codes when it is small, else sorted (merging the runs when the codes mostly
    increase, as in a file sorted by example)."""
    if codes.size < 2:
        return False
    low, top = int(codes.min()), int(codes.max())
    if low >= 0 and top < 4 * codes.size + 1024:
        seen = np.zeros(top + 1, dtype=bool)
        seen[codes] = True
        return int(np.count_nonzero(seen)) < codes.size
    step = min(64, codes.size - 1)  # codes that mostly increase over 64 positions
    mostly_up = np.count_nonzero(codes[step:] < codes[:-step]) * 8 < codes.size
    small = low >= 0 and top < 2**31
    ranked = np.sort(codes.astype(np.int32) if small else codes,  # int32 sorts faster
                     kind="stable" if mostly_up else None)
    return bool((ranked[1:] == ranked[:-1]).any())


def padded_cell(table, j, what, first=_UNKNOWN):
    """``(first row position or None, make)`` of the cell rule on text column ``j``: an
    ID, annotator or label does not start or end with white space (``first``: that
    position, when already known)."""
    def make(pos):
        return table.error(pos, f"{what} {table.columns[j][pos]!r} (column "
                           f"{table.header[j]!r}) starts or ends with white space",
                           "IDs, annotators and labels are matched exactly: remove the spaces "
                           "around it.")
    if first is _UNKNOWN:
        first = first_mask(table.columns[j].padded())
    return first, make


def factorized(column, distinct=False):
    """``(codes, uniques, first empty row, first padded row)`` (positions, or None): the
    cells are checked once per distinct cell, and the first offending row is where the
    first offending distinct cell first appears (codes number the distinct cells in order
    of first appearance). ``distinct``: the cells should all differ (IDs)."""
    codes, uniques = column.factorize_distinct() if distinct else column.factorize()
    return (codes, uniques, _first_row(codes, uniques.empty()),
            _first_row(codes, uniques.padded()))


def _first_row(codes, bad):
    """The first position of a code marked in ``bad`` (a mask of the codes), or None."""
    k = first_mask(bad)
    return None if k is None else int(np.argmax(codes == k))


def check_names(table, cols=None):
    """The cell rule on the header: column names (IDs, annotators, classes, features) are
    matched exactly, so none starts or ends with white space."""
    for j in range(len(table.header)) if cols is None else cols:
        name = table.header[j]
        if name != name.strip():
            raise InputFileError(table.path, table.header_line,
                                 f"the column name {name!r} starts or ends with white space",
                                 "Names are matched exactly: remove the spaces around it.")


def first_mask(mask):
    """Position of the first True of a boolean mask, or None."""
    hits = np.flatnonzero(mask)
    return int(hits[0]) if hits.size else None


def unique_ids(table, j, what):
    """``(codes, uniques)`` of text column ``j`` after the rules of an ID column: no empty
    cell, the cell rule, each ID on one row."""
    column = table.columns[j]
    codes, uniques, empty, padded = factorized(column, distinct=True)
    raise_first([
        (empty, lambda pos: table.error(
            pos, f"column {table.header[j]!r} is empty", "Give every row its example ID.")),
        padded_cell(table, j, what, padded),
    ])
    if len(uniques) < len(column):
        pos, earlier = first_repeat(codes)
        raise table.error(pos, f"{what} {column[pos]!r} already appears on row "
                               f"{int(table.lines[earlier])}", f"Give each {what} one row only.")
    column.forget_ends()  # checked: the IDs are kept, not their end bytes
    uniques.forget_ends()
    return codes, uniques


def number_block(table, cols, what, allow_missing=False):
    """``(n_rows, len(cols))`` float64 of the columns ``cols``, read as Python's ``float``
    reads numbers; the first cell that is no number (or empty, unless ``allow_missing``:
    then NaN) or not finite names its row and column."""
    values = np.empty((table.n_rows, len(cols)))
    if not allow_missing and _moved_chunks(table, cols, values):
        return _checked_finite(table, cols, what, values)
    problems = []
    for k, j in enumerate(cols):
        not_number = table.columns[j].numbers_into(values[:, k])
        if allow_missing and not_number is not None:
            not_number &= ~table.columns[j].empty()
        problems.append((None if not_number is None else first_mask(not_number),
                         lambda pos, j=j: _not_a_number(table, pos, j, what, allow_missing)))
    raise_first(problems)
    bad = np.isinf(values) if allow_missing else ~np.isfinite(values)
    if bad.any():
        pos, k = (int(v) for v in np.argwhere(bad)[0])
        raise table.error(pos, f"column {table.header[cols[k]]!r} holds "
                               f"{table.cell(pos, cols[k])!r}", f"Give {what} as finite numbers.")
    return values


def _checked_finite(table, cols, what, values):
    """``values`` when every one is finite, else the error naming the first other cell."""
    if not np.isfinite(values).all():
        bad = ~np.isfinite(values)
        pos, k = (int(v) for v in np.argwhere(bad)[0])
        raise table.error(pos, f"column {table.header[cols[k]]!r} holds "
                               f"{table.cell(pos, cols[k])!r}", f"Give {what} as finite numbers.")
    return values


def _moved_chunks(table, cols, values):
    """Fill ``values`` from float64 columns read by pyarrow without empty cells, block of
    rows by block of rows, each block's buffers freed once copied, and take the columns
    out of ``table`` (a message quoting one of their cells reads the file again as
    text); the matrix and the columns as read are then never both whole in memory.
    False (nothing done) for any other columns."""
    columns = [table.columns[j] for j in cols]
    if table.as_text is None or not all(isinstance(c, ArrowColumn) for c in columns):
        return False
    import pyarrow as pa

    if not all(pa.types.is_float64(c.array.type) and not c.array.null_count for c in columns):
        return False
    chunks = [c.array.chunks for c in columns]
    if len({tuple(map(len, ch)) for ch in chunks}) != 1:  # blocks of rows differ
        return False
    for j in cols:
        table.columns[j] = None
    del columns
    start, freed = 0, 0
    for b in range(len(chunks[0])):
        stop = start + len(chunks[0][b])
        for k, ch in enumerate(chunks):
            chunk, ch[b] = ch[b], None
            if stop > start:
                values[start:stop, k] = np.frombuffer(chunk.buffers()[1], dtype=np.float64,
                                                      count=stop - start,
                                                      offset=8 * chunk.offset)
            del chunk
        start, freed = stop, freed + 8 * (stop - start) * len(chunks)
        if freed >= _RELEASE_EVERY:  # the freed blocks are small holes: give their pages back
            release_freed()
            freed = 0
    release_freed()
    return True


#: Bytes of columns freed (while they are moved into one matrix) between two returns of
#: the freed memory to the system: the matrix's pages then replace theirs, not add to them.
_RELEASE_EVERY = 8 << 20


def _not_a_number(table, pos, j, what, allow_missing):
    cell, name = table.cell(pos, j), table.header[j]
    problem = (f"column {name!r} is empty" if cell == "" else
               f"column {name!r} holds {cell!r}, which is not a number")
    hint = "" if cell == "" else (
        f" If column {name!r} holds the example IDs, pass --example-column {name}.")
    return table.error(pos, problem, f"Give {what} as plain numbers (like 0.25)"
                       + ("; leave a cell empty for a missing value." if allow_missing else ".")
                       + hint)
