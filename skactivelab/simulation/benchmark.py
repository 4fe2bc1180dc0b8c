"""Every method on every seed, and its results: :func:`run_benchmark` returns a
:class:`BenchmarkResult` (``to_csv``, ``to_json``, ``summary``); :func:`plot_results`
draws accuracy against round per method (matplotlib, optional), optionally beside the
paper's curves (:func:`load_paper_results`).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from functools import partial

import numpy as np

from .protocol import DETAIL_KEYS, METHODS, canonical_method, method_and_crowd_model, run_method
from .tasks import make_replay_task, make_task

__all__ = ["BenchmarkResult", "load_paper_results", "plot_results", "run_benchmark"]


@dataclass
class BenchmarkResult:
    """Per-round records of a benchmark: one row per (method, seed, round).

    Examples
    --------
    >>> rows = [dict(method="random", seed=s, round=r, test_accuracy=0.5 + 0.1 * r + 0.1 * s,
    ...              consensus_accuracy=0.8) for s in (0, 1) for r in (0, 1)]
    >>> result = BenchmarkResult(records=rows)
    >>> result.methods(), result.curves("test_accuracy")["random"].shape
    (['random'], (2, 2))
    >>> round(result.summary()["random"]["test_accuracy_mean"], 6)
    0.65
    """

    records: list
    config: dict = field(default_factory=dict)

    _COLUMNS = ("setting", "model", "method", "seed", "round", "test_accuracy", "consensus_accuracy",
                "n_labeled", "n_annotations", "n_relabel_picks", "seconds")

    def methods(self):
        return list(dict.fromkeys(r["method"] for r in self.records))

    def curves(self, metric):
        """``{method: array (n_seeds, n_rounds + 1)}`` of a metric."""
        out = {}
        for m in self.methods():
            rows = [r for r in self.records if r["method"] == m]
            seeds = sorted({r["seed"] for r in rows})
            n_r = max(r["round"] for r in rows) + 1
            arr = np.full((len(seeds), n_r), np.nan)
            for r in rows:
                arr[seeds.index(r["seed"]), r["round"]] = r[metric]
            out[m] = arr
        return out

    def summary(self, round=None):
        """``{method: {metric_mean, metric_std}}`` at ``round`` (default: last)."""
        out = {}
        for metric in ("test_accuracy", "consensus_accuracy"):
            for m, arr in self.curves(metric).items():
                col = arr[:, -1 if round is None else round]
                d = out.setdefault(m, {"n_seeds": int(np.sum(~np.isnan(col)))})
                d[f"{metric}_mean"] = float(np.nanmean(col))
                d[f"{metric}_std"] = float(np.nanstd(col))
        return out

    def to_csv(self, path):
        import csv

        extra = [k for k in DETAIL_KEYS if self.records and k in self.records[0]]
        with open(path, "w", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=list(self._COLUMNS) + extra, extrasaction="ignore")
            w.writeheader()
            w.writerows(self.records)

    def to_json(self, path):
        with open(path, "w") as fh:
            json.dump({"config": self.config, "summary": self.summary(), "records": self.records}, fh, indent=1,
                      default=_json_default)

    def to_frame(self):
        import pandas as pd

        extra = [k for k in DETAIL_KEYS if self.records and k in self.records[0]]
        return pd.DataFrame(self.records, columns=list(self._COLUMNS) + extra)


def _json_default(o):
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    return str(o)


def _job(X, y, setting, method, seed, task_kw, run_kw, crowd=None, round_progress=None, spec=None):
    """One run; ``method`` labels the records, ``spec`` (its new spelling) is run."""
    spec = method if spec is None else spec
    if crowd is not None:
        task = make_replay_task(crowd["annotations"], crowd["target"], crowd["data"], crowd["data_test"],
                                crowd["target_test"], random_state=seed, **task_kw)
    else:
        task = make_task(X, y, setting=setting, random_state=seed, **task_kw)
    # a method's crowd model does not change its random stream: runs differing only in it are paired
    seed_method = np.random.SeedSequence([seed, METHODS.index(spec.partition(":")[0])])
    progress = None if round_progress is None else partial(round_progress, method, seed)
    rec = run_method(task, spec, random_state=seed_method, progress=progress, **run_kw)
    return method, seed, rec


def run_benchmark(
    X,
    y,
    *,
    setting="multiannotator",
    methods=("random", "good_random", "entropy", "uncertainty", "activelab"),
    seeds=(0,),
    model="extratrees",
    n_rounds=20,
    batch_size=100,
    n_jobs=1,
    task_kwargs=None,
    progress=None,
    round_progress=None,
    crowd=None,
    **run_kwargs,
):
    """Every method on every seed; the same simulated task per seed for all methods.

    Parameters
    ----------
    X, y : arrays
        Data with true classes 0..K-1 (see :mod:`skactivelab.datasets`).
    setting : str
        A key of :data:`SETTINGS`.
    methods : sequence of str
        Names of :data:`METHODS`, each optionally with ``":"`` and a crowd
        model (``"activelab:annotator_confusion"``), so that one benchmark can
        compare crowd models; the records name each method as given.
    seeds : sequence of int
        Each seed fixes the split, the annotators, the initial labels and every
        choice of every method.
    model, n_rounds, batch_size : see :func:`run_method`.
    n_jobs : int, default=1
        (method, seed) runs in parallel (joblib processes).
    task_kwargs : dict, optional
        Passed to :func:`make_task` (``n_annotators``, ``trace``, ...), or to
        :func:`make_replay_task` (``n_initial``, ...) with ``crowd``.
    crowd : mapping, optional
        Replay a real crowd instead of simulating annotators: a mapping (e.g.
        the Bunch of :func:`skactivelab.datasets.load_real_crowd`) with
        ``annotations`` (example, annotator, label), ``data``, ``target``,
        ``data_test``, ``target_test``. ``X``, ``y`` and ``setting`` are then
        ignored (the setting is recorded as "replay").
    progress : callable, optional
        ``progress(done, total, method, seed, seconds)`` after each run, in the
        calling process.
    round_progress : callable, optional
        ``round_progress(method, seed, round, record)`` after each round of each
        run (``record``: that round's metrics, as :func:`run_method`'s
        ``progress`` gets them), in the process that runs it: with ``n_jobs`` > 1
        a worker process, so it must be picklable, and what it prints goes to
        the worker's standard streams (the caller's, in a terminal).
    **run_kwargs
        Passed to :func:`run_method` (``consensus``, ``n_folds``, ``crowd_model``
        for the methods that name none, ...).

    Returns
    -------
    BenchmarkResult

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> X, y = make_classification(60, 4, n_informative=3, n_redundant=0, random_state=0)
    >>> result = run_benchmark(X, y, methods=("random", "activelab"), seeds=(0,), model="logreg",
    ...                        n_rounds=1, batch_size=5, n_folds=2, task_kwargs=dict(n_annotators=5))
    >>> result.methods(), len(result.records)  # 2 methods x 1 seed x 2 rounds
    (['random', 'activelab'], 4)
    """
    from joblib import Parallel, delayed

    specs = {m: canonical_method(m) for m in methods}  # deprecated names warned about once, here
    for spec in specs.values():
        method_and_crowd_model(spec, run_kwargs.get("crowd_model"))  # refused before any run
    task_kw = dict(task_kwargs or {})
    run_kw = dict(model=model, n_rounds=n_rounds, batch_size=batch_size, **run_kwargs)
    if crowd is not None:
        missing = [k for k in ("annotations", "data", "target", "data_test", "target_test") if k not in crowd]
        if missing:
            raise ValueError(f"crowd lacks {missing}; see skactivelab.datasets.load_real_crowd.")
        crowd = {k: crowd[k] for k in ("annotations", "data", "target", "data_test", "target_test")}
        setting = "replay"
    jobs = [(m, s) for s in seeds for m in methods]
    t0 = time.perf_counter()
    gen = Parallel(n_jobs=n_jobs, return_as="generator_unordered")(
        delayed(_job)(X, y, setting, m, s, task_kw, run_kw, crowd, round_progress, specs[m]) for m, s in jobs
    )
    results = {}
    for done, (m, s, rec) in enumerate(gen, 1):
        results[(m, s)] = rec
        if progress is not None:
            progress(done, len(jobs), m, s, time.perf_counter() - t0)
    model_name = model if isinstance(model, str) else type(model).__name__
    records = []
    for m, s in jobs:
        rec = results[(m, s)]
        for i in range(rec["round"].size):
            row = {"setting": setting, "model": model_name, "method": m, "seed": int(s)}
            row.update({k: rec[k][i].item() for k in rec})
            records.append(row)
    config = dict(setting=setting, methods=list(methods), seeds=[int(s) for s in seeds], model=model_name,
                  n_rounds=n_rounds, batch_size=batch_size, n_jobs=n_jobs, task_kwargs=task_kw,
                  run_kwargs={k: v if isinstance(v, (str, int, float, bool)) else repr(v)
                              for k, v in run_kwargs.items() if isinstance(v, (str, int, float, bool))
                              or k == "crowd_model"},
                  total_seconds=time.perf_counter() - t0)
    return BenchmarkResult(records=records, config=config)


# --------------------------------------------------------------------------- paper & plots
_PAPER_SETTING = {"multiannotator": "wall-robot", "label_cleaning": "wall-robot-completely-labeled"}
_PAPER_MODEL = {"extratrees": "et", "mlp": "mlp"}


def load_paper_results(path, setting="multiannotator", model="extratrees"):
    """The paper's mean curves: ``{method: {metric: array (20,)}}`` from
    ``paper_results_wall_robot.csv`` (setting and model in our names or the CSV's).

    Examples
    --------
    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "paper.csv"
    >>> _ = path.write_text("setting,model,method,metric,n_runs,round_0,round_1\\n"
    ...                     "wall-robot,et,random,test_accuracy,5,0.80,0.82\\n")
    >>> load_paper_results(path)["random"]["test_accuracy"].tolist()
    [0.8, 0.82]
    """
    import csv

    s = _PAPER_SETTING.get(setting, setting)
    mo = _PAPER_MODEL.get(model, model)
    out = {}
    with open(path, newline="") as fh:
        for row in csv.DictReader(fh):
            if row["setting"] == s and row["model"] == mo:
                vals = np.array([float(row[k]) for k in row if k.startswith("round_")])
                out.setdefault(row["method"], {})[row["metric"]] = vals
    return out


def _pyplot():
    try:
        import matplotlib

        matplotlib.use("Agg", force=False)
        import matplotlib.pyplot as plt
    except ImportError:
        raise ImportError(
            "plotting needs matplotlib: pip install 'skactivelab[plot]' (or pip install matplotlib)."
        ) from None
    return plt


def plot_results(result, path, *, paper=None, title=None):
    """Mean test and consensus accuracy against round, one line per method.

    With ``paper`` (from :func:`load_paper_results`) the paper's curves are drawn
    in a second row with the same axes. Writes ``path`` (PNG) and returns it.
    Needs matplotlib.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> rows = [dict(method="random", seed=0, round=r, test_accuracy=0.7 + 0.1 * r,
    ...              consensus_accuracy=0.8) for r in (0, 1)]
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "curves.png"
    >>> plot_results(BenchmarkResult(records=rows), path) == path and path.stat().st_size > 0
    True
    """
    plt = _pyplot()
    metrics = ("test_accuracy", "consensus_accuracy")
    nrows = 2 if paper else 1
    fig, axes = plt.subplots(nrows, 2, figsize=(11, 4.2 * nrows), squeeze=False)
    cmap = plt.get_cmap("tab10")
    names = list(dict.fromkeys(list(result.methods()) + (list(paper) if paper else [])))
    colors = {m: cmap(i % 10) for i, m in enumerate(names)}
    n_seeds = len({r["seed"] for r in result.records})
    for j, metric in enumerate(metrics):
        ax = axes[0, j]
        for m, arr in result.curves(metric).items():
            mean = np.nanmean(arr, axis=0)
            x = np.arange(mean.size)
            ax.plot(x, mean, label=m, color=colors[m], lw=2.2 if m.startswith("activelab") else 1.4)
            if arr.shape[0] > 1:
                ax.fill_between(x, np.nanmin(arr, axis=0), np.nanmax(arr, axis=0), color=colors[m], alpha=0.12)
        ax.set_title(f"skactivelab: {metric.replace('_', ' ')} (mean of {n_seeds} seed(s))")
        ax.set_xlabel("round")
        ax.grid(alpha=0.3)
        if paper:
            axp = axes[1, j]
            for m, d in paper.items():
                if metric in d:
                    axp.plot(np.arange(d[metric].size), d[metric], label=m, color=colors[m],
                             lw=2.2 if m.startswith("activelab") else 1.4)
            axp.set_title(f"paper: {metric.replace('_', ' ')} (mean of 5 runs)")
            axp.set_xlabel("round")
            axp.grid(alpha=0.3)
            lo = min(axes[0, j].get_ylim()[0], axp.get_ylim()[0])
            hi = max(axes[0, j].get_ylim()[1], axp.get_ylim()[1])
            axes[0, j].set_ylim(lo, hi)
            axp.set_ylim(lo, hi)
            axp.legend(fontsize=8, loc="lower right")
    axes[0, 1].legend(fontsize=8, loc="lower right")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
