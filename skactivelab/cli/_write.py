"""Writing the outputs: all of them or none, never over an input, with the usual modes.

See ``docs/command_line.md`` (decision 9).
"""

from __future__ import annotations

import csv
import io
import os
import shutil
import stat
import tempfile
from pathlib import Path

__all__ = [
    "OutputPathError",
    "PartialWriteError",
    "check_output_paths",
    "format_csv",
    "write_files_atomically",
]


def format_csv(header, rows):
    """CSV text (``\\n`` line ends) of a header and rows of cells (str() of each)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue()


class OutputPathError(ValueError):
    """An output path that cannot be written (a directory, an input file, ...).

    Raised before anything is written, so nothing changes on disk.
    """


class PartialWriteError(OSError):
    """A failed write whose rollback failed too: some targets hold new content."""


def _current_umask():
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _same_file(a, b):
    """True when paths ``a`` and ``b`` name the same file (symlinks, ``./``, hard links)."""
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.realpath(a) == os.path.realpath(b)


def check_output_paths(paths, inputs=(), *, option="--out"):
    """Refuse outputs that would fail or destroy something, before any work is done.

    Each path must not be a directory, must not sit below an existing file, must
    be writable (a read-only file is not replaced) in a writable directory, and
    must not be one of ``inputs`` (compared as files, so ``./a.csv``, a symlink
    or a hard link to an input are refused too); two outputs must differ.
    ``option`` names the command-line option in messages; ``paths`` may also be
    a dict ``{path: option}`` or a list of ``(path, option)`` pairs (a list keeps
    two options naming one path apart, so they can be refused). Paths are
    compared resolved (``./``, ``..``, symlinks, hard links). Raises
    :class:`OutputPathError`.
    """
    if isinstance(paths, dict):
        named = list(paths.items())
    else:
        named = [p if isinstance(p, tuple) else (p, option) for p in paths]
    inputs = [(str(i), o) for i, o in (inputs.items() if isinstance(inputs, dict) else
                                          ((i, "an input") for i in inputs)) if i]
    for k, (path, opt) in enumerate(named):  # first: two outputs naming one file
        for other, other_opt in named[:k]:
            if _same_file(str(path), str(other)):
                raise OutputPathError(
                    f"two outputs name the same file: {other_opt} {other} and {opt} {path}; "
                    "nothing was written. Give each output its own path.")
    for path, opt in named:
        path = str(path)
        if os.path.isdir(path):
            raise OutputPathError(
                f"{opt}: {path} is a directory; nothing was written. Give a file path, or "
                "move the directory away.")
        ancestor = Path(os.path.abspath(path)).parent
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
        for src, src_opt in inputs:
            if os.path.exists(path) and _same_file(path, src):
                raise OutputPathError(
                    f"{opt} {path} is the input file {src} ({src_opt}); writing it would destroy "
                    "the input, so nothing was written. Give another output path.")


def _new_backup_name(path):
    for _ in range(100):
        name = path.with_name(f".{path.name}.{os.urandom(4).hex()}.bak")
        if not os.path.lexists(name):
            return name
    raise FileExistsError(f"no free backup name beside {path}")  # pragma: no cover


def write_files_atomically(files, *, inputs=()):
    """Write ``{path: text or bytes}``: all the files, or none of them.

    1. Every target is checked (:func:`check_output_paths`): not a directory,
       not below a file, not one of ``inputs``.
    2. Every file is written to a temporary file beside its target. New files
       get the mode ``0o666 & ~umask`` (like ``open``); a replaced file keeps
       its mode.
    3. Existing targets are kept as hidden backups (hard links, else copies),
       then each temporary file is moved over its target with ``os.replace``.
       If one of these moves fails, the targets already replaced are restored
       from their backups (targets that did not exist are removed).

    Temporary files, backups and directories created for the outputs are
    removed in every case. Raises :class:`OutputPathError` for a bad target
    and ``OSError`` when writing fails (nothing changed then).

    Examples
    --------
    >>> import os, tempfile
    >>> d = tempfile.mkdtemp()
    >>> write_files_atomically({os.path.join(d, "a.csv"): "x\\n", os.path.join(d, "b.csv"): "y\\n"})
    >>> sorted(os.listdir(d))
    ['a.csv', 'b.csv']
    """
    targets = [Path(p) for p in files]
    check_output_paths(list(map(str, targets)), inputs, option="output")
    created_dirs, temps, backups, done = [], {}, {}, []
    new_mode = 0o666 & ~_current_umask()
    try:
        for path, content in zip(targets, files.values()):
            missing = []
            parent = path.parent
            while not parent.exists():
                missing.append(parent)
                parent = parent.parent
            for d in reversed(missing):
                d.mkdir()
                created_dirs.append(d)
            fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
            temps[path] = tmp
            try:
                mode = stat.S_IMODE(os.stat(path).st_mode) if path.exists() else new_mode
                os.fchmod(fd, mode)
            except (AttributeError, NotImplementedError):  # pragma: no cover - no fchmod
                pass
            data = content.encode("utf-8") if isinstance(content, str) else bytes(content)
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
        for path in targets:
            if path.exists():
                backup = _new_backup_name(path)
                try:
                    os.link(path, backup)
                except OSError:
                    shutil.copy2(path, backup)
                backups[path] = backup
        for path in targets:
            os.replace(temps[path], path)
            done.append(path)
            del temps[path]
    except BaseException:
        failed = _roll_back(done, backups)
        _remove_quietly(list(temps.values())
                        + [b for p, b in backups.items() if p not in failed])
        for d in reversed(created_dirs):
            try:
                d.rmdir()
            except OSError:
                pass
        if failed:
            raise PartialWriteError(
                f"could not restore {', '.join(map(str, failed))} after a failed write; their "
                f"previous content is in {', '.join(str(backups[p]) for p in failed)}")
        raise
    _remove_quietly(list(backups.values()))


def _roll_back(done, backups):
    """Undo the replacements in ``done``; return the targets that could not be restored."""
    failed = []
    for path in reversed(done):
        try:
            if path in backups:
                os.replace(backups[path], path)
            else:
                os.unlink(path)
        except OSError:
            failed.append(path)
    return failed


def _remove_quietly(paths):
    for p in paths:
        try:
            os.unlink(p)
        except OSError:
            pass
