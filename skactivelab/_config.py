"""Global configuration: how many threads the numeric kernels may use.

The scoring kernels split large arrays (at least 2,000,000 floats) into row
blocks computed in threads. Their number is the smallest of

* the user's limit: ``n_threads`` of :func:`set_config` / :func:`config_context`
  (default None: all available CPUs, at most 8; a negative value counts from the
  number of CPUs as ``n_jobs`` does in joblib, -1 meaning all of them);
* the CPUs this process may use: CPU affinity, the cgroup (container) CPU quota
  and ``LOKY_MAX_CPU_COUNT``, as counted by :func:`joblib.cpu_count`;
* an enclosing limit: ``OMP_NUM_THREADS`` (joblib's process workers set it to
  their share of the CPUs, e.g. inside ``GridSearchCV(n_jobs=-1)``), the limits
  of the native thread pools set with :mod:`threadpoolctl`, and, with the default
  ``n_threads=None``, 1 inside a worker thread of joblib's threading backend.
"""

from __future__ import annotations

import os
import sys
import threading
from contextlib import contextmanager
from numbers import Integral

__all__ = ["config_context", "get_config", "set_config"]

_DEFAULT_MAX_THREADS = 8  # beyond this, elementwise passes are bound by memory bandwidth
_global_config = {"n_threads": None}
_local = threading.local()
_UNSET = object()


def _check_n_threads(n_threads):
    if n_threads is None:
        return None
    if isinstance(n_threads, bool) or not isinstance(n_threads, Integral):
        raise TypeError(
            f"n_threads must be None or an integer (1, 2, ... or -1 for all CPUs), got {n_threads!r}."
        )
    if n_threads == 0:
        raise ValueError("n_threads=0 is not allowed; use 1 for no threads, -1 for all CPUs or None.")
    return int(n_threads)


def get_config():
    """The current configuration of skactivelab.

    Returns
    -------
    config : dict
        ``{"n_threads": ...}``: the limit set by :func:`set_config` or by the
        innermost :func:`config_context` of the calling thread.

    Examples
    --------
    >>> import skactivelab
    >>> skactivelab.get_config()
    {'n_threads': None}
    """
    stack = getattr(_local, "stack", None)
    if stack:
        return dict(stack[-1])
    return dict(_global_config)


def set_config(n_threads=_UNSET):
    """Set the configuration of skactivelab for the whole process.

    Parameters
    ----------
    n_threads : int or None
        Most threads a numeric kernel may use. None (default): all available
        CPUs, at most 8. ``1`` turns threading off; ``-1`` allows all available
        CPUs, ``-2`` all but one, and so on. Never more than the CPUs the process
        may use (affinity, container quota) nor than an enclosing limit
        (``OMP_NUM_THREADS``, :mod:`threadpoolctl`).

    Examples
    --------
    >>> import skactivelab
    >>> skactivelab.set_config(n_threads=1)
    >>> skactivelab.get_config()["n_threads"]
    1
    >>> skactivelab.set_config(n_threads=None)
    """
    if n_threads is not _UNSET:
        _global_config["n_threads"] = _check_n_threads(n_threads)


@contextmanager
def config_context(*, n_threads=_UNSET):
    """Temporarily change the configuration of skactivelab in the calling thread.

    Parameters
    ----------
    n_threads : int or None
        As in :func:`set_config`; the previous value is restored on exit.

    Examples
    --------
    >>> import skactivelab
    >>> with skactivelab.config_context(n_threads=2):
    ...     skactivelab.get_config()["n_threads"]
    2
    """
    new = get_config()
    if n_threads is not _UNSET:
        new["n_threads"] = _check_n_threads(n_threads)
    stack = getattr(_local, "stack", None)
    if stack is None:
        stack = _local.stack = []
    stack.append(new)
    try:
        yield
    finally:
        stack.pop()


@contextmanager
def at_most(n_threads):
    """Lower the thread limit of the calling thread to ``n_threads`` (never raise it)."""
    current = get_config()["n_threads"]
    if current is not None:
        n_threads = min(_resolve(current, available_cpus()), _resolve(n_threads, available_cpus()))
    with config_context(n_threads=n_threads):
        yield


def available_cpus():
    """CPUs this process may use: affinity, cgroup quota and ``LOKY_MAX_CPU_COUNT``."""
    from joblib import cpu_count

    return max(1, int(cpu_count()))


def _resolve(n_threads, cpus):
    if n_threads is None:
        return min(cpus, _DEFAULT_MAX_THREADS)
    if n_threads < 0:
        return max(cpus + 1 + n_threads, 1)
    return n_threads


def _env_limit():
    value = os.environ.get("OMP_NUM_THREADS", "").split(",")[0].strip()
    try:
        n = int(value)
    except ValueError:
        return None
    return n if n >= 1 else None


# (number of imported modules, ThreadpoolController): finding the loaded native
# libraries takes about 2 ms, so it is redone only after an import (which is how
# libraries get loaded); their limits are read afresh on every call.
_controller = None


def _threadpool_limit():
    """Smallest thread limit of the native thread pools loaded (BLAS, OpenMP), if any."""
    global _controller
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:  # pragma: no cover - a dependency of scikit-learn
        return None
    n_modules = len(sys.modules)
    cached = _controller
    if cached is None or cached[0] != n_modules:
        cached = _controller = (n_modules, ThreadpoolController())
    limits = [info.get("num_threads") for info in cached[1].info()]
    limits = [n for n in limits if isinstance(n, int) and n >= 1]
    return min(limits) if limits else None


def _in_joblib_thread_worker():
    """True inside a worker thread of joblib's threading backend (its siblings share our CPUs)."""
    if threading.current_thread() is threading.main_thread():
        return False  # joblib's process workers run tasks in their main thread
    try:
        from joblib.parallel import get_active_backend
    except ImportError:  # pragma: no cover
        return False
    backend, _ = get_active_backend()
    return getattr(backend, "nesting_level", 0) >= 1


def effective_n_threads():
    """Threads a kernel may use now (>= 1), by the rules of the module docstring."""
    requested = get_config()["n_threads"]
    if requested == 1:
        return 1  # no limit can lower it
    cpus = available_cpus()
    n = min(_resolve(requested, cpus), cpus)
    for limit in (_env_limit(), _threadpool_limit()):
        if limit is not None:
            n = min(n, limit)
    if requested is None and _in_joblib_thread_worker():
        n = 1
    return max(1, n)
