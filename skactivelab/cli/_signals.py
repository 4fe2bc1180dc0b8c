"""SIGINT, SIGTERM and SIGHUP as an exception, so that clean-up code runs; held back
while the outputs are being put in place.

By default Python turns only SIGINT (Ctrl-C) into an exception; SIGTERM and
SIGHUP end the process at once, leaving temporary files behind. Inside
:func:`signals_as_exceptions` all three raise :class:`Interrupted`; inside
:func:`signals_held` they wait until the block is done and are raised then, so
that a block that must not be cut in two (moving the outputs in place, or
removing what a failed write left) always runs to its end. Handlers can only be
set in the main thread: elsewhere both are no-ops.
"""

from __future__ import annotations

import signal
import threading
from contextlib import contextmanager

__all__ = ["Interrupted", "signals_as_exceptions", "signals_held"]

#: The signals that ask a command to stop (SIGHUP: the terminal was closed).
SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP")
                if hasattr(signal, name))


class Interrupted(KeyboardInterrupt):
    """A stop signal arrived; ``signum`` says which, ``written`` whether the outputs were
    all put in place before it was acted on (else none was)."""

    def __init__(self, signum, written=False):
        super().__init__(signum)
        self.signum = signum
        self.written = written

    @property
    def name(self):
        return signal.Signals(self.signum).name


class _State(threading.local):
    held = 0  # depth of signals_held blocks
    pending = None  # the first signal that arrived while held


_state = _State()


def _on_signal(signum, frame):
    if _state.held:
        if _state.pending is None:
            _state.pending = signum
        return
    raise Interrupted(signum)


def _in_main_thread():
    return threading.current_thread() is threading.main_thread()


@contextmanager
def signals_as_exceptions():
    """SIGINT, SIGTERM and SIGHUP raise :class:`Interrupted` inside (the previous handlers
    come back after)."""
    if not _in_main_thread():
        yield
        return
    previous = {s: signal.signal(s, _on_signal) for s in SIGNALS}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


@contextmanager
def signals_held():
    """The stop signals wait until the block is done; the first one is then raised as
    :class:`Interrupted` (in place of anything else the block raised)."""
    with signals_as_exceptions():
        _state.held += 1
        try:
            yield
        finally:
            _state.held -= 1
            signum = None
            if not _state.held:
                signum, _state.pending = _state.pending, None
            if signum is not None:
                raise Interrupted(signum)
