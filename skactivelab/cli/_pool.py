"""``score --unlabeled-pred-probs`` as Parquet files: streamed in chunks, or on a Dask cluster.

The pool's probabilities (an example-ID column and one column per class, like
any probability file) are read chunk by chunk with pyarrow, checked like any
probability file, scored against the labeled part computed once, and only the
``batch`` lowest scores are kept: a running top-k merge whose order is the
in-memory one (score, then position: the labeled examples, then the pool in file
order). With a Dask scheduler, pieces of the files (groups of row groups) are
scored on the workers, which read the files themselves, and this process merges
their top-k. Besides one chunk, this process keeps 8 bytes per pool row: a hash
of its example ID, to find an ID given twice. See ``docs/command_line.md``.
"""

from __future__ import annotations

import glob
import os
import re
import time
from dataclasses import dataclass

import numpy as np

from ._columns import ArrowColumn, cell_text
from ._probs import check_prob_rows, prob_id_column
from ._tables import InputFileError, ProbTable, Table

__all__ = ["PARQUET_SUFFIXES", "PoolSpec", "check_scheduler_address", "is_parquet_pool", "plan_pool", "resolve_pool_files",
           "score_pool"]

PARQUET_SUFFIXES = (".parquet", ".pq")
_GLOB = re.compile(r"[*?\[]")
_SAMPLE_ROWS = 1000  # rows of the first file looked at to find the ID column
_INDEX_COLUMN = re.compile(r"__index_level_\d+__")  # pandas' unnamed index, not data


def check_scheduler_address(address):
    """Refuse a ``--scheduler`` that is no Dask scheduler address, before any work (and
    before a client is made: a half-made one complains at exit)."""
    try:
        from distributed.comm import parse_address
        from distributed.comm.addressing import parse_host_port
        from distributed.comm.registry import get_backend
    except ImportError:
        raise ValueError(f"--scheduler {address}: scoring on a Dask cluster needs dask and "
                         "distributed; install them (pip install 'skactivelab[dask]'), or "
                         "leave --scheduler out to stream the pool here.") from None
    try:
        scheme, location = parse_address(address, strict=False)
        get_backend(scheme)
        if scheme in ("tcp", "tls", "ws", "wss", "ucx"):
            parse_host_port(location)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"--scheduler {address} is not a Dask scheduler address "
                         f"({' '.join(str(exc).split())}); give one like tcp://host:8786.") \
            from None


def is_parquet_pool(paths):
    """Whether the pool files given are Parquet (a file, a directory or a glob of them)."""
    return any(os.path.isdir(p) or p.lower().endswith(PARQUET_SUFFIXES)
               or (_GLOB.search(p) and not os.path.exists(p)) for p in map(str, paths))


def _parquet_below(directory):
    """Parquet files below ``directory`` sorted by relative path, without hidden files
    and the ``_SUCCESS``/``_metadata`` side files (as pyarrow and Dask skip them)."""
    found = []
    for root, dirs, files in os.walk(directory):
        dirs[:] = [d for d in dirs if not d.startswith((".", "_"))]
        found += [os.path.join(root, f) for f in files
                  if not f.startswith((".", "_")) and f.lower().endswith(PARQUET_SUFFIXES)]
    return sorted(found, key=lambda f: os.path.relpath(f, directory).split(os.sep))


def resolve_pool_files(paths, option):
    """The Parquet files of the pool, in order: each path is a file, a directory
    (its Parquet files, sorted by name) or a glob pattern (its matches, sorted)."""
    files = []
    for p in map(str, paths):
        if os.path.isdir(p):
            found = _parquet_below(p)
            if not found:
                raise InputFileError(p, None, "is a directory without Parquet files (*.parquet, *.pq)",
                                     f"Give {option} Parquet files, a directory of them or a glob "
                                     "such as 'pool/*.parquet'.")
        elif os.path.isfile(p):
            found = [p]
        elif _GLOB.search(p):
            found = sorted(f for f in glob.glob(p, recursive=True) if os.path.isfile(f))
            if not found:
                raise InputFileError(p, None, "matches no file",
                                     f"Check the pattern given to {option} (quote it so that the "
                                     "shell does not expand it).")
        else:
            raise InputFileError(p, None, "cannot be read (No such file or directory)",
                                 f"Check the path given to {option}.")
        for f in found:
            if not f.lower().endswith(PARQUET_SUFFIXES):
                raise InputFileError(f, None, "is not a Parquet file (.parquet, .pq)",
                                     f"Give {option} one CSV or .npy file, or Parquet files only.")
        files += found
    seen = {}
    for f in files:
        key = os.path.realpath(f)
        if key in seen:
            raise InputFileError(f, None, f"is given twice (also as {seen[key]})",
                                 f"Name each file of {option} once.")
        seen[key] = f
    return files


# --------------------------------------------------------------------------- layout
@dataclass
class PoolSpec:
    """What scoring any chunk of the pool needs (sent once to each Dask worker)."""

    option: str
    id_column: str | None
    int_ids: bool  # every file's ID column holds integers: compared as int64
    class_columns: list  # pool column of each class, in the labeled column order
    stats: object  # the fitted labeled phase (skactivelab._phases.fit_labeled)
    known: object  # pandas Index of the example IDs already named elsewhere
    batch: int
    chunk_rows: int


@dataclass(frozen=True)
class Piece:
    """Rows of one file scored by one task: ``row_groups`` (None: all), whose first
    row is row ``first_row`` (1-based) of the file and pool position ``first_pos``."""

    index: int
    path: str
    row_groups: tuple | None
    first_row: int
    first_pos: int
    n_rows: int


def _open(path, option):
    import pyarrow.parquet as pq

    try:
        return pq.ParquetFile(path)
    except Exception as exc:  # pyarrow raises its own types
        if isinstance(exc, OSError) and not os.path.exists(path):
            problem = "cannot be read (No such file or directory)"
        else:
            problem = f"cannot be read as Parquet ({' '.join(str(exc).split())})"
        raise InputFileError(path, None, problem,
                             f"Give {option} Parquet files written by pandas, pyarrow or Dask, "
                             "readable where the scoring runs.") from None


def _columns(pf):
    return [n for n in pf.schema_arrow.names if not _INDEX_COLUMN.fullmatch(n)]


def _sample(pf, path, names):
    """A few first rows, to find the ID column like in a probability table."""
    for batch in pf.iter_batches(batch_size=_SAMPLE_ROWS, columns=names):
        return Table(path, list(names), [ArrowColumn(batch.column(n)) for n in names],
                     np.arange(1, batch.num_rows + 1, dtype=np.int64))
    return Table(path, list(names), [ArrowColumn(pf.schema_arrow.empty_table().column(n))
                                     for n in names], np.zeros(0, dtype=np.int64))


def plan_pool(files, *, option, classes, by_position, labeled_path, class_names, id_column, usual, stats,
              known_ids, batch, chunk_rows, piece_rows=None):
    """Check the files' columns (before any scoring) and split them into pieces.

    Returns ``(spec, pieces, n_rows)``. Every file must have the same columns: an
    example-ID column (found as in a probability CSV; required when there are
    several files) and one numeric column per class of the labeled probabilities
    ``classes`` (matched by name, any order; by position when ``by_position``: the
    labeled probabilities are a ``.npy`` file).
    """
    opened = [_open(f, option) for f in files]
    names = _same_columns(files, opened, option)
    table = _sample(opened[0], files[0], names)
    cid = prob_id_column(table, class_names, id_column, "--example-column", usual)
    id_name = None if cid is None else names[cid]
    if id_name is None and len(files) > 1:
        raise InputFileError(files[0], None,
                             f"has no example-ID column (columns: {names[:8]}), and the pool has "
                             f"{len(files)} files",
                             "Add an example-ID column to every file (or pass --example-column "
                             "NAME), so that each row keeps its ID.")
    pool_classes = [n for n in names if n != id_name]
    K = len(classes)
    if len(pool_classes) != K:
        raise InputFileError(files[0], None, f"has {len(pool_classes)} class columns but "
                             f"{labeled_path} has {K}", "Give both the same classes.")
    if not by_position and set(pool_classes) != set(classes):
        diff = sorted(set(pool_classes) ^ set(classes))
        raise InputFileError(files[0], None,
                             f"its class columns differ from those of {labeled_path}: {diff[:5]}",
                             "Name the class columns exactly as in the labeled probabilities.")
    class_columns = pool_classes if by_position else list(classes)
    int_ids = _column_types(files, opened, class_columns, id_name, option)
    spec = PoolSpec(option, id_name, int_ids, class_columns, stats,
                    _known_index(known_ids, int_ids), batch, chunk_rows)
    pieces, n_rows = _pieces(files, opened, piece_rows)
    return spec, pieces, n_rows


def _same_columns(files, opened, option):
    """The columns of the first file, which every file must have."""
    names = _columns(opened[0])
    for f, pf in zip(files[1:], opened[1:]):
        other = _columns(pf)
        if set(other) != set(names):
            extra = [c for c in other if c not in set(names)]
            missing = [c for c in names if c not in set(other)]
            said = "; ".join(s for s in (f"no column {missing[:5]}" if missing else "",
                                         f"extra column {extra[:5]}" if extra else "") if s)
            raise InputFileError(f, None, f"its columns differ from those of {files[0]} ({said})",
                                 f"Give every file of {option} the same columns: the example-ID "
                                 "column and one column per class.")
    return names


def _column_types(files, opened, class_columns, id_name, option):
    """Class columns must hold numbers in every file; True when the ID column holds
    integers in every file (IDs then compared as int64)."""
    import pyarrow.types as pat

    int_ids = id_name is not None
    for f, pf in zip(files, opened):
        schema = pf.schema_arrow
        for c in class_columns:
            t = schema.field(c).type
            if not (pat.is_integer(t) or pat.is_floating(t) or pat.is_decimal(t) or pat.is_null(t)):
                raise InputFileError(f, None, f"column {c!r} holds {t}, not numbers",
                                     f"Give {option} one numeric probability column per class.")
        if id_name is not None and not pat.is_integer(schema.field(id_name).type):
            int_ids = False
    return int_ids


def _known_index(known_ids, int_ids):
    """The example IDs named elsewhere, as a pandas Index of the pool's ID type."""
    import pandas as pd

    if int_ids:  # only IDs written as plain integers can equal an integer ID
        keys = [int(x) for x in known_ids if re.fullmatch(r"-?(0|[1-9]\d*)", x)]
        return pd.Index(np.asarray(keys, dtype=np.int64))
    return pd.Index(np.asarray(list(known_ids), dtype=object))


def _pieces(files, opened, piece_rows):
    """``(pieces, n_rows)``: one piece per file (streamed in chunks), or with
    ``piece_rows`` groups of whole row groups of about that many rows (Dask tasks)."""
    pieces, pos = [], 0
    for f, pf in zip(files, opened):
        sizes = [pf.metadata.row_group(g).num_rows for g in range(pf.num_row_groups)]
        if piece_rows is None:
            groups = [(None, sum(sizes))]
        else:
            groups, cur, n = [], [], 0
            for g, m in enumerate(sizes):
                cur.append(g)
                n += m
                if n >= piece_rows:
                    groups.append((tuple(cur), n))
                    cur, n = [], 0
            if cur or not groups:
                groups.append((tuple(cur), n))
        row = 1
        for rgs, m in groups:
            pieces.append(Piece(len(pieces), f, rgs, row, pos, m))
            row, pos = row + m, pos + m
    return pieces, pos


# --------------------------------------------------------------------------- one piece
class _AlsoNamed(Exception):
    """A pool ID already named by the annotations or --pred-probs (worded by the caller)."""

    def __init__(self, path, row, example_id):
        super().__init__(path, row, example_id)
        self.path, self.row, self.example_id = path, row, example_id


def _first(mask):
    return int(np.flatnonzero(mask)[0])


def _id_keys(batch, spec, path, lines):
    """Example IDs of a chunk: int64 (integer ID columns) or an object array of text."""
    import pyarrow as pa
    import pyarrow.types as pat

    col = batch.column(spec.id_column)
    empty_fix = "Give every row its example ID."
    if col.null_count:
        i = _first(col.is_null().to_numpy(zero_copy_only=False))
        raise InputFileError(path, int(lines[i]), f"column {spec.id_column!r} is empty", empty_fix)
    if spec.int_ids:
        return col.cast(pa.int64()).to_numpy()
    if pat.is_integer(col.type):
        return col.to_numpy().astype(str).astype(object)
    if pat.is_string(col.type) or pat.is_large_string(col.type):
        padded = ArrowColumn(col).padded()
        if padded.any():
            i = _first(padded)
            raise InputFileError(path, int(lines[i]), f"example ID {col[i].as_py()!r} (column "
                                 f"{spec.id_column!r}) starts or ends with white space",
                                 "IDs, annotators and labels are matched exactly: remove the "
                                 "spaces around it.")
        keys = col.to_numpy(zero_copy_only=False)
    else:
        keys = np.array([cell_text(v) for v in col.to_pylist()], dtype=object)
    blank = keys == ""
    if blank.any():
        raise InputFileError(path, int(lines[_first(blank)]), f"column {spec.id_column!r} is empty",
                             empty_fix)
    return keys


def _probabilities(batch, spec, path, lines):
    """(m, K) float64 in the labeled column order, checked and renormalised like a CSV."""
    import pyarrow as pa

    P = np.empty((batch.num_rows, len(spec.class_columns)))
    for k, name in enumerate(spec.class_columns):
        col = batch.column(name)
        if col.null_count:
            i = _first(col.is_null().to_numpy(zero_copy_only=False))
            raise InputFileError(path, int(lines[i]), f"column {name!r} is empty",
                                 f"Give {spec.option} as plain numbers (like 0.25).")
        P[:, k] = col.cast(pa.float64()).to_numpy(zero_copy_only=False)
    bad = ~np.isfinite(P)
    if bad.any():
        i, k = np.argwhere(bad)[0]
        name = spec.class_columns[k]
        problem = (f"column {name!r} is empty" if np.isnan(P[i, k]) else
                   f"column {name!r} holds {str(P[i, k])!r}")
        raise InputFileError(path, int(lines[i]), problem,
                             f"Give {spec.option} as finite numbers (like 0.25).")
    tab = ProbTable(path, P, [str(c) for c in spec.class_columns], None, lines)
    return check_prob_rows(tab, spec.option).probs


def _id_text(keys, positions, spec):
    if spec.id_column is None:
        return np.array([f"unlabeled:{p}" for p in positions.tolist()], dtype=object)
    if spec.int_ids:
        return np.array([str(x) for x in keys.tolist()], dtype=object)
    return keys


@dataclass
class PieceResult:
    index: int
    n_rows: int = 0
    top: tuple = ()  # (scores, positions, ids) of the piece's batch lowest
    hashes: np.ndarray | None = None  # one per row, in row order
    min_score: float = np.inf
    error: Exception | None = None
    error_pos: int = -1


def score_piece(piece, spec, one_thread=False):
    """Score the rows of ``piece``; a bad row ends it with ``error`` set (not raised,
    so that the caller reports the first bad row of the whole pool)."""
    import pandas as pd

    from .._config import config_context
    from .._phases import score_rows
    from ..query import RunningTopK, lowest

    pf = _open(piece.path, spec.option)
    cols = ([spec.id_column] if spec.id_column else []) + list(spec.class_columns)
    top, hashes, n = RunningTopK(spec.batch), [], 0
    res = PieceResult(piece.index)
    threads = {"n_threads": 1} if one_thread else {}
    # row groups=None: all; an empty tuple: a file without rows
    groups = None if piece.row_groups is None else list(piece.row_groups)
    batches = (pf.iter_batches(batch_size=spec.chunk_rows, row_groups=groups, columns=cols,
                               use_threads=not one_thread) if groups is None or groups else ())
    with config_context(**threads):
        for batch in batches:
            m = batch.num_rows
            if not m:
                continue
            lines = np.arange(piece.first_row + n, piece.first_row + n + m, dtype=np.int64)
            positions = piece.first_pos + n + np.arange(m, dtype=np.int64)
            try:
                keys = None if spec.id_column is None else _id_keys(batch, spec, piece.path, lines)
                P = _probabilities(batch, spec, piece.path, lines)
                if keys is not None:
                    hashes.append(pd.util.hash_array(keys))
                    if len(spec.known):
                        hit = spec.known.get_indexer(keys) >= 0
                        if hit.any():
                            i = _first(hit)
                            raise _AlsoNamed(piece.path, int(lines[i]), _id_text(keys[i:i + 1], positions[i:i + 1], spec)[0])
                s = score_rows(spec.stats, P[None])  # P: checked above, ours to overwrite
            except (InputFileError, _AlsoNamed) as exc:
                res.error = exc
                res.error_pos = piece.first_pos + (exc.row - piece.first_row if exc.row else n)
                return res
            sel = lowest(s, positions, spec.batch)
            top.add(s[sel], positions[sel], _id_text(None if keys is None else keys[sel], positions[sel], spec))
            res.min_score = min(res.min_score, float(s.min()))
            n += m
    res.n_rows = n
    res.top = (top.scores, top.positions, top.payload)
    res.hashes = np.concatenate(hashes) if hashes else np.empty(0, dtype=np.uint64)
    return res


# --------------------------------------------------------------------------- whole pool
@dataclass
class PoolScores:
    """The pool's ``batch`` lowest: ``ids`` and ``scores`` in pool order; ``n_rows`` in all."""

    ids: list
    scores: np.ndarray
    n_rows: int
    min_score: float


def _raise(exc, where):
    """Raise the problem of a piece; ``where(x)`` says where else example ID ``x`` is named."""
    if isinstance(exc, _AlsoNamed):
        raise InputFileError(exc.path, exc.row, f"example ID {exc.example_id!r} is also "
                             f"{where(exc.example_id)}",
                             "Every example must appear once: keep it in one file only.")
    raise exc


def _ids_with_hash(pieces, spec, wanted):
    """``(position, row, path, ID text)`` of every pool row whose ID hash is in ``wanted``."""
    import pandas as pd

    found = []
    for piece in pieces:
        pf = _open(piece.path, spec.option)
        groups = None if piece.row_groups is None else list(piece.row_groups)
        if groups is not None and not groups:
            continue
        n = 0
        for batch in pf.iter_batches(batch_size=spec.chunk_rows, row_groups=groups,
                                     columns=[spec.id_column]):
            m = batch.num_rows
            lines = np.arange(piece.first_row + n, piece.first_row + n + m, dtype=np.int64)
            keys = _id_keys(batch, spec, piece.path, lines)
            for i in np.flatnonzero(np.isin(pd.util.hash_array(keys), wanted)).tolist():
                x = _id_text(keys[i:i + 1], lines[i:i + 1], spec)[0]
                found.append((piece.first_pos + n + i, int(lines[i]), piece.path, x))
            n += m
    return found


def _check_unique(hashes, pieces, spec):
    """Raise at the first row (in pool order) whose example ID an earlier row has.

    ``hashes`` (one per pool row, 8 bytes each) is sorted in place: an ID given
    twice shows as equal neighbours; only then are the files read again to find
    the rows (and to tell a true duplicate from a collision of two IDs' hashes).
    """
    if hashes.size < 2:
        return
    hashes.sort()
    wanted = np.unique(hashes[1:][hashes[1:] == hashes[:-1]])
    if not wanted.size:
        return
    first = {}
    for pos, row, path, x in sorted(_ids_with_hash(pieces, spec, wanted)):
        if x not in first:
            first[x] = (row, path)
            continue
        r1, p1 = first[x]
        if p1 == path:
            raise InputFileError(path, row, f"example ID {x!r} already appears on row {r1}",
                                 "Give each example ID one row only.")
        raise InputFileError(path, row, f"example ID {x!r} is also in {p1} (row {r1})",
                             "Every example must appear once: keep it in one file only.")


def score_pool(spec, pieces, *, where, client=None, address=None, progress=None):
    """Score every piece (here, or on the Dask ``client``) and keep the batch lowest.

    Raises the first problem of the pool in row order (:class:`InputFileError`),
    or :class:`skactivelab._dask.SchedulerError` when the cluster is lost.
    """
    from ..query import RunningTopK

    top, n_rows, min_score = RunningTopK(spec.batch), 0, np.inf
    total = sum(p.n_rows for p in pieces)
    hashes = np.empty(total if spec.id_column is not None else 0, dtype=np.uint64)
    said = [time.perf_counter()]

    def merge(res):
        nonlocal n_rows, min_score
        top.add(*res.top)
        if spec.id_column is not None:
            lo = pieces[res.index].first_pos
            hashes[lo:lo + res.hashes.size] = res.hashes
        n_rows += res.n_rows
        min_score = min(min_score, res.min_score)
        if progress is not None and (time.perf_counter() - said[0] >= 5 or n_rows == total):
            said[0] = time.perf_counter()  # one line every 5 s at most
            progress(f"scored {n_rows:,} of {total:,} pool rows")

    if client is None:
        for piece in pieces:
            res = score_piece(piece, spec)
            if res.error is not None:
                _raise(res.error, where)
            merge(res)
    else:
        errors = _on_cluster(client, address, pieces, spec, merge)
        if errors:
            _raise(min(errors, key=lambda r: r.error_pos).error, where)
    if spec.id_column is not None:
        _check_unique(hashes, pieces, spec)
    positions, scores, ids = top.in_position_order()
    return PoolScores(list(ids), scores, n_rows, min_score)


def _on_cluster(client, address, pieces, spec, merge):
    """Score the pieces on the workers; merge each result as it arrives."""
    import concurrent.futures

    import distributed

    from .._dask import SchedulerError

    errors = []
    try:
        with client.as_current():  # the client is not the process's default one
            [spec_future] = client.scatter([spec], broadcast=True, hash=False)
            futures = client.map(score_piece, pieces, spec=spec_future, one_thread=True,
                                 pure=False)
            for fut in distributed.as_completed(futures):
                res = fut.result()
                if res.error is not None:
                    errors.append(res)
                else:
                    merge(res)
    except (OSError, concurrent.futures.CancelledError, distributed.KilledWorker) as exc:
        raise SchedulerError(
            f"lost the Dask scheduler at {address} while scoring the pool "
            f"({' '.join(str(exc).split()) or type(exc).__name__}); nothing was written. "
            "Check that the scheduler and its workers are running, then run the command again."
        ) from None
    return errors
