"""Writing the outputs: all of them or none, never over an input, never through a link
or into a device; ``-`` is standard output.

See ``docs/command_line.md`` (decisions 8 and 9).
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path

from ._signals import Interrupted, signals_as_exceptions, signals_held

__all__ = [
    "STDOUT",
    "OutputPathError",
    "PartialWriteError",
    "check_output_paths",
    "format_csv",
    "neutralise_cell",
    "write_files_atomically",
]

#: The output path that means standard output.
STDOUT = "-"

#: How a spreadsheet formula starts (OWASP, CSV injection): a text cell starting so is
#: written with a leading single quote, unless it is a plain number.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def neutralise_cell(cell):
    """``cell`` as written to a CSV output: a text that a spreadsheet would run as a formula
    gets a leading ``'``; numbers (``-0.5``, ``-1``) and other values are unchanged.

    Examples
    --------
    >>> [neutralise_cell(c) for c in ["=HYPERLINK(1)", "@x", "-1", "-1+2", "+33 1", "a=b", 3]]
    ["'=HYPERLINK(1)", "'@x", '-1', "'-1+2", "'+33 1", 'a=b', 3]
    """
    if isinstance(cell, str) and cell.startswith(FORMULA_START) and not _PLAIN_NUMBER.fullmatch(
            cell):
        return "'" + cell
    return cell


def _csv_cell(cell):
    """One cell as CSV text: quoted when it holds a comma, a quote or a line break (CR
    included, which the ``csv`` module leaves bare with ``\\n`` line ends)."""
    text = "" if cell is None else str(neutralise_cell(cell))
    if any(c in text for c in ',"\n\r'):
        return '"' + text.replace('"', '""') + '"'
    return text


def format_csv(header, rows):
    """CSV text (``,``, ``\\n`` line ends) of a header and rows of cells (str() of each),
    text cells neutralised (:func:`neutralise_cell`).

    Examples
    --------
    >>> print(format_csv(["id", "label"], [["a,b", "=1+1"], ["c", -1]]), end="")
    id,label
    "a,b",'=1+1
    c,-1
    """
    rows = [header, *rows]
    width = len(header)
    if all(len(row) == width for row in rows):  # column by column
        columns = [_csv_column([row[j] for row in rows]) for j in range(width)]
        lines = map(",".join, zip(*columns)) if width else ("" for _ in rows)
    else:
        lines = (",".join(map(_csv_cell, row)) for row in rows)
    return "\n".join(line or '""' for line in lines) + "\n"  # '""': not a blank line


#: what a column's text is searched for: a character to quote, a text starting like a formula
_SPECIAL = (",", '"', "\n", "\r") + tuple("\x00" + c for c in FORMULA_START)


def _csv_column(cells):
    """:func:`_csv_cell` of each cell of a column; a column without an empty (None) cell,
    a character to quote or a text starting like a formula is written as ``str`` gives it,
    found by searching the column's text joined once."""
    if None not in cells:
        texts = list(map(str, cells))
        joined = "\x00" + "\x00".join(texts)
        if not any(s in joined for s in _SPECIAL):
            return texts
    return list(map(_csv_cell, cells))


class OutputPathError(ValueError):
    """An output path that cannot be written (a directory, an input file, a link, ...).

    Raised before anything is written, so nothing changes on disk.
    """


class PartialWriteError(OSError):
    """A failed write whose rollback failed too: some targets hold new content."""


def _current_umask():
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _same_file(a, b):
    """True when paths ``a`` and ``b`` name the same file (symlinks, ``./``, hard links);
    ``-`` (standard output) is only itself."""
    if STDOUT in (a, b):
        return a == b
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.realpath(a) == os.path.realpath(b)


_KINDS = ((stat.S_ISLNK, "a symbolic link"), (stat.S_ISDIR, "a directory"),
          (stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))


def _kind(path):
    """What ``path`` itself is (links not followed): None when absent or a regular file."""
    try:
        mode = os.lstat(path).st_mode
    except OSError:
        return None
    return next((name for test, name in _KINDS if test(mode)), None)


def _refuse_non_regular(path, opt):
    """Outputs replace regular files only: never a link (nor what it points to), a
    directory, a device, a FIFO or a socket."""
    kind = _kind(path)
    if kind is None:
        return
    if kind == "a directory":
        raise OutputPathError(f"{opt}: {path} is a directory; nothing was written. Give a file "
                              "path, or move the directory away.")
    what = f"{kind} (to {os.readlink(path)})" if kind == "a symbolic link" else kind
    raise OutputPathError(f"{opt}: {path} is {what}, not a regular file; nothing was written. "
                          f"Give the path of a regular file, or {STDOUT} for standard output.")


def _refuse_unwritable(path, opt):
    """The directories on the way must exist up to each ``..`` and accept new files."""
    parts = Path(path).parts
    for k, part in enumerate(parts):
        if part == ".." and k and not Path(*parts[:k]).is_dir():
            raise OutputPathError(
                f"{opt}: {path} goes through {Path(*parts[:k])}, which is not an existing "
                f"directory; nothing was written. Create it, or give the path without '..'.")
    ancestor = Path(path).parent
    while not ancestor.exists() and ancestor != ancestor.parent:
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise OutputPathError(
            f"{opt}: {path} cannot be created because {ancestor} is a file, not a "
            "directory; nothing was written. Choose another output path.")
    if not os.access(ancestor, os.W_OK | os.X_OK):
        raise OutputPathError(
            f"{opt}: cannot create files in {ancestor} (no write permission); nothing was "
            "written. Choose another output path.")
    if os.path.lexists(path) and not os.access(path, os.W_OK):
        raise OutputPathError(
            f"{opt}: {path} is read-only; nothing was written. Make it writable to have "
            "it replaced, or choose another output path.")


def check_output_paths(paths, inputs=(), *, option="--out"):
    """Refuse outputs that would fail or destroy something, before any work is done.

    Each path must be absent or a regular file (not a directory, a symbolic link,
    a device, a FIFO or a socket), must not sit below an existing file nor go
    through a missing directory before a ``..``, must be writable (a read-only
    file is not replaced) in a writable directory, and must not be one of
    ``inputs`` (compared as files, so ``./a.csv`` or a hard link to an input are
    refused too); two outputs must differ. ``-`` is standard output.
    ``option`` names the command-line option in messages; ``paths`` may also be
    a dict ``{path: option}`` or a list of ``(path, option)`` pairs (a list keeps
    two options naming one path apart, so they can be refused). Raises
    :class:`OutputPathError`.
    """
    if isinstance(paths, dict):
        named = list(paths.items())
    else:
        named = [p if isinstance(p, tuple) else (p, option) for p in paths]
    named = [(str(p), o) for p, o in named]
    inputs = [(str(i), o) for i, o in (inputs.items() if isinstance(inputs, dict) else
                                          ((i, "an input") for i in inputs)) if i]
    for k, (path, opt) in enumerate(named):  # first: two outputs naming one file
        for other, other_opt in named[:k]:
            if _same_file(path, other):
                raise OutputPathError(
                    f"two outputs name the same file: {other_opt} {other} and {opt} {path}; "
                    "nothing was written. Give each output its own path.")
    for path, opt in named:
        if path == STDOUT:
            continue
        for src, src_opt in inputs:
            if os.path.exists(path) and _same_file(path, src):
                raise OutputPathError(
                    f"{opt} {path} is the input file {src} ({src_opt}); writing it would destroy "
                    "the input, so nothing was written. Give another output path.")
        _refuse_non_regular(path, opt)
        _refuse_unwritable(path, opt)


class _Staging:
    """Outputs written to hidden temporary files beside their targets, then moved over
    them together (:meth:`commit`); :meth:`discard` removes what is left in any case."""

    def __init__(self):
        self.new_mode = 0o666 & ~_current_umask()
        self.created_dirs, self.temps, self.backups, self.done = [], {}, {}, []
        self.committed = False

    def _make_parents(self, path):
        missing, parent = [], path.parent
        while not parent.exists():
            missing.append(parent)
            parent = parent.parent
        for d in reversed(missing):
            d.mkdir()
            self.created_dirs.append(d)

    def write(self, path, content):
        """``content`` (text or bytes) to a temporary file beside ``path``."""
        self._make_parents(path)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        self.temps[path] = tmp
        with os.fdopen(fd, "wb") as fh:
            try:  # a replaced file keeps its mode; a new one gets the usual mode
                os.fchmod(fd, stat.S_IMODE(os.stat(path).st_mode) if path.exists()
                          else self.new_mode)
            except (AttributeError, NotImplementedError):  # pragma: no cover - no fchmod
                pass
            fh.write(content.encode("utf-8") if isinstance(content, str) else content)

    def commit(self):
        """Keep existing targets as backups, move every temporary file in place; on a
        failure put the backups back (:class:`PartialWriteError` if that fails too)."""
        try:
            for path in self.temps:
                if path.exists():
                    self.backups[path] = _backup(path)
            for path in list(self.temps):
                os.replace(self.temps[path], path)
                self.done.append(path)
                del self.temps[path]
        except OSError:
            failed = self._roll_back()
            if failed:
                raise PartialWriteError(
                    f"could not restore {', '.join(map(str, failed))} after a failed write; "
                    "their previous content is in "
                    f"{', '.join(str(self.backups.pop(p)) for p in failed)}") from None
            raise
        self.committed = True

    def _roll_back(self):
        """Undo the replacements done; return the targets that could not be restored."""
        failed = []
        for path in reversed(self.done):
            try:
                if path in self.backups:
                    os.replace(self.backups.pop(path), path)
                else:
                    os.unlink(path)
            except OSError:
                failed.append(path)
        return failed

    def discard(self):
        """Remove temporary files, backups and the directories made for the outputs (those
        left empty)."""
        _remove_quietly(list(self.temps.values()) + list(self.backups.values()))
        for d in reversed(self.created_dirs):
            try:
                d.rmdir()
            except OSError:
                pass


def _backup(path):
    """A hidden hard link to ``path`` (a copy where links are not possible)."""
    for _ in range(100):
        name = path.with_name(f".{path.name}.{os.urandom(4).hex()}.bak")
        if not os.path.lexists(name):
            break
    else:  # pragma: no cover
        raise FileExistsError(f"no free backup name beside {path}")
    try:
        os.link(path, name)
    except OSError:
        shutil.copy2(path, name)
    return name


def _to_stdout(content):
    try:
        if isinstance(content, str):
            sys.stdout.write(content)
        else:
            sys.stdout.flush()
            sys.stdout.buffer.write(content)
        sys.stdout.flush()
    except BrokenPipeError:  # the reader went away (| head): not an error of ours
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())


@contextmanager
def _saying_if_written(staging):
    """A stop signal leaving the block says whether every output was in place by then."""
    try:
        yield
    except Interrupted as exc:
        exc.written = staging.committed
        raise


def write_files_atomically(files, *, inputs=()):
    """Write ``{path: text or bytes}``: all the files, or none of them.

    1. Every target is checked (:func:`check_output_paths`): a regular file or
       absent, not below a file, not one of ``inputs``.
    2. Every file is written to a temporary file beside its target. New files
       get the mode ``0o666 & ~umask`` (like ``open``); a replaced file keeps
       its mode.
    3. Existing targets are kept as hidden backups (hard links, else copies),
       then each temporary file is moved over its target with ``os.replace``.
       If one of these moves fails, the targets already replaced are restored
       from their backups (targets that did not exist are removed).

    SIGINT, SIGTERM and SIGHUP stop step 2 (nothing changes) and wait for the end
    of step 3 (every output is in place), then raise
    :class:`~skactivelab.cli._signals.Interrupted` (``written`` says which).
    Temporary files, backups and directories created for the outputs are removed
    in every case. The path ``-`` is standard output, written after the files.
    Raises :class:`OutputPathError` for a bad target and ``OSError`` when writing
    fails (nothing changed then).

    Examples
    --------
    >>> import os, tempfile
    >>> d = tempfile.mkdtemp()
    >>> write_files_atomically({os.path.join(d, "a.csv"): "x\\n", os.path.join(d, "b.csv"): "y\\n"})
    >>> sorted(os.listdir(d))
    ['a.csv', 'b.csv']
    """
    files = {Path(p): content for p, content in files.items()}
    check_output_paths(list(map(str, files)), inputs, option="output")
    stdout = files.pop(Path(STDOUT), None)
    staging = _Staging()
    with signals_as_exceptions(), _saying_if_written(staging):
        try:
            for path, content in files.items():
                staging.write(path, content)
            with signals_held():
                staging.commit()
        except BaseException:
            with signals_held():
                staging.discard()
            raise
        staging.discard()
    if stdout is not None:
        _to_stdout(stdout)


def _remove_quietly(paths):
    for p in paths:
        try:
            os.unlink(p)
        except OSError:
            pass
