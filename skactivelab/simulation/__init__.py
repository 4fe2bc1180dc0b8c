"""Simulated annotators and the ActiveLab benchmark runner (docs/algorithms.md, section 6).

Pieces, usable on their own, one module each (every name is importable from
``skactivelab.simulation``):

* ``annotators``: :func:`shared_noise_matrix` (one noise matrix with a given trace,
  as in the paper), :func:`heterogeneous_noise_matrices` and
  :func:`mixed_annotator_accuracies` (near-perfect, typical, poor annotators and
  spammers), :func:`simulate_annotator_labels` (the hidden "oracle" matrix of
  every annotator's label for every example);
* ``tasks``: :func:`make_task` (train/test split, oracle and initial annotations for
  one of the :data:`SETTINGS`) and :func:`make_replay_task` (a real crowd's labels
  replayed), both giving a :class:`SimulatedTask`;
* ``protocol``: :func:`run_method`, one method of :data:`METHODS` on one task, round
  by round (the round is described there), with its crowd model
  (:func:`method_and_crowd_model` reads names such as ``"activelab:annotator_confusion"``);
* ``benchmark``: :func:`run_benchmark`, every method x seed (in parallel with
  ``n_jobs``), returning a :class:`BenchmarkResult` with ``to_csv``, ``to_json``,
  ``summary``; :func:`plot_results`, accuracy against round per method (matplotlib,
  optional), optionally beside the paper's curves (:func:`load_paper_results`).

Models are named as everywhere else in the package (:func:`make_model`). Every random
choice flows from one seed through :class:`numpy.random.Generator` objects.
"""

from .._models import make_model
from .annotators import (heterogeneous_noise_matrices, mixed_annotator_accuracies, shared_noise_matrix,
                         simulate_annotator_labels)
from .benchmark import BenchmarkResult, load_paper_results, plot_results, run_benchmark
from .protocol import DETAIL_KEYS, METHODS, method_and_crowd_model, run_method  # noqa: F401 (DETAIL_KEYS: public, not in __all__)
from .tasks import MOSTLY_ONE_LABEL, SETTINGS, SimulatedTask, make_replay_task, make_task  # noqa: F401

__all__ = [
    "BenchmarkResult",
    "METHODS",
    "SETTINGS",
    "SimulatedTask",
    "heterogeneous_noise_matrices",
    "load_paper_results",
    "make_model",
    "make_replay_task",
    "make_task",
    "method_and_crowd_model",
    "mixed_annotator_accuracies",
    "plot_results",
    "run_benchmark",
    "run_method",
    "shared_noise_matrix",
    "simulate_annotator_labels",
]
