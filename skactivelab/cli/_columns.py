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

The pyarrow backend looks at the bytes of a string column directly where that
answers a question for most cells at once: a cell whose first and last bytes
are ASCII characters other than white space can be neither padded nor blank, so
only the other cells are examined character by character; a column whose cells
never decrease (shorter cells first, then byte by byte, as numbered IDs and
sorted exports come) is encoded from its runs of equal cells without hashing.
Both give exactly the answers of the general path, which every other column takes.
"""

from __future__ import annotations

import functools
from contextlib import contextmanager

import numpy as np

from . import _common

__all__ = ["ArrowColumn", "ListColumn", "cell_text", "held_on_disk", "import_pyarrow", "system_allocator"]


@contextmanager
def system_allocator():
    """pyarrow allocates with the system allocator inside (the previous default pool comes
    back after; buffers are freed by the pool that made them): memory freed after the
    reading then serves the scoring instead of staying in pyarrow's own pool. With the GNU
    C library, freed memory is also kept for reuse inside (:func:`_kept_memory`)."""
    mods = import_pyarrow()
    with _kept_memory():
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


#: ``mallopt`` parameters of the GNU C library and the values used inside
#: :func:`_kept_memory`, then the library's documented defaults restored after
_M_TRIM_THRESHOLD, _M_TOP_PAD, _M_MMAP_THRESHOLD = -1, -2, -3
_KEPT = {_M_MMAP_THRESHOLD: 8 << 20, _M_TRIM_THRESHOLD: 8 << 20, _M_TOP_PAD: 1 << 20}
_DEFAULTS = {_M_MMAP_THRESHOLD: 128 << 10, _M_TRIM_THRESHOLD: 128 << 10, _M_TOP_PAD: 128 << 10}


@contextmanager
def _kept_memory():
    """The GNU C library's allocator keeps freed memory for reuse inside, within bounds:
    arrays below 8 MB (the row and annotation blocks of the passes, the per-example
    vectors of a million rows) come from its heap, and up to 8 MB of free memory at the
    top of the heap is kept, not returned to the system and faulted in again. A command
    allocates and frees arrays of the same few sizes many times; mapping fresh pages for
    each costs a page fault per 4 KB, as much time again as some passes themselves.
    Larger arrays (whole matrices of probabilities or posteriors) have pages of their
    own, returned when freed (NumPy asks huge pages for them, so their faults are few).
    The library's own rule would raise its threshold to 32 MB after the first large
    array is freed; such arrays then left holes in the heap that arrays of other sizes
    filled only in part, and with up to 256 MB of free heap kept (as this command once
    did) the peak stood 15-30 MB above what was in use on a million annotations.
    Only in a process that is the command's own (``_common.own_process``: the library's
    rule that raises its threshold as large blocks are freed cannot be turned back on
    after); elsewhere (a longer Python process, another C library, no ``mallopt``)
    nothing changes."""
    global _kept_inside
    libc = _glibc()
    if libc is None or _kept_inside or not _common.is_own_process():
        yield
        return
    for param, value in _KEPT.items():
        libc.mallopt(param, value)
    _kept_inside = True
    try:
        yield
    finally:
        _kept_inside = False
        for param, value in _DEFAULTS.items():  # the heap is trimmed again as memory is freed
            libc.mallopt(param, value)


#: whether :func:`_kept_memory` is in force (its settings are those :func:`reading` changes)
_kept_inside = False

#: whether :func:`reading` is in force (a reading inside it changes nothing)
_reading_inside = False

#: Inside :func:`reading`, blocks of at least this many bytes get pages of their own
_READING_MMAP_THRESHOLD = 64 << 10


@contextmanager
def reading():
    """While input files are read and checked (inside :func:`system_allocator`, with the
    GNU C library), a block of 64 KB or more that the heap cannot serve from its free
    memory gets pages of its own, returned to the system when it is freed, instead of
    growing the heap. A reader makes and frees many blocks of that size (pyarrow's CSV
    reader parses a file a megabyte at a time into columns of some ten thousand rows;
    the checks make masks and codes of whole columns): grown into the heap, they left
    holes that later blocks filled only in part, and the process held 20-40 MB more
    than its arrays on a million rows. The cost is the pages faulted in afresh (about
    0.4 s of system time on a million annotations and a million probability rows).
    Elsewhere (outside a command, another C library) nothing changes; a reading inside
    another is the outer one's (the command's threshold comes back when the outer ends)."""
    global _reading_inside
    libc = _glibc()
    if libc is None or not _kept_inside or _reading_inside:
        yield
        return
    libc.mallopt(_M_MMAP_THRESHOLD, _READING_MMAP_THRESHOLD)
    _reading_inside = True
    try:
        yield
    finally:
        _reading_inside = False
        libc.mallopt(_M_MMAP_THRESHOLD, _KEPT[_M_MMAP_THRESHOLD])


#: Columns of at least this many bytes are held in a temporary file by :func:`held_on_disk`
#: (smaller ones stay in memory: no file is written for a small run).
HELD_ON_DISK_BYTES = 4 << 20


def held_on_disk(column, min_bytes=None):
    """``column`` with its cells in an unnamed temporary file, mapped into memory: IDs the
    command writes out only at the end need not stay in the process's own memory while
    the scoring runs (their pages are the operating system's page cache, read back when
    a message or an output names them). The same cells, the same column type; for an
    :class:`ArrowColumn` of at least ``min_bytes`` (default :data:`HELD_ON_DISK_BYTES`)
    only. ``column`` itself when it is smaller, a :class:`ListColumn`, when the temporary
    directory is held in memory (``tmpfs``: its pages could not be reclaimed, so nothing
    would be saved), or when the file cannot be written (no temporary directory, no space
    left): nothing else changes. The file has no name (it is gone once the column is
    freed, or the process ends)."""
    limit = HELD_ON_DISK_BYTES if min_bytes is None else min_bytes
    if not isinstance(column, ArrowColumn) or column.array.nbytes < limit:
        return column
    import mmap
    import tempfile

    import pyarrow as pa

    if _in_memory_filesystem(tempfile.gettempdir()):
        return column

    table = pa.table({"cells": column.array})
    try:
        with tempfile.TemporaryFile() as fh:
            with pa.ipc.new_file(pa.PythonFile(fh, mode="w"), table.schema) as writer:
                writer.write_table(table)
            fh.flush()
            mapped = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
        cells = pa.ipc.open_file(pa.py_buffer(mapped)).read_all().column(0)
    except (OSError, ValueError, pa.ArrowException):
        return column
    return ArrowColumn(cells)


#: File systems whose files live in memory (Linux ``/proc/self/mounts`` types)
MEMORY_FILESYSTEMS = frozenset({"tmpfs", "ramfs"})


def _in_memory_filesystem(path, mounts="/proc/self/mounts"):
    """Whether ``path`` lies on a file system held in memory (the mount table's entry with
    the longest mount point that contains it); False where the table cannot be read."""
    import os

    try:
        with open(mounts, encoding="utf-8", errors="replace") as fh:
            table = [line.split() for line in fh]
    except OSError:
        return False
    real = os.path.realpath(path)
    best, kind = -1, None
    for fields in table:
        if len(fields) < 3:
            continue
        point = fields[1].replace("\\040", " ")
        inside = real == point or real.startswith(point.rstrip("/") + "/")
        if inside and len(point) > best:
            best, kind = len(point), fields[2]
    return kind in MEMORY_FILESYSTEMS


def release_freed():
    """Give the memory freed so far back to the system (GNU C library: ``malloc_trim``;
    elsewhere nothing), so that what a reading left free (the CSV reader's blocks, the
    cells once encoded) does not add to the peak of what follows. The pages are faulted
    in again when reused: about 0.03 s per million rows, for a peak about 100 MB lower."""
    libc = _glibc()
    if libc is not None and hasattr(libc, "malloc_trim"):
        libc.malloc_trim(0)


@functools.lru_cache(maxsize=None)
def _glibc():
    """The GNU C library (``ctypes``), or None (another system or C library)."""
    import sys

    if not sys.platform.startswith("linux"):
        return None
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return None
    names = ("gnu_get_libc_version", "mallopt")  # the first: the GNU C library's alone
    return libc if all(hasattr(libc, name) for name in names) else None


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

    def factorize_distinct(self):
        """:meth:`factorize` of a column whose cells should all differ (IDs)."""
        return self.factorize()

    def tolist(self):
        return self.to_list()


class ListColumn(_Column):
    """Cells as a list of ``str`` (the standard-library reader)."""

    def __init__(self, cells):
        self.cells = cells if isinstance(cells, list) else list(cells)
        self.n = len(self.cells)

    def to_list(self):
        return list(self.cells)

    def forget_ends(self):
        """Nothing to free (see :meth:`ArrowColumn.forget_ends`)."""

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

    def numbers_into(self, out):
        """:meth:`numbers` written into ``out`` (a float64 view of ``n`` entries); returns
        the ``not_number`` mask, or None when every cell is a number."""
        out[:], bad = self.numbers()
        return bad if bad.any() else None

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
        self._ends = None

    @property
    def text(self):
        """The cells as a chunked string array (no nulls)."""
        if self._text is None:
            self._text = _as_text(self.array)
        return self._text

    @property
    def ends(self):
        """:func:`_end_bytes` of the cells (computed once)."""
        if self._ends is None:
            self._ends = _end_bytes(self.text)
        return self._ends

    def to_list(self):
        return self.text.to_pylist()

    def forget_ends(self):
        """Free :attr:`ends` (computed again if asked for): a column kept after its
        checks (IDs) does not keep three numbers per cell."""
        self._ends = None

    def take(self, idx):
        import pyarrow as pa

        return self.text.take(pa.array(np.asarray(idx, dtype=np.int64))).to_pylist()

    def subset(self, idx):
        """The cells at positions ``idx``, as a column (a slice, not a copy, when ``idx``
        is a run of consecutive positions)."""
        import pyarrow as pa

        idx = np.asarray(idx, dtype=np.int64)
        run = consecutive(idx)
        if run is not None:
            return ArrowColumn(self.text.slice(run.start, run.stop - run.start))
        text = self.text
        if text.num_chunks > 1 and idx.size > 1 and (idx[1:] >= idx[:-1]).all():
            # increasing positions: each block of rows gives its own cells (pyarrow's take
            # on a chunked array joins every chunk into one copy of the column first)
            ends = np.cumsum([0] + [len(c) for c in text.chunks])
            cut = np.searchsorted(idx, ends)
            parts = [text.chunk(k).take(pa.array(idx[cut[k]:cut[k + 1]] - ends[k]))
                     for k in range(text.num_chunks) if cut[k + 1] > cut[k]]  # (chunks)
            return ArrowColumn(pa.chunked_array(parts, type=text.type))
        return ArrowColumn(text.take(pa.array(idx)))

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

        def exact(text):
            ends = [pc.utf8_slice_codeunits(text, 0, 1), pc.utf8_slice_codeunits(text, -1)]
            return pc.or_(pc.utf8_is_space(ends[0]), pc.utf8_is_space(ends[1]))

        first, last, _ = self.ends
        return self._where(_MAYBE_SPACE[first] | _MAYBE_SPACE[last], exact)

    def blank(self):
        import pyarrow.compute as pc

        def exact(text):
            return pc.or_(pc.equal(pc.binary_length(text), 0), pc.utf8_is_space(text))

        first, _, length = self.ends
        return self._where((length == 0) | _MAYBE_SPACE[first], exact)

    def _where(self, maybe, exact):
        """The boolean ``exact(text)`` of the cells where ``maybe`` holds; False elsewhere
        (where ``exact`` is known to be False)."""
        import pyarrow as pa

        rows = np.flatnonzero(maybe)
        out = np.zeros(self.n, dtype=bool)
        if rows.size:
            out[rows] = self._numpy(exact(self.text.take(pa.array(rows))))
        return out

    def factorize(self):
        """``(codes, uniques)``: distinct cells in order of first appearance."""
        if not self.n:
            return np.zeros(0, dtype=np.int64), ArrowColumn(self.text)
        return self._factorize(_sorted_run_starts(self.text))

    def _factorize(self, starts):
        """:meth:`factorize` of a column with cells, ``starts`` its
        :func:`_sorted_run_starts` (None: not in increasing order, the cells are hashed)."""
        import pyarrow as pa
        import pyarrow.compute as pc

        if starts is not None and starts.size == self.n:  # every cell another: the column
            return starts, self._as_uniques()
        if starts is not None:  # runs of equal cells, each run's cell above the last
            codes = np.zeros(self.n, dtype=np.int64)
            codes[starts[1:]] = 1
            np.cumsum(codes, out=codes)
            return codes, ArrowColumn(self.text.take(pa.array(starts)))
        encoded = pc.dictionary_encode(self.text)  # every chunk shares the whole dictionary
        codes = np.concatenate([c.indices.to_numpy(zero_copy_only=False)
                                for c in encoded.chunks]).astype(np.int64, copy=False)
        return codes, ArrowColumn(encoded.chunk(encoded.num_chunks - 1).dictionary)

    def factorize_distinct(self):
        """:meth:`factorize` of a column whose cells should all differ (IDs): when they do
        and the column is not in increasing order, ``(0, 1, ..., n - 1)`` and the column's
        cells (:meth:`_as_uniques`), found by sorting the cells (about half the memory of
        hashing them: on a million IDs 31 against 59 MB at the peak, for some 0.3 s
        more); else as :meth:`factorize` (which then names the repeated cells)."""
        import pyarrow as pa
        import pyarrow.compute as pc

        if self.n < 2:
            return self.factorize()
        starts = _sorted_run_starts(self.text)  # (looked at once: the other paths reuse it)
        if starts is not None:
            return self._factorize(starts)
        ranked = pc.take(self.text, pc.sort_indices(self.text))
        if isinstance(ranked, pa.ChunkedArray):
            ranked = ranked.combine_chunks()
        if pc.any(pc.equal(ranked.slice(1), ranked.slice(0, self.n - 1))).as_py():
            return self._factorize(None)
        return np.arange(self.n, dtype=np.int64), self._as_uniques()

    def _as_uniques(self):
        """The cells as the distinct cells of :meth:`factorize`: its text, as the other
        paths give them (a NaN, or ``""`` in a dictionary column, is then an empty cell,
        not a value; no copy of a text column)."""
        return ArrowColumn(self.text)

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

    def numbers_into(self, out):
        """:meth:`numbers` written into ``out`` (a float64 view of ``n`` entries, strided
        or not); returns the ``not_number`` mask, or None when every cell is a number. A
        float64 column is copied chunk by chunk from pyarrow's buffers (no other copy)."""
        import pyarrow as pa

        if not pa.types.is_float64(self.array.type):
            out[:], bad = self.numbers()
            return bad if bad.any() else None
        start, bad = 0, None
        for chunk in self.array.chunks:
            stop = start + len(chunk)
            if len(chunk):
                out[start:stop] = np.frombuffer(chunk.buffers()[1], dtype=np.float64,
                                                count=len(chunk), offset=8 * chunk.offset)
            if chunk.null_count:  # empty cells
                null = chunk.is_null().to_numpy(zero_copy_only=False)
                out[start:stop][null] = np.nan
                if bad is None:
                    bad = np.zeros(self.n, dtype=bool)
                bad[start:stop] = null
            start = stop
        return bad

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


def consecutive(idx):
    """``range(a, b)`` when the positions ``idx`` are ``a, a + 1, ..., b - 1``, else None."""
    if not idx.size or idx[-1] - idx[0] != idx.size - 1:
        return None
    if idx.size > 1 and not (np.diff(idx) == 1).all():
        return None
    return range(int(idx[0]), int(idx[-1]) + 1)


#: bytes that may begin or end a white-space character (``str.isspace``): the ASCII ones
#: (tab, line feed, vertical tab, form feed, carriage return, the four separators, space)
#: and every byte of a multi-byte UTF-8 character (no-break space, ...)
_MAYBE_SPACE = np.zeros(256, dtype=bool)
_MAYBE_SPACE[[0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x1C, 0x1D, 0x1E, 0x1F, 0x20]] = True
_MAYBE_SPACE[0x80:] = True


def _string_buffers(chunk):
    """``(offsets, data)`` of a string chunk as NumPy views of its buffers (no copy):
    cell ``i`` is ``data[offsets[i]:offsets[i + 1]]``."""
    import pyarrow as pa

    buffers = chunk.buffers()
    otype = np.int64 if pa.types.is_large_string(chunk.type) else np.int32
    size = np.dtype(otype).itemsize
    offsets = np.frombuffer(buffers[1], dtype=otype, count=len(chunk) + 1,
                            offset=size * chunk.offset)
    data = np.frombuffer(buffers[2], dtype=np.uint8) if buffers[2] is not None else \
        np.zeros(0, dtype=np.uint8)
    return offsets, data


def _end_bytes(text):
    """``(first byte, last byte, length in bytes)`` of every cell of a chunked string
    array (bytes 0 for an empty cell)."""
    parts = []
    for chunk in text.chunks:
        if not len(chunk):
            continue
        offsets, data = _string_buffers(chunk)
        length = offsets[1:] - offsets[:-1]
        if not data.size:
            none = np.zeros(len(chunk), np.uint8)
            parts.append((none, none, length))
            continue
        first = data[np.minimum(offsets[:-1], data.size - 1)]
        last = data[offsets[1:] - 1]  # an empty first cell reads byte -1: set to 0 below
        empty = length == 0
        if empty.any():
            first[empty] = last[empty] = 0
        parts.append((first, last, length))
    if not parts:
        return np.zeros(0, np.uint8), np.zeros(0, np.uint8), np.zeros(0, np.int64)
    if len(parts) == 1:
        return parts[0]
    return tuple(np.concatenate(p) for p in zip(*parts))


def _run_starts_if_sorted(text):
    """Run starts of a string array (positions where a cell differs from the one above;
    ``arange`` when every cell does) when no cell comes before the cell above it, ordering
    cells by length in bytes, then byte by byte; else None. Equality is computed only when
    some cell is not after the one above it."""
    import pyarrow.compute as pc

    n = len(text)
    if n < 2:
        return np.arange(n, dtype=np.int64)
    offsets, _ = _string_buffers(text)
    length = offsets[1:] - offsets[:-1]
    grows = length[1:] - length[:-1]
    if (grows < 0).any():
        return None
    first, second = text.slice(0, n - 1), text.slice(1)
    up = pc.greater(second, first).to_numpy(zero_copy_only=False) | (grows > 0)
    if up.all():  # every cell after the one above it: all distinct
        return np.arange(n, dtype=np.int64)
    same = pc.equal(second, first).to_numpy(zero_copy_only=False) & (grows == 0)
    if not (up | same).all():
        return None
    return np.r_[0, np.flatnonzero(~same) + 1].astype(np.int64)


def _sorted_run_starts(text, probe=4096):
    """:func:`_run_starts_if_sorted` of a chunked string array (the order of numbered
    IDs: then every run holds another cell, in increasing order). The first ``probe``
    cells of the first chunk are looked at first, so that another column costs next to
    nothing; then chunk by chunk (no copy of the whole column), the first cell of each
    chunk compared with the last cell of the one before."""
    chunks = [c for c in text.chunks if len(c)]
    if chunks and _run_starts_if_sorted(chunks[0].slice(0, probe)) is None:
        return None
    parts, offset, last = [], 0, None
    distinct = True  # every cell another so far: the parts are not kept (an arange at the end)
    for chunk in chunks:  # a loop over the reader's blocks of rows
        starts = _run_starts_if_sorted(chunk)
        if starts is None:
            return None
        first = chunk[0].as_py().encode()
        if last is not None:
            if (len(first), first) < (len(last), last):
                return None
            if first == last:  # the run of the chunk before goes on
                starts = starts[1:]
        if distinct and starts.size != len(chunk):
            distinct = False
            parts.append(np.arange(offset, dtype=np.int64))
        if not distinct:
            parts.append(starts + offset)
        offset += len(chunk)
        last = chunk[len(chunk) - 1].as_py().encode()
    if distinct:
        return np.arange(offset, dtype=np.int64)
    return np.concatenate(parts)


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
