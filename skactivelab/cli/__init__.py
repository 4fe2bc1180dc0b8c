"""The ``skactivelab`` command line: one parser, one error convention.

Commands: ``score`` (``_score.py``) and ``fit`` (``_fit.py``) on your annotation
files, their options in ``_team.py`` and what they share in ``_batch.py``;
``demo`` and ``benchmark`` (simulations; ``_simulate.py``); ``labelstudio
round`` (a Label Studio server through its API; ``_ls_server.py``). Input files become
the types of ``_tables.py``: tables are read by ``_tabular.py`` (pyarrow's
columnar readers, else the ``csv`` module) into the columns of ``_columns.py``;
annotations and features by ``_files.py``, Label Studio exports by
``_labelstudio.py``, probabilities by ``_probs.py``, a pool of Parquet files is
streamed by ``_pool.py``. Outputs are written by ``_write.py`` (all or none,
whatever signal arrives: ``_signals.py``). ``_common.py`` holds the argument
types, the error convention and progress messages. These are
the only modules of skactivelab that print. Runs as ``skactivelab ...`` (console
script) or ``python -m skactivelab ...``; see ``docs/command_line.md``.

The parser is built from light modules only (no NumPy, scikit-learn, pandas or
pyarrow): ``--help`` and ``--version`` answer at once, and each command imports
what it needs when it runs.
"""

from __future__ import annotations

import argparse
import os
import sys
from contextlib import contextmanager

from .. import __version__
from ._common import Parser, own_process, run_command
from ._ls_options import add_labelstudio_commands
from ._simulate import add_simulation_commands
from ._team import add_team_commands
from ._write import OutputPathError

__all__ = ["InputFileError", "OutputPathError", "arrow_system_pool", "build_parser", "console_main", "main",
           "make_model"]


def __getattr__(name):
    """The public names that need NumPy or scikit-learn, imported on first use."""
    if name == "InputFileError":
        from ._tables import InputFileError

        return InputFileError
    if name == "make_model":
        from .._models import make_model

        return make_model
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def build_parser():
    """The ``skactivelab`` parser with every command; each sets ``func(args) -> int``."""
    parser = Parser(
        prog="skactivelab",
        description="ActiveLab and CROWDLAB: what to label or re-label next with several noisy "
        "annotators.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="example:\n  skactivelab demo\n  skactivelab score --help\n"
        "  skactivelab benchmark --help",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}",
                        help="print skactivelab's version and exit")
    sub = parser.add_subparsers(dest="command", required=True)
    add_simulation_commands(sub)
    add_team_commands(sub)
    add_labelstudio_commands(sub)
    return parser


def main(argv=None):
    """Run one command; return its exit status (0, 2 for bad input, 1 if writing failed,
    128 + the signal number when SIGINT, SIGTERM or SIGHUP stopped it).

    Usage errors, ``--help`` and ``--version`` exit through ``SystemExit`` as argparse does.
    """
    args = build_parser().parse_args(argv)
    with arrow_system_pool():
        return run_command(args.func, args)


def console_main(argv=None):
    """The ``skactivelab`` program (and ``python -m skactivelab``): :func:`main` in a
    process of its own, which may tune the C library's allocator for the command's arrays
    (see "11. Reading large files" in the command line's documentation); :func:`main`
    called inside a longer Python process leaves the allocator as it is."""
    own_process()
    return main(argv)


#: pyarrow reads the name of its C++ default memory pool from this variable, once
ARROW_POOL_VARIABLE = "ARROW_DEFAULT_MEMORY_POOL"


@contextmanager
def arrow_system_pool():
    """pyarrow's C++ default memory pool is the system allocator when pyarrow is first
    imported inside (by the command, or by pandas or scikit-learn on its behalf). The
    readers and kernels of pyarrow allocate from that pool, which a process chooses once,
    from ``ARROW_DEFAULT_MEMORY_POOL`` (else mimalloc or jemalloc, whose arenas keep 8 MB
    or more of their own resident after the first megabyte); the memory the system
    allocator frees then serves the scoring. The variable is set only inside, and only
    when pyarrow is not imported yet and the user has not set it."""
    if "pyarrow" in sys.modules or ARROW_POOL_VARIABLE in os.environ:
        yield
        return
    os.environ[ARROW_POOL_VARIABLE] = "system"
    try:
        yield
    finally:
        os.environ.pop(ARROW_POOL_VARIABLE, None)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
