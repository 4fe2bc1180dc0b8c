"""The fast paths of the columnar reader give exactly the answers of the general path.

The pyarrow column answers some questions from the bytes of its cells (padded and blank
cells), encodes cells that never decrease from their runs (no hashing), finds repeated
codes by a table or a sort, and copies number columns chunk by chunk: each is compared
here with the plain rule it stands for (Python's ``str.isspace``, a dict of first
appearances, a brute-force search), on columns made to hit both the fast and the general
path, in several chunks and as slices of larger arrays.
"""

from __future__ import annotations

import os

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skactivelab.cli._columns import ArrowColumn, ListColumn, consecutive
from skactivelab.cli._tabular import _any_repeat, _has_quote, first_repeat

pa = pytest.importorskip("pyarrow")

SPACES = [" ", "\t", "\n", "\r", "\x0b", "\x0c", "\x1c", "\x1f", "\x85", "\xa0", "\u2003",
          "\u3000"]
# characters whose UTF-8 bytes are no space but share bytes with spaces (é: c3 a9; ⁠ᚁ: e1 9a 81;
# 耀: e8 80 80) or are ASCII
LETTERS = ["a", "b", "Z", "0", "9", "é", "ᚁ", "耀", "\x00", "_", "-"]
CELL = st.text(alphabet=st.sampled_from(SPACES + LETTERS), max_size=5)


def chunked(cells, cuts, pad):
    """``cells`` as a pyarrow chunked string array cut at ``cuts``, each chunk a slice of
    a larger array (``pad`` cells before and after)."""
    cuts = sorted({c % (len(cells) + 1) for c in cuts} | {0, len(cells)})
    chunks = []
    for a, b in zip(cuts, cuts[1:]):
        whole = pa.array(["x"] * pad + cells[a:b] + ["y"] * pad, type=pa.string())
        chunks.append(whole.slice(pad, b - a))
    return pa.chunked_array(chunks, type=pa.string())


def general_factorize(cells):
    index = {}
    codes = [index.setdefault(c, len(index)) for c in cells]
    return codes, list(index)


@settings(max_examples=150, deadline=None)
@given(cells=st.lists(CELL, max_size=40), cuts=st.lists(st.integers(0, 40), max_size=3),
       pad=st.integers(0, 2))
def test_padded_and_blank_follow_str_isspace(cells, cuts, pad):
    column = ArrowColumn(chunked(cells, cuts, pad))
    padded = [c != "" and (c[0].isspace() or c[-1].isspace()) for c in cells]
    blank = [c == "" or c.isspace() for c in cells]
    assert column.padded().tolist() == padded == ListColumn(cells).padded().tolist()
    assert column.blank().tolist() == blank == ListColumn(cells).blank().tolist()


def shortlex_sorted(cells):
    return sorted(cells, key=lambda c: (len(c.encode()), c.encode()))


@settings(max_examples=150, deadline=None)
@given(cells=st.lists(st.one_of(CELL, st.sampled_from(["a", "b", "é", "ab"])), max_size=40),
       sort=st.booleans(),
       repeat=st.lists(st.integers(1, 3), min_size=40, max_size=40),
       cuts=st.lists(st.integers(0, 80), max_size=3), pad=st.integers(0, 2))
def test_factorize_of_sorted_and_other_columns(cells, sort, repeat, cuts, pad):
    if sort:  # cells in increasing order (length, then bytes), each repeated in a run
        cells = [c for c, r in zip(shortlex_sorted(cells), repeat) for _ in range(r)]
    codes, uniques = ArrowColumn(chunked(cells, cuts, pad)).factorize()
    want_codes, want_uniques = general_factorize(cells)
    assert codes.dtype == np.int64 and codes.tolist() == want_codes
    assert uniques.to_list() == want_uniques
    list_codes, list_uniques = ListColumn(cells).factorize()
    assert list_codes.tolist() == want_codes and list_uniques.to_list() == want_uniques


def test_numbered_ids_are_encoded_from_their_runs():
    ids = [f"ex{i}" for i in range(3000) for _ in range(2)]  # ex9 before ex10: by length
    codes, uniques = ArrowColumn(pa.array(ids)).factorize()
    assert codes.tolist() == [i // 2 for i in range(6000)]
    assert uniques.to_list() == [f"ex{i}" for i in range(3000)]
    # a decrease late in the column (after the first cells looked at) is seen, by length
    # or, between cells of one length, byte by byte
    for last in ("ex0", "ex4000", "ex4998"):
        late = [f"ex{i}" for i in range(5000)] + [last]
        codes, uniques = ArrowColumn(pa.array(late)).factorize()
        assert codes.tolist() == list(range(5000)) + [int(last[2:])] and len(uniques) == 5000
    for cells in (["a", "b", "a"], ["b", "a"], ["a", "a", "b", "a"], ["é", "z", "é"],
                  ["b", "aa", "b"], ["b", "aa", "aa", "b"]):  # longer, then byte-greater
        codes, uniques = ArrowColumn(pa.array(cells)).factorize()
        assert (codes.tolist(), uniques.to_list()) == general_factorize(cells)


@settings(max_examples=200, deadline=None)
@given(codes=st.lists(st.integers(0, 10**7), max_size=300), small=st.booleans(),
       up=st.booleans())
def test_any_repeat_and_first_repeat_match_a_search(codes, small, up):
    codes = np.asarray(codes, dtype=np.int64)
    if small:
        codes %= 50
    if up:  # mostly increasing, as (example, annotator) pairs of a sorted file
        codes = np.sort(codes) + np.arange(codes.size) % 3
    seen, want = {}, None
    for i, c in enumerate(codes.tolist()):
        if c in seen:
            want = (i, seen[c])
            break
        seen[c] = i
    assert _any_repeat(codes) == (want is not None)
    assert first_repeat(codes) == want


def test_any_repeat_on_large_arrays_of_both_kinds():
    rng = np.random.default_rng(0)
    ex = np.repeat(np.arange(200_000), 2) * 50
    pairs = ex + rng.permutation(50)[(np.repeat(rng.integers(0, 50, 200_000), 2)
                                      + np.tile([0, 1], 200_000)) % 50]
    assert not _any_repeat(pairs) and not _any_repeat(rng.permutation(pairs))
    twice = pairs.copy()
    twice[123_457] = twice[98_765]
    assert _any_repeat(twice) and _any_repeat(rng.permutation(twice))
    assert first_repeat(twice) == (123_457, 98_765)


@settings(max_examples=100, deadline=None)
@given(values=st.lists(st.one_of(st.none(), st.floats(allow_nan=False)), max_size=30),
       cuts=st.lists(st.integers(0, 30), max_size=3), pad=st.integers(0, 2))
def test_numbers_into_equals_numbers(values, cuts, pad):
    cuts = sorted({c % (len(values) + 1) for c in cuts} | {0, len(values)})
    chunks = [pa.array([1.0] * pad + values[a:b] + [2.0] * pad, type=pa.float64())
              .slice(pad, b - a) for a, b in zip(cuts, cuts[1:])]
    column = ArrowColumn(pa.chunked_array(chunks, type=pa.float64()))
    block = np.full((len(values), 3), 7.0)
    bad = column.numbers_into(block[:, 1])  # a strided view
    want, not_number = column.numbers()
    assert block[:, 1].tobytes() == want.tobytes()
    assert (block[:, [0, 2]] == 7.0).all()
    assert (bad is None and not not_number.any()) or bad.tolist() == not_number.tolist()
    assert not_number.tolist() == [v is None for v in values]


def test_consecutive_positions_and_subsets():
    assert consecutive(np.arange(3, 9)) == range(3, 9)
    assert consecutive(np.asarray([4])) == range(4, 5)
    for idx in ([], [0, 2], [2, 1, 3, 4][:3], [1, 1, 2], [3, 2, 1]):
        assert consecutive(np.asarray(idx, dtype=np.int64)) is None
    cells = [f"c{i}" for i in range(10)]
    column = ArrowColumn(chunked(cells, [3, 7], 1))
    for idx in ([2, 3, 4, 5], [0], [5, 3], [9, 8, 7], []):
        assert column.subset(np.asarray(idx, dtype=np.int64)).to_list() == [cells[i] for i in idx]


@pytest.mark.parametrize("text,found", [(b"", False), (b"a,b\n1,2\n", False),
                                        (b'a,b\n1,"2"\n', True), (b'a,b\n1,2"', True)])
def test_has_quote(tmp_path, text, found):
    path = tmp_path / "q.csv"
    path.write_bytes(text)
    assert _has_quote(path) is found


CSV_CELLS = ["a", "b,c", '"q"', "=1+1", "-1", "-0.5", "+33 1", "@x", "\tx", "\rx", "x\n", "",
             None, 3, -2, 0.25, "a=b", "é", "'", "-inf", "\x00=", " -1", "1e-05"]


@settings(max_examples=200, deadline=None)
@given(rows=st.lists(st.lists(st.sampled_from(CSV_CELLS), min_size=1, max_size=4), max_size=8),
       width=st.integers(1, 4), ragged=st.booleans())
def test_csv_text_column_by_column_equals_cell_by_cell(rows, width, ragged):
    from skactivelab.cli._write import _csv_cell, format_csv

    if not ragged:
        rows = [(r * width)[:width] for r in rows]
    header = [f"h{j}" for j in range(width)]
    want = "\n".join(",".join(map(_csv_cell, row)) or '""' for row in [header, *rows]) + "\n"
    assert format_csv(header, rows) == want


def _faults_of_second_block(size):
    """Minor page faults of filling a block of ``size`` bytes from ``malloc`` after one of
    the same size was filled and freed (GNU C library, through ctypes)."""
    import ctypes
    import resource

    libc = ctypes.CDLL("libc.so.6")
    libc.malloc.restype = ctypes.c_void_p
    libc.free.argtypes = [ctypes.c_void_p]
    faults = []
    for _ in range(2):
        before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        p = libc.malloc(size)
        ctypes.memset(p, 1, size)
        faults.append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
        libc.free(p)
    return faults[1]


@pytest.fixture
def own_process(monkeypatch):
    """The allocator settings of a command in a process of its own (the ``skactivelab``
    program): in force in this test only."""
    from skactivelab.cli import _common

    monkeypatch.setattr(_common, "_own_process", True)


def test_the_command_keeps_freed_memory_for_reuse_below_its_mapping_threshold(own_process):
    from skactivelab.cli._columns import _KEPT, _M_MMAP_THRESHOLD, _glibc, release_freed, system_allocator

    if _glibc() is None:
        pytest.skip("the GNU C library's allocator only")
    small, large = 4 << 20, 48 << 20  # below and above the threshold inside (8 MB)
    assert small < _KEPT[_M_MMAP_THRESHOLD] < large
    pool = pa.default_memory_pool().backend_name
    with system_allocator():
        assert pa.default_memory_pool().backend_name == "system"
        small_inside = _faults_of_second_block(small)
        large_inside = _faults_of_second_block(large)
        release_freed()
    small_after = _faults_of_second_block(small)  # the library's defaults are back: mapped
    pages = small // 4096
    # a small block's pages are reused; a large one is mapped afresh (its pages returned
    # when freed), as is a small one once the defaults are back
    assert small_inside < pages / 10, small_inside
    assert large_inside > (large // 4096) / 2, large_inside
    assert small_after > pages / 2, small_after
    assert pa.default_memory_pool().backend_name == pool


def _mapped_bytes_of_blocks(size, count):
    """Bytes of ``count`` blocks of ``size`` bytes (held together, then freed) that the
    GNU C library's ``malloc`` gave pages of their own (``mallinfo2``'s ``hblkhd``)."""
    import ctypes

    class Info(ctypes.Structure):
        _fields_ = [(name, ctypes.c_size_t) for name in (
            "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks",
            "uordblks", "fordblks", "keepcost")]

    libc = ctypes.CDLL("libc.so.6")
    if not hasattr(libc, "mallinfo2"):
        pytest.skip("mallinfo2 (GNU C library 2.33 or later) only")
    libc.mallinfo2.restype = Info
    libc.malloc.restype = ctypes.c_void_p
    libc.free.argtypes = [ctypes.c_void_p]
    before = libc.mallinfo2().hblkhd
    blocks = [libc.malloc(size) for _ in range(count)]
    mapped = libc.mallinfo2().hblkhd - before
    for p in blocks:
        libc.free(p)
    return mapped


def test_reading_gives_blocks_of_64_kb_or_more_pages_of_their_own_inside_a_command_only(own_process):
    from skactivelab.cli._columns import (_READING_MMAP_THRESHOLD, _glibc, reading,
                                          system_allocator)

    if _glibc() is None:
        pytest.skip("the GNU C library's allocator only")
    size, count = 256 << 10, 64  # 16 MB of blocks above the reading's threshold (64 KB)
    assert _READING_MMAP_THRESHOLD < size
    with system_allocator():
        with reading():
            while_reading = _mapped_bytes_of_blocks(size, count)
        after_reading = _mapped_bytes_of_blocks(size, count)
    with reading():  # outside a command: the library's own rules, nothing changed
        outside = _mapped_bytes_of_blocks(96 << 10, count)
    # while reading, blocks the heap cannot hold in its free memory are mapped (their pages
    # returned when freed) instead of growing the heap; after, the command's settings are
    # back (blocks below 8 MB come from the heap), and outside nothing was changed
    assert while_reading >= size * count // 2, while_reading
    assert after_reading == 0, after_reading
    assert outside == 0, outside


def test_a_reading_inside_a_reading_leaves_the_outer_readings_threshold(own_process):
    from skactivelab.cli._columns import _glibc, reading, system_allocator

    if _glibc() is None:
        pytest.skip("the GNU C library's allocator only")
    size, count = 256 << 10, 64  # 16 MB of blocks above the reading's threshold (64 KB)
    with system_allocator():
        with reading():
            with reading():
                inner = _mapped_bytes_of_blocks(size, count)
            outer_after_inner = _mapped_bytes_of_blocks(size, count)
        after = _mapped_bytes_of_blocks(size, count)
    # the rest of the outer reading still maps its large blocks (the inner one's exit
    # does not bring back the command's 8 MB early); after both, the command's settings
    assert inner >= size * count // 2, inner
    assert outer_after_inner >= size * count // 2, outer_after_inner
    assert after == 0, after


_FAULTS_AFTER = """
import ctypes, resource, sys
from skactivelab import cli
run = cli.console_main if sys.argv[1] == "program" else cli.main
assert run(sys.argv[2:]) == 0
libc = ctypes.CDLL("libc.so.6")
libc.malloc.restype = ctypes.c_void_p
libc.free.argtypes = [ctypes.c_void_p]
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(200):  # 1 MB blocks, as NumPy's temporaries come
    p = libc.malloc(1 << 20)
    ctypes.memset(p, 1, 1 << 20)
    libc.free(p)
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def test_a_command_inside_a_longer_process_leaves_the_allocator_as_it_found_it(tmp_path):
    """The C library raises its mapping threshold as large blocks are freed (a 1 MB block
    is then reused, not mapped afresh each time) unless ``mallopt`` ever set a value: the
    command tunes the allocator only as a program of its own."""
    import subprocess
    import sys

    from skactivelab.cli._columns import _glibc

    if _glibc() is None:
        pytest.skip("the GNU C library's allocator only")
    (tmp_path / "ann.csv").write_text(
        "example_id,annotator_id,label\n" + "".join(
            f"e{i},a{j},{'xy'[(i + j) % 2]}\n" for i in range(30) for j in range(2)))
    (tmp_path / "p.csv").write_text(
        "id,x,y\n" + "".join(f"e{i},0.{3 + i % 5},0.{7 - i % 5}\n" for i in range(40)))
    argv = ["score", "--annotations", str(tmp_path / "ann.csv"), "--pred-probs",
            str(tmp_path / "p.csv"), "--batch", "5", "--out", str(tmp_path / "next.csv"),
            "--quiet"]
    faults = {}
    for how in ("library", "program"):
        out = subprocess.run([sys.executable, "-c", _FAULTS_AFTER, how, *argv],
                             capture_output=True, text=True, check=True).stdout
        faults[how] = int(out.split()[-1])
    pages = (1 << 20) // 4096
    # inside a longer process the blocks are reused (a few faults in all); after the
    # program's own settings (which it never needs to undo) each block is mapped afresh
    assert faults["library"] < 10 * pages, faults
    assert faults["program"] > 100 * pages, faults


def test_the_command_line_makes_the_system_allocator_pyarrows_default_pool():
    """In a fresh process, pyarrow's C++ default pool (which its readers and kernels use)
    is the system allocator during a command, and the variable that chose it is gone after."""
    import subprocess
    import sys

    code = (
        "import os, sys\n"
        "from skactivelab import cli\n"
        "assert 'pyarrow' not in sys.modules\n"
        "with cli.arrow_system_pool():\n"
        "    import pyarrow as pa\n"
        "    inside = pa.default_memory_pool().backend_name\n"
        "print(inside, os.environ.get('ARROW_DEFAULT_MEMORY_POOL'))\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "ARROW_DEFAULT_MEMORY_POOL"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         check=True).stdout.split()
    assert out == ["system", "None"], out
    # a value of the user's is kept
    env["ARROW_DEFAULT_MEMORY_POOL"] = "mimalloc"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         check=True).stdout.split()
    assert out == ["mimalloc", "mimalloc"], out


def test_held_on_disk_keeps_the_cells_and_falls_back_to_memory(monkeypatch):
    import tempfile

    from skactivelab.cli import _columns
    from skactivelab.cli._columns import held_on_disk

    monkeypatch.setattr(_columns, "_in_memory_filesystem", lambda path: False)  # (any /tmp)
    cells = [f"id-{i}" for i in range(5000)] + ["", "é,\"x\"", "  padded "]
    column = ArrowColumn(pa.chunked_array([pa.array(cells[:3000]), pa.array(cells[3000:])]))
    assert held_on_disk(column) is column  # below the default size: no file written
    held = held_on_disk(column, min_bytes=0)
    assert held is not column and isinstance(held, ArrowColumn)
    assert held.to_list() == cells and held.n == len(cells)
    np.testing.assert_array_equal(held.positions_in(column), np.arange(len(cells)))
    # the cells are read from the mapped file: none of its buffers is one of the column's
    ours = {b.address for chunk in column.array.chunks for b in chunk.buffers() if b is not None}
    theirs = {b.address for chunk in held.array.chunks for b in chunk.buffers() if b is not None}
    assert not ours & theirs
    listed = ListColumn(cells)
    assert held_on_disk(listed, min_bytes=0) is listed

    def no_space(*a, **k):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(tempfile, "TemporaryFile", no_space)
    assert held_on_disk(column, min_bytes=0) is column


def test_held_on_disk_only_where_the_temporary_directory_is_on_disk(tmp_path, monkeypatch):
    from skactivelab.cli import _columns

    mounts = tmp_path / "mounts"
    mounts.write_text("/dev/vda / ext4 rw 0 0\n"
                      "tmpfs /tmp tmpfs rw,nosuid 0 0\n"
                      "/dev/vdb /tmp/on\\040disk ext4 rw 0 0\n"
                      "tmpfs /tmpdata tmpfs rw 0 0\n")
    f = _columns._in_memory_filesystem
    assert f("/tmp", str(mounts)) and f("/tmp/x/y", str(mounts))
    assert not f("/tmp/on disk/z", str(mounts))  # a longer mount point inside it, on disk
    assert not f("/tmpx", str(mounts)) and not f("/home", str(mounts))  # "/" (ext4)
    assert f("/tmpdata/a", str(mounts))
    assert not f("/tmp", str(tmp_path / "no such table"))
    column = ArrowColumn(pa.array([f"id-{i}" for i in range(100)]))
    monkeypatch.setattr(_columns, "_in_memory_filesystem", lambda path: True)
    assert _columns.held_on_disk(column, min_bytes=0) is column  # tmpfs: nothing saved
    monkeypatch.setattr(_columns, "_in_memory_filesystem", lambda path: False)
    assert _columns.held_on_disk(column, min_bytes=0) is not column


@pytest.mark.parametrize("case", ["shuffled", "repeat", "sorted", "two", "empty_and_padded"])
def test_factorize_distinct_gives_what_python_gives(case):
    rng = np.random.default_rng(len(case))
    cells = [f"id{i}" for i in rng.permutation(3000)]
    if case == "repeat":
        cells[2500] = cells[17]
    elif case == "sorted":
        cells = sorted(cells, key=lambda c: (len(c), c))
    elif case == "two":
        cells = ["b", "a"]
    elif case == "empty_and_padded":
        cells[5], cells[9] = "", " id9x"
    column = ArrowColumn(pa.chunked_array([cells[:1000], cells[1000:]], type=pa.string()))
    codes, uniques = column.factorize_distinct()
    want_codes, want_uniques = ListColumn(cells).factorize()  # the oracle: a dict in Python
    np.testing.assert_array_equal(codes, want_codes)
    assert uniques.to_list() == want_uniques.to_list()


@pytest.mark.parametrize("order", ["increasing", "repeats", "any"])
def test_subset_of_a_chunked_column_is_the_cells_asked_for(order):
    rng = np.random.default_rng(len(order))
    cells = [f"c{i}é" if i % 7 == 0 else f"c{i}" for i in range(500)]
    sizes = [0, 120, 0, 1, 250, 129]  # empty chunks too
    at = np.cumsum([0] + sizes)
    column = ArrowColumn(pa.chunked_array([cells[a:b] for a, b in zip(at[:-1], at[1:])],
                                          type=pa.string()))
    for _ in range(20):
        idx = np.sort(rng.choice(500, size=int(rng.integers(2, 300)), replace=order == "repeats"))
        if order == "any":
            idx = rng.permutation(idx)
        got = column.subset(idx)
        assert got.to_list() == [cells[i] for i in idx.tolist()]  # the oracle: Python's list


@pytest.mark.parametrize("order", ["shuffled", "sorted"])
@pytest.mark.parametrize("kind", ["float", "dictionary"])
def test_an_id_written_as_nothing_is_empty_in_any_column_type(kind, order):
    """A NaN in a float ID column, or ``""`` in a dictionary-encoded one (a categorical
    written by pandas), reads as an empty cell: the ID column's check names its row, as
    it does for a plain text column, whatever the order of the other IDs."""
    from skactivelab.cli._tables import InputFileError, Table
    from skactivelab.cli._tabular import unique_ids

    values = [3.0, float("nan"), 1.0, 2.0] if order == "shuffled" else [float("nan"), 1.0, 2.0]
    array = pa.array(values)
    if kind == "dictionary":
        array = pa.array(["" if v != v else str(int(v)) for v in values]).dictionary_encode()
    column = ArrowColumn(array)
    assert "" in column.to_list()  # the cell as text
    table = Table("ids.parquet", ["example_id"], [column], np.arange(2, 2 + len(values)))
    with pytest.raises(InputFileError) as err:
        unique_ids(table, 0, "example ID")
    row = 2 + int(np.isnan(values).argmax())
    assert str(err.value) == (f"ids.parquet, row {row}: column 'example_id' is empty. "
                              "Give every row its example ID.")
