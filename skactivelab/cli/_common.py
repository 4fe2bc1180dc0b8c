"""What every command shares: the parser class, argument types, the one error
convention, progress on stderr and warnings.

Light by design (the standard library and the command line's own light modules):
the parser is built from it, so ``--help`` imports no NumPy, scikit-learn or pandas.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import sys
import threading
import time
import warnings
from contextlib import contextmanager

from ._signals import signals_as_exceptions
from ._write import PartialWriteError


#: The model of text features (TF-IDF and logistic regression), by name.
TEXT_MODEL = "tfidf-logistic"

#: The values of ``--crowd-model`` (the names :func:`skactivelab.crowd_models.check_crowd_model`
#: accepts; listed here so that building the parser imports no NumPy).
CROWD_MODEL_CHOICES = ("crowdlab", "annotator_confusion", "majority_vote")


#: whether the process is the command's own (:func:`own_process`)
_own_process = False


def own_process():
    """Say that this process runs one command and ends (the ``skactivelab`` program,
    ``python -m skactivelab``): only then do ``score`` and ``fit`` change the C library's
    allocator settings (``_columns.system_allocator``, ``_columns.reading``). Its rule
    that raises the mapping threshold as large blocks are freed cannot be turned back on
    once ``mallopt`` has set a value, so a command run inside a longer Python process
    (``skactivelab.cli.main([...])``, a notebook, a test) leaves the allocator as it
    found it."""
    global _own_process
    _own_process = True


def is_own_process():
    """Whether :func:`own_process` was said."""
    return _own_process


def add_crowd_model_option(parser, what="the consensus and the scores", shares=True):
    """``--crowd-model``: the crowd model of ``what`` (default: crowdlab); with ``shares``,
    also ``--classifier-shares`` (:func:`crowd_model_arg`)."""
    parser.add_argument(
        "--crowd-model", choices=CROWD_MODEL_CHOICES, default="crowdlab",
        help=f"the crowd model of {what}: crowdlab (CROWDLAB, the default), annotator_confusion "
        "(a confusion matrix per annotator with the classifier as a fitted prior; recommended "
        "for a real crowd) or majority_vote (the labels alone)")
    if shares:
        parser.add_argument(
            "--classifier-shares", choices=("keep", "remove"), default="keep",
            help="for the annotator-confusion model (--crowd-model annotator_confusion, and "
            "always for estimated_accuracy and consensus_confidence): 'remove' divides the "
            "classifier's probabilities by its share of each class (its mean probability over "
            "the labeled examples, shrunk toward equal shares) before they enter the prior, for "
            "a classifier trained on the crowd's own labels when the crowd over-calls some "
            "classes; 'keep' (default) uses them unchanged")


def crowd_model_arg(args):
    """The ``crowd_model`` of ``--crowd-model`` and ``--classifier-shares``: the name, or for
    the annotator-confusion model with ``remove``, ``AnnotatorConfusion(classifier_shares=
    "remove")`` (seeded by the caller's random_state, as a name is)."""
    name = getattr(args, "crowd_model", None) or "crowdlab"
    if name == "annotator_confusion" and getattr(args, "classifier_shares", "keep") == "remove":
        from ..crowd_models import AnnotatorConfusion

        return AnnotatorConfusion(classifier_shares="remove")
    return name


class Parser(argparse.ArgumentParser):
    """Usage errors as one line (``skactivelab demo: error: ...``), exit status 2. Options
    are never abbreviated (``fit --out -`` is an error, not ``--out-dir -``)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)

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


def at_least_two(text):
    value = _int(text)
    if value < 2:
        raise argparse.ArgumentTypeError(f"{value} must be at least 2")
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


def seconds(text):
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


#: ``--n-jobs`` when not given, as ``--help`` says it (counting the CPUs needs joblib, so
#: the parser leaves None, resolved by :func:`resolve_n_jobs` when the command runs).
N_JOBS_DEFAULT = "2, or 1 on a single CPU"


def resolve_n_jobs(args):
    """Set ``args.n_jobs`` to :func:`default_n_jobs` when ``--n-jobs`` was not given."""
    if args.n_jobs is None:
        args.n_jobs = default_n_jobs()


# --------------------------------------------------------------------------- output
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
    and passes anything else through.

    A command may run several ``joblib.Parallel`` calls (a fit: the cross-validation
    folds of each round, the final model, the fold models' predictions of the pool);
    the jobs are counted across all of them, so that no count is said twice.
    """

    _DONE = re.compile(r"\[Parallel\(n_jobs=[^)]*\)\]: Done\s+(\d+)(?: out of\s+(\d+))?")
    _START = re.compile(r"\[Parallel\(n_jobs=[^)]*\)\]: Using backend")

    def __init__(self, progress, what, stream):
        self.progress, self.what, self.stream = progress, what, stream
        self.before = 0  # jobs done in the earlier joblib.Parallel calls
        self.last = 0  # jobs done in the current call
        self.lock = threading.RLock()  # progress() prints to sys.stderr: this object

    def write(self, text):
        with self.lock:
            for line in text.splitlines(keepends=True):
                if self._START.match(line):  # a new call (the process backends say so)
                    self._next_call()
                elif line.startswith("[Parallel("):
                    m = self._DONE.match(line)
                    if m:
                        self._done(int(m.group(1)), m.group(2), "finished" in line)
                else:
                    self.stream.write(line)
        return len(text)

    def _next_call(self):
        self.before += self.last
        self.last = 0

    def _done(self, done, total, finished):
        """One "Done" line of joblib: ``done`` jobs of the call, of ``total`` when known
        (the same count may be said again, then with "finished")."""
        if done < self.last or (done == self.last and total is None):
            self._next_call()  # counting from 1 again: a new call (sequential backend)
        if done > self.last:
            self.last = done
            self.progress(f"{self.what}: {self.before + done} job(s) done", force=True)
        if finished:
            self._next_call()

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


def _scheduler_error():
    """The error of an unreachable or lost Dask scheduler (a ``ConnectionError``, said as a
    bad input rather than a failed write), once the Dask backend is loaded: nothing else
    raises it, so it is not imported (with NumPy) only to be checked."""
    dask_backend = sys.modules.get("skactivelab._dask")
    return getattr(dask_backend, "SchedulerError", ())


def _failure(exc):
    """``(exit status, message)`` for an exception that ends a command, or None."""
    if isinstance(exc, KeyboardInterrupt):  # Ctrl-C, or SIGTERM / SIGHUP (Interrupted)
        signum = getattr(exc, "signum", signal.SIGINT)
        done = "every output was written" if getattr(exc, "written", False) else \
            "nothing was written"
        return 128 + signum, f"interrupted by {signal.Signals(signum).name}; {done}."
    if isinstance(exc, (ValueError, TypeError, _scheduler_error())):  # InputFileError is one
        return 2, f"error: {exc}"
    if isinstance(exc, PartialWriteError):
        return 1, f"error: writing the outputs failed and was not fully undone: {exc}"
    if isinstance(exc, OSError):
        return 1, f"error: cannot write the output ({exc}); nothing was written."
    return None


def run_command(func, args):
    """The one error convention of every command.

    A bad input, bad output path, a library ``ValueError`` or an unreachable Dask
    scheduler prints one line ``skactivelab: error: ...`` and returns 2; a failed
    write returns 1 (nothing was written, unless the rollback failed too, which is
    said). SIGINT, SIGTERM and SIGHUP stop the command with one line saying whether
    the outputs were written (all of them, or none) and return 128 + the signal
    number (130, 143, 129). With ``SKACTIVELAB_TRACEBACK=1`` the exception
    propagates instead.
    """
    try:
        with signals_as_exceptions():
            return func(args)
    except BaseException as exc:
        failure = _failure(exc)
        if failure is None or os.environ.get("SKACTIVELAB_TRACEBACK"):
            raise
        status, message = failure
        print(f"skactivelab: {' '.join(message.split())}", file=sys.stderr, flush=True)
        return status
