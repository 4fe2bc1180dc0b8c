"""Shared test fixtures.

``shared_file`` finds a data file kept beside the project (``../shared/data`` relative to
its root), skipping the test cleanly when it is absent; the package never ships these files.

``oracle`` gives black-box access to cleanlab 2.9.0 (AGPL-3.0), used ONLY as a
reference implementation to compare outputs against; no cleanlab code is copied
into skactivelab or these tests. The fixture fixes the defect described in
docs/switching_from_cleanlab.md ("The label-counting bug"): cleanlab's ``value_counts`` helper, for float label vectors
(any label matrix containing NaN), writes the counts of the classes present into
columns 0, 1, ... instead of at their class index, which shifts the temperature
chosen by calibration and hence ActiveLab scores. We replace it, for the test
session only, by a helper that counts at the class index.
"""

from __future__ import annotations

import collections
import contextlib
import copy
import io
import warnings
from pathlib import Path

import numpy as np
import pytest

#: Data files kept beside the project, never shipped with it.
SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_file():
    """``shared_file(name)``: the path of ``name`` in the data kept beside the project; the
    test is skipped when it is not there."""

    def find(name):
        path = SHARED_DATA / name
        if not path.exists():
            pytest.skip(f"{name} is not beside the project ({SHARED_DATA})")
        return path

    return find


# Cases run per function in the cleanlab parity tests; printed in the terminal summary.
PARITY_COUNTS = collections.Counter()


def pytest_collection_modifyitems(config, items):
    """The live Label Studio tests run last: the server they need is prepared in the
    background meanwhile (tests/labelstudio_server.py)."""
    items.sort(key=lambda item: item.get_closest_marker("labelstudio_live") is not None)


def pytest_collection_finish(session):
    """Start preparing Label Studio as soon as live tests are selected (unless .ci/run
    already did, SKACTIVELAB_LS_STATE), so that it overlaps the rest of the suite."""
    import os

    if session.config.option.collectonly or os.environ.get("SKACTIVELAB_LS_STATE") or not any(
            item.get_closest_marker("labelstudio_live") for item in session.items):
        return
    import labelstudio_server

    session.config._skactivelab_ls_job = labelstudio_server.start_in_background()


def pytest_sessionfinish(session):
    """Stop what pytest_collection_finish started, however the session ended."""
    job = getattr(session.config, "_skactivelab_ls_job", None)
    if job is not None:
        import labelstudio_server

        labelstudio_server.end_background(*job)


def pytest_terminal_summary(terminalreporter):
    if PARITY_COUNTS:
        terminalreporter.section("cleanlab parity cases")
        for name, n in PARITY_COUNTS.items():
            terminalreporter.write_line(f"{name}: {n}")


def count_at_class_index(x, *, num_classes=None, multi_label=False):
    """Replacement for cleanlab's value_counts: counts of class k at index k."""
    if multi_label:  # never used by cleanlab.multiannotator; keep the contract honest
        raise NotImplementedError("multi_label counts are not needed by the tests")
    x = np.asarray(x)
    return np.bincount(x.astype(int), minlength=0 if num_classes is None else int(num_classes))


class Oracle:
    """Thin, quiet wrapper around ``cleanlab.multiannotator``.

    ``oracle.<function>(...)`` calls the cleanlab function of that name on deep
    copies of its arguments (cleanlab's ensemble functions modify their inputs
    in place), with stdout captured and warnings silenced; ``verbose=False`` is
    passed wherever cleanlab accepts it. ``oracle.module`` is the raw module and
    ``oracle.original_value_counts`` the unfixed helper, for tests that need
    cleanlab's own behaviour.
    """

    _VERBOSE = frozenset(
        {
            "get_label_quality_multiannotator",
            "get_label_quality_multiannotator_ensemble",
            "get_majority_vote_label",
        }
    )

    def __init__(self, module, utils_module, original_value_counts):
        self.counts = PARITY_COUNTS  # cases run, printed in the terminal summary
        self.module = module
        self.utils_module = utils_module
        self.original_value_counts = original_value_counts

    def quiet(self, fn, *args, **kwargs):
        """Call ``fn`` with stdout captured and warnings ignored (no copies)."""
        with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return fn(*args, **kwargs)

    def __getattr__(self, name):
        fn = getattr(self.module, name)
        if not callable(fn):
            return fn

        def call(*args, **kwargs):
            args = copy.deepcopy(args)
            kwargs = copy.deepcopy(kwargs)
            if name in self._VERBOSE:
                kwargs.setdefault("verbose", False)
            return self.quiet(fn, *args, **kwargs)

        call.__name__ = name
        return call


@pytest.fixture(scope="session")
def oracle():
    """cleanlab.multiannotator with its label-counting (value_counts) bug fixed."""
    pytest.importorskip("cleanlab")
    pytest.importorskip("pandas")
    import cleanlab.internal.multiannotator_utils as utils
    import cleanlab.multiannotator as multiannotator

    original = utils.value_counts
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(utils, "value_counts", count_at_class_index)
        mp.setattr(multiannotator, "value_counts", count_at_class_index, raising=False)
        yield Oracle(multiannotator, utils, original)
