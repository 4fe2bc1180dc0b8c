"""What every command shares: the parser class, argument types, the one error
convention, progress on stderr, warnings, and the model factory."""

from __future__ import annotations

import argparse
import os
import re
import sys
import threading
import time
import warnings
from contextlib import contextmanager

from .._dask import SchedulerError
from .._models import MODELS, make_model  # noqa: F401 (one factory: fit, benchmark, the simulation)
from ._tables import InputFileError
from ._write import PartialWriteError


class _Parser(argparse.ArgumentParser):
    """Usage errors as one line (``skactivelab demo: error: ...``), exit status 2."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


# --------------------------------------------------------------------------- argument types
def _int(text):
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None


def positive_int(text):
    value = _int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} must be at least 1")
    return value


def seed(text):
    value = _int(text)
    if not 0 <= value < 2**32:
        raise argparse.ArgumentTypeError(f"{value} must be between 0 and 2**32 - 1")
    return value


def fraction(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError(f"{value:g} must be in (0, 1]")
    return value


def _seconds(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"{value:g} must be a positive number of seconds")
    return value


def n_jobs(text):
    """joblib's rule: 1, 2, ... processes; -1 all CPUs, -2 all but one, ...; never 0."""
    value = _int(text)
    if value == 0:
        raise argparse.ArgumentTypeError("0 is not a number of jobs; give 1 or more, or -1 for "
                                         "all CPUs")
    return value


def default_n_jobs():
    """Up to 2 processes, never more than the CPUs this process may use."""
    from .._config import available_cpus

    return min(2, available_cpus())


# --------------------------------------------------------------------------- output
def error(message):
    print(f"skactivelab: error: {' '.join(str(message).split())}", file=sys.stderr, flush=True)


def warnings_to_stderr(caught):
    """Print recorded warnings once each, one line, after the outputs are written."""
    for msg in dict.fromkeys(f"{w.category.__name__}: {w.message}" for w in caught):
        print(f"skactivelab: warning: {' '.join(msg.split())}", file=sys.stderr)


@contextmanager
def recorded_warnings():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield caught


class Progress:
    """Progress lines on stderr (``skactivelab: ...``), silenced by ``--quiet``."""

    def __init__(self, quiet=False):
        self.quiet = quiet
        self.t0 = time.perf_counter()

    def __call__(self, message, force=False):
        """Print ``message`` once the command has run for 2 s (at once with ``force``)."""
        elapsed = time.perf_counter() - self.t0
        if not self.quiet and (force or elapsed >= 2.0):
            print(f"skactivelab: {message} ({elapsed:.0f} s)", file=sys.stderr, flush=True)


class _JoblibLines:
    """A stand-in for stderr that turns joblib's progress lines into ``progress`` calls
    and passes anything else through."""

    _DONE = re.compile(r"\[Parallel\(n_jobs=[^)]*\)\]: Done\s+(\d+)(?: out of\s+(\d+))?")

    def __init__(self, progress, what, stream):
        self.progress, self.what, self.stream = progress, what, stream
        self.last = 0  # jobs done in the current joblib.Parallel call
        self.lock = threading.RLock()  # progress() prints to sys.stderr: this object

    def write(self, text):
        with self.lock:
            for line in text.splitlines(keepends=True):
                if line.startswith("[Parallel("):
                    m = self._DONE.match(line)
                    if m:
                        self._done(int(m.group(1)), m.group(2))
                else:
                    self.stream.write(line)
        return len(text)

    def _done(self, done, total):
        if total is None:
            if done != self.last:
                self.progress(f"{self.what}: {done} job(s) done", force=True)
        elif done != self.last or self.last == 0:
            self.progress(f"{self.what}: {done} of {total} job(s) done", force=True)
        self.last = 0 if total is not None and done == int(total) else done

    def flush(self):
        self.stream.flush()


@contextmanager
def joblib_progress(progress, what):
    """Progress of every ``joblib.Parallel`` run inside (one line per finished job),
    through joblib's own reporting: no hook in the code that runs the jobs."""
    if progress.quiet:
        yield
        return
    import joblib
    from contextlib import redirect_stderr

    with joblib.parallel_config(verbose=11), redirect_stderr(_JoblibLines(progress, what,
                                                                          sys.stderr)):
        yield


def run_command(func, args):
    """The one error convention of every command.

    A bad input, bad output path, a library ``ValueError`` or an unreachable Dask
    scheduler prints one line ``skactivelab: error: ...`` and returns 2; a failed write returns 1 (nothing
    was written, unless the rollback failed too, which is said). With
    ``SKACTIVELAB_TRACEBACK=1`` the exception propagates instead.
    """
    try:
        return func(args)
    except (InputFileError, ValueError, TypeError) as exc:
        if os.environ.get("SKACTIVELAB_TRACEBACK"):
            raise
        error(exc)
        return 2
    except SchedulerError as exc:  # an OSError, but about a cluster, not a file
        if os.environ.get("SKACTIVELAB_TRACEBACK"):
            raise
        error(exc)
        return 2
    except PartialWriteError as exc:
        if os.environ.get("SKACTIVELAB_TRACEBACK"):
            raise
        error(f"writing the outputs failed and was not fully undone: {exc}")
        return 1
    except OSError as exc:
        if os.environ.get("SKACTIVELAB_TRACEBACK"):
            raise
        error(f"cannot write the output ({exc}); nothing was written.")
        return 1
