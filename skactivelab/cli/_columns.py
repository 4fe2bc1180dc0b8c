"""Columns of table cells, the one cell rule, and numbers: one interface, two backends.

A column holds the cells of one table column as read: an :class:`ArrowColumn` (a
pyarrow array, any type: the default reader) or a :class:`ListColumn` (a list of
``str``: the standard-library reader, used where pyarrow is not installed). Both
answer the same questions with whole-column operations (masks, codes), so that
every check of the readers is written once, and the first offending row of a
check is found from a mask.

The one cell rule (docs/command_line.md, decision 1): a cell is its text exactly
as written, never stripped. A cell holding an ID, an annotator or a label must
not start or end with white space (``str.isspace``: spaces, tabs, no-break
spaces, ...): :meth:`padded` finds them, and the readers refuse them. A number
cell is read as Python's ``float`` reads it.
"""

from __future__ import annotations

from contextlib import contextmanager

import numpy as np

__all__ = ["ArrowColumn", "ListColumn", "cell_text", "import_pyarrow", "system_allocator"]


@contextmanager
def system_allocator():
    """pyarrow allocates with the system allocator inside (the previous default pool comes
    back after; buffers are freed by the pool that made them): memory freed after the
    reading then serves the scoring instead of staying in pyarrow's own pool."""
    mods = import_pyarrow()
    if mods is None:
        yield
        return
    pa = mods[0]
    previous = pa.default_memory_pool()
    try:
        pa.set_memory_pool(pa.system_memory_pool())
    except (AttributeError, NotImplementedError, pa.ArrowException):  # pragma: no cover
        yield
        return
    try:
        yield
    finally:
        pa.set_memory_pool(previous)


def import_pyarrow():
    """``(pyarrow, pyarrow.compute)``, or None when pyarrow is not installed."""
    try:
        import pyarrow as pa
        import pyarrow.compute as pc
    except ImportError:
        return None
    return pa, pc


class _Column:
    """What both backends share; a subclass gives ``to_list``, ``take``, ``empty``,
    ``padded``, ``blank``, ``factorize``, ``positions_in``, ``matches``, ``numbers``."""

    def __len__(self):
        return self.n

    def __iter__(self):
        return iter(self.to_list())

    def __getitem__(self, i):
        return self.take(np.asarray([i], dtype=np.int64))[0]

    def tolist(self):
        return self.to_list()


class ListColumn(_Column):
    """Cells as a list of ``str`` (the standard-library reader)."""

    def __init__(self, cells):
        self.cells = cells if isinstance(cells, list) else list(cells)
        self.n = len(self.cells)

    def to_list(self):
        return list(self.cells)

    def take(self, idx):
        cells = self.cells
        return [cells[i] for i in np.asarray(idx, dtype=np.int64).tolist()]

    def subset(self, idx):
        """The cells at positions ``idx``, as a column."""
        return ListColumn(self.take(idx))

    def integers(self):
        """The cells (written as integers) as int64; beyond int64, its largest value."""
        top = np.iinfo(np.int64).max
        return np.fromiter((min(int(c), top) for c in self.cells), dtype=np.int64, count=self.n)

    def _mask(self, test):
        return np.fromiter(map(test, self.cells), dtype=bool, count=self.n)

    def empty(self):
        return self._mask(lambda c: c == "")

    def padded(self):
        return self._mask(lambda c: c != "" and (c[0].isspace() or c[-1].isspace()))

    def blank(self):
        return self._mask(lambda c: c == "" or c.isspace())

    def factorize(self):
        """``(codes, uniques)``: distinct cells in order of first appearance."""
        index = {}
        codes = np.fromiter((index.setdefault(c, len(index)) for c in self.cells),
                            dtype=np.int64, count=self.n)
        return codes, ListColumn(list(index))

    def positions_in(self, other):
        """For each cell, the position of the same text in ``other`` (its first), or -1."""
        index = {}
        for k, c in enumerate(other.to_list()):
            index.setdefault(c, k)
        return np.fromiter((index.get(c, -1) for c in self.cells), dtype=np.int64, count=self.n)

    def matches(self, pattern):
        """Which cells match the regular expression ``pattern`` whole (``re`` syntax that
        RE2 reads the same)."""
        import re

        rx = re.compile(pattern)
        return self._mask(lambda c: rx.fullmatch(c) is not None)

    def numbers(self):
        """``(values, not_number)``: float64 of each cell as Python's ``float`` reads it,
        NaN and True where it does not (an empty cell included)."""
        try:
            values = np.asarray(self.cells, dtype=np.float64)
            return values, np.zeros(self.n, dtype=bool)
        except ValueError:
            pass
        values, bad = np.empty(self.n), np.zeros(self.n, dtype=bool)
        for i, c in enumerate(self.cells):  # only when some cell is no number
            try:
                values[i] = float(c)
            except ValueError:
                values[i], bad[i] = np.nan, True
        return values, bad

    def maybe_numbers(self, k=8):
        """False when one of the first ``k`` cells is no number (a quick answer before
        :meth:`numbers`)."""
        try:
            np.asarray(self.cells[:k], dtype=np.float64)
        except ValueError:
            return False
        return True

    def concat(self, other):
        return ListColumn(self.cells + other.to_list())


class ArrowColumn(_Column):
    """Cells as a pyarrow (chunked) array of any type; as text, integers are written
    plainly, floats as in :func:`cell_text` (``1.0`` is ``1``), nulls as ``""``."""

    def __init__(self, array):
        import pyarrow as pa

        if isinstance(array, pa.Array):
            array = pa.chunked_array([array], type=array.type)
        self.array = array
        self.n = len(array)
        self._text = None

    @property
    def text(self):
        """The cells as a chunked string array (no nulls)."""
        if self._text is None:
            self._text = _as_text(self.array)
        return self._text

    def to_list(self):
        return self.text.to_pylist()

    def take(self, idx):
        import pyarrow as pa

        return self.text.take(pa.array(np.asarray(idx, dtype=np.int64))).to_pylist()

    def subset(self, idx):
        """The cells at positions ``idx``, as a column."""
        import pyarrow as pa

        return ArrowColumn(self.text.take(pa.array(np.asarray(idx, dtype=np.int64))))

    def integers(self):
        """The cells (written as integers) as int64; beyond int64, its largest value."""
        import pyarrow as pa
        import pyarrow.compute as pc

        try:
            return self._numpy(pc.cast(self.text, pa.int64())).astype(np.int64, copy=False)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            return ListColumn(self.to_list()).integers()

    def _numpy(self, arr):
        return arr.to_numpy(zero_copy_only=False) if self.n else np.zeros(0, dtype=bool)

    def empty(self):
        """Empty cells: ``""`` as text; missing (null) in a column of numbers."""
        import pyarrow as pa
        import pyarrow.compute as pc

        t = self.array.type
        if not (pa.types.is_string(t) or pa.types.is_large_string(t)):
            return self._numpy(self.array.is_null())
        return self._numpy(pc.equal(pc.binary_length(self.text), 0))

    def padded(self):
        import pyarrow.compute as pc

        ends = [pc.utf8_slice_codeunits(self.text, 0, 1), pc.utf8_slice_codeunits(self.text, -1)]
        return self._numpy(pc.or_(pc.utf8_is_space(ends[0]), pc.utf8_is_space(ends[1])))

    def blank(self):
        import pyarrow.compute as pc

        return self._numpy(pc.or_(pc.equal(pc.binary_length(self.text), 0),
                                  pc.utf8_is_space(self.text)))

    def factorize(self):
        """``(codes, uniques)``: distinct cells in order of first appearance."""
        import pyarrow.compute as pc

        if not self.n:
            return np.zeros(0, dtype=np.int64), ArrowColumn(self.text)
        encoded = pc.dictionary_encode(self.text)  # every chunk shares the whole dictionary
        codes = np.concatenate([c.indices.to_numpy(zero_copy_only=False)
                                for c in encoded.chunks]).astype(np.int64, copy=False)
        return codes, ArrowColumn(encoded.chunk(encoded.num_chunks - 1).dictionary)

    def positions_in(self, other):
        """For each cell, the position of the same text in ``other``, or -1 (the cells of
        each column are distinct: IDs). The smaller column is hashed, the larger probed;
        ``other`` starting with the cells of this column, in order, costs one comparison."""
        import pyarrow.compute as pc

        n, other_text = self.n, _text_of(other)
        if not n:
            return np.zeros(0, dtype=np.int64)
        if len(other) >= n and pc.all(pc.equal(other_text.slice(0, n), self.text)).as_py():
            return np.arange(n, dtype=np.int64)
        if n > len(other):
            pos = pc.index_in(self.text, value_set=other_text.combine_chunks())
            return self._numpy(pos.fill_null(-1)).astype(np.int64, copy=False)
        found = self._numpy(pc.index_in(other_text, value_set=self.text.combine_chunks())
                            .fill_null(-1)).astype(np.int64, copy=False)
        hit = np.flatnonzero(found >= 0)
        pos = np.full(n, -1, dtype=np.int64)
        pos[found[hit]] = hit
        return pos

    def matches(self, pattern):
        """Which cells match the regular expression ``pattern`` whole (RE2 syntax)."""
        import pyarrow.compute as pc

        return self._numpy(pc.match_substring_regex(self.text, f"^(?:{pattern})$"))

    def numbers(self):
        """``(values, not_number)`` as :meth:`ListColumn.numbers` (the same values bit for
        bit: pyarrow's parser where it reads every cell, else Python's ``float``)."""
        import pyarrow as pa
        import pyarrow.compute as pc

        t = self.array.type
        if pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t):
            values = self._numpy(pc.cast(self.array, pa.float64()).fill_null(np.nan))
            return values.astype(np.float64, copy=False), self._numpy(self.array.is_null())
        try:
            values = self._numpy(pc.cast(self.text, pa.float64()))
            return values.astype(np.float64, copy=False), np.zeros(self.n, dtype=bool)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            return ListColumn(self.to_list()).numbers()

    def maybe_numbers(self, k=8):
        """False when one of the first ``k`` cells is no number (a quick answer before
        :meth:`numbers`)."""
        import pyarrow as pa

        t = self.array.type
        if not (pa.types.is_string(t) or pa.types.is_large_string(t)):
            return True
        return ListColumn(self.array.slice(0, k).to_pylist()).maybe_numbers(k)

    def concat(self, other):
        import pyarrow as pa

        return ArrowColumn(pa.chunked_array(self.text.chunks + _text_of(other).chunks,
                                            type=pa.string()))


def _text_of(column):
    import pyarrow as pa

    if isinstance(column, ArrowColumn):
        return column.text
    return pa.chunked_array([pa.array(column.to_list(), type=pa.string())], type=pa.string())


def cell_text(v):
    """A cell of a Parquet / JSON Lines table as CSV text ('' for missing).

    Examples
    --------
    >>> [cell_text(v) for v in [None, 3, 1.0, 0.25, float("nan"), True, " a ", [1]]]
    ['', '3', '1', '0.25', '', 'true', ' a ', '[1]']
    """
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        if v != v:
            return ""
        return str(int(v)) if v.is_integer() else repr(v)
    if isinstance(v, (dict, list)):
        import json

        return json.dumps(v, ensure_ascii=False)
    return str(v)


def _as_text(array):
    """A chunked array of any type as strings, by :func:`cell_text` (no nulls)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    t = array.type
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        out = array if not array.null_count else pc.fill_null(array, "")
        return out.cast(pa.string()) if pa.types.is_large_string(t) else out
    if pa.types.is_integer(t):
        return pc.fill_null(pc.cast(array, pa.string()), "")
    return pa.chunked_array([pa.array([cell_text(v) for v in array.to_pylist()],
                                      type=pa.string())], type=pa.string())
