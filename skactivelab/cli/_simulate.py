"""``skactivelab demo`` and ``skactivelab benchmark``: simulations with noisy annotators."""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from ._common import (
    N_JOBS_DEFAULT,
    Progress,
    add_crowd_model_option,
    fraction,
    n_jobs,
    positive_int,
    recorded_warnings,
    resolve_n_jobs,
    seed,
    warnings_to_stderr,
)
from ._write import OutputPathError, check_output_paths, write_files_atomically

DEMO_EXAMPLE = """example:
  skactivelab demo                       # ~30-60 s on 2 cores, writes ./skactivelab-demo/
  skactivelab demo --rounds 5 --batch 40 --seed 1 --out /tmp/demo
"""

BENCH_EXAMPLE = """example:
  skactivelab benchmark --dataset wall_robot --setting multiannotator --model extratrees \\
      --rounds 20 --batch 100 --seeds 5 --out results/wall_robot_et --n-jobs 2
  skactivelab benchmark --dataset digits --rounds 5 --batch 50 --seeds 1 --methods random,activelab
  skactivelab benchmark --dataset music_genre --data path/to/music_genre --model logreg \\
      --rounds 8 --batch 50 --seeds 12 --methods random,activelab,activelab:annotator_confusion \\
      --n-jobs 1
  skactivelab benchmark --dataset crowd --crowd-files labels.csv truth.csv features.csv test.csv \\
      --model logreg --rounds 5 --batch 20 --methods random,activelab,activelab_suggest_nocap \\
      --crowd-model annotator_confusion
"""


def _table(result, metric_names=("test_accuracy", "consensus_accuracy")):
    """Per-round table: one column per method and metric (means over seeds)."""
    curves = {m: result.curves(m) for m in metric_names}
    methods = result.methods()
    short = {"test_accuracy": "test", "consensus_accuracy": "cons"}
    head = ["round"] + [f"{m}:{short[k]}" for m in methods for k in metric_names]
    widths = [max(6, len(h)) for h in head]
    lines = ["  ".join(h.rjust(w) for h, w in zip(head, widths))]
    n_r = next(iter(curves[metric_names[0]].values())).shape[1]
    for r in range(n_r):
        cells = [str(r)] + [f"{curves[k][m][:, r].mean():.4f}" for m in methods for k in metric_names]
        lines.append("  ".join(c.rjust(w) for c, w in zip(cells, widths)))
    return "\n".join(lines)


def _final_table(result, paper=None):
    s = result.summary()
    lines = [f"{'method':<20}{'test acc':>18}{'consensus acc':>20}" + (f"{'paper test':>12}{'paper cons':>12}" if paper else "")]
    for m, d in s.items():
        line = (f"{m:<20}{d['test_accuracy_mean']:>10.4f} ± {d['test_accuracy_std']:.4f}"
                f"{d['consensus_accuracy_mean']:>12.4f} ± {d['consensus_accuracy_std']:.4f}")
        if paper:
            p = paper.get(m, {})
            line += "".join(f"{p[k][-1]:>12.4f}" if k in p else f"{'-':>12}" for k in ("test_accuracy", "consensus_accuracy"))
        lines.append(line)
    return "\n".join(lines)


def _count(n, word):
    return f"{n} {word}" + ("" if n == 1 else "s")


class RunLines:
    """The progress lines of a simulation on stderr: one per round of each run, printed
    by the process that runs it (a worker process with ``--n-jobs`` > 1: this object is
    pickled), and one per finished run. Times count from the command's start."""

    def __init__(self, command, n_rounds):
        self.command, self.n_rounds, self.start = command, n_rounds, time.time()

    def _say(self, message):
        print(f"skactivelab: {self.command}: {message} ({time.time() - self.start:.0f} s)",
              file=sys.stderr, flush=True)

    def round(self, method, seed, r, record):
        """``round_progress`` of ``run_benchmark``."""
        self._say(f"{method} seed {seed}, round {r} of {self.n_rounds}: test accuracy "
                  f"{record['test_accuracy']:.3f}, consensus accuracy "
                  f"{record['consensus_accuracy']:.3f}")

    def run(self, done, total, method, seed, seconds):
        """``progress`` of ``run_benchmark``."""
        self._say(f"[{done}/{total}] {method} seed={seed} done")


def _progress_of(args, command):
    """``(progress, round_progress)`` for ``run_benchmark``, both None with ``--quiet``."""
    if args.quiet:
        return None, None
    lines = RunLines(command, args.rounds)
    return lines.run, lines.round


def _outputs(out, stem):
    return {out / f"{stem}{ext}": "--out" for ext in (".csv", ".json", ".png")}


def _check_out(out, stem):
    """Refuse an --out that is a file, or outputs that cannot be replaced, before any work."""
    if out.exists() and not out.is_dir():
        raise OutputPathError(f"--out {out} is a file; give a directory (it is created if "
                              "missing). Nothing was written.")
    check_output_paths(_outputs(out, stem))


def _save(result, out, stem, paper=None, title=None):
    """Write CSV, JSON and plot: all of them or none (rendered aside, then moved in)."""
    import tempfile

    from ..simulation import plot_results

    with tempfile.TemporaryDirectory(prefix=".skactivelab-") as tmp:
        tmp = Path(tmp)
        result.to_csv(tmp / f"{stem}.csv")
        result.to_json(tmp / f"{stem}.json")
        png = out / f"{stem}.png"
        try:
            plot_results(result, tmp / png.name, paper=paper, title=title)
        except ImportError as exc:
            print(f"note: no plot written ({exc})")
            png = None
        names = [f"{stem}.csv", f"{stem}.json"] + ([png.name] if png else [])
        write_files_atomically({out / name: (tmp / name).read_bytes() for name in names})
    return png


DEMO_METHODS = ("random", "uncertainty", "activelab")


def _run_demo(args):
    _check_out(Path(args.out), "demo")
    Progress(args.quiet)(f"demo: loading scikit-learn's digits, then {', '.join(DEMO_METHODS)}: "
                         f"{_count(args.rounds, 'round')} of {args.batch} labels each (seed "
                         f"{args.seed}); "
                         "a line per round follows", force=True)
    resolve_n_jobs(args)
    from sklearn.ensemble import ExtraTreesClassifier

    from ..datasets import load_digits_data
    from ..simulation import run_benchmark

    ds = load_digits_data()
    print(
        f"skactivelab demo: {ds.data.shape[0]} digits, 20 simulated annotators ~70% accurate, "
        f"half the training set labeled (mostly once), {args.rounds} rounds x {args.batch} labels, "
        f"ExtraTrees(50 trees), 5-fold CV, seed {args.seed}.\n"
        "Every method trains on CROWDLAB consensus labels; ActiveLab may also ask for a second "
        "opinion on an already labeled example."
    )
    t0 = time.perf_counter()
    progress, round_progress = _progress_of(args, "demo")
    result = run_benchmark(
        ds.data,
        ds.target,
        setting="multiannotator",
        methods=DEMO_METHODS,
        seeds=(args.seed,),
        model=ExtraTreesClassifier(n_estimators=50, n_jobs=1),
        n_rounds=args.rounds,
        batch_size=args.batch,
        n_jobs=args.n_jobs,
        task_kwargs=dict(n_annotators=20, trace=0.7),
        progress=progress,
        round_progress=round_progress,
    )
    elapsed = time.perf_counter() - t0
    print()
    print(_table(result))
    print()
    print(_final_table(result))
    png = _save(result, Path(args.out), "demo", title="skactivelab demo: digits, 20 noisy annotators")
    print(f"\n{elapsed:.0f} s. Results: {Path(args.out) / 'demo.csv'}" + (f", plot: {png}" if png else ""))
    return 0


#: File names of a real crowd directory (``--dataset crowd --data DIR``).
CROWD_FILES = ("annotations.csv", "truth.csv", "features.csv", "test.csv")


def _benchmark_options(args):
    """``(methods, replay)``: the names of ``--methods``, after the checks of options that go
    together (no import: these come before the first progress line)."""
    methods = tuple(m.strip() for m in args.methods.split(",") if m.strip())
    if not methods:
        raise ValueError("--methods is empty; give a comma-separated list of the methods "
                         "that skactivelab benchmark --help names.")
    replay = args.dataset in ("music_genre", "crowd")
    if args.crowd_files and args.dataset != "crowd":
        raise ValueError("--crowd-files goes with --dataset crowd.")
    if args.dataset == "crowd" and not (args.crowd_files or args.data):
        raise ValueError("--dataset crowd needs --data DIR (with annotations.csv, truth.csv, features.csv "
                         "and test.csv) or --crowd-files ANNOTATIONS TRUTH FEATURES TEST.")
    if args.dataset == "crowd" and args.crowd_files and args.data:
        raise ValueError("--dataset crowd takes --data DIR or --crowd-files, not both.")
    return methods, replay


def _check_names(args, methods, replay):
    """``--methods`` (in their current spelling, deprecated names said on stderr) and
    ``--setting`` are names the simulation knows."""
    from ..simulation import METHODS, SETTINGS
    from ..simulation.protocol import canonical_method, method_and_crowd_model

    with recorded_warnings() as caught:
        try:
            methods = tuple(canonical_method(m) for m in methods)
            for m in methods:
                method_and_crowd_model(m, args.crowd_model)
        except ValueError as exc:
            raise ValueError(f"--methods: {exc} Choose from {','.join(METHODS)}.") from None
    warnings_to_stderr(caught)
    if args.setting not in SETTINGS and not replay:
        raise ValueError(f"--setting: unknown setting {args.setting!r}; choose from "
                         f"{', '.join(SETTINGS)}.")
    return methods


def _wall_robot_copy(args):
    """The local Wall Robot CSV (``--data``, else ``$SKACTIVELAB_WALL_ROBOT``, as
    :func:`skactivelab.datasets.load_wall_robot` reads it), or None: then it is downloaded."""
    return args.data or os.environ.get("SKACTIVELAB_WALL_ROBOT") or None


def _downloads(args):
    return args.dataset.startswith("wall_robot") and _wall_robot_copy(args) is None


def _loading(args):
    """What the first progress line says of the data."""
    if _downloads(args):
        return f"downloading {args.dataset} from OpenML (dataset 1526; needs the internet)"
    return f"loading {args.dataset}" + (f" from {args.data}" if args.data else "")


def _download_failed(args, exc):
    """The error of a failed Wall Robot download: what it needs, and what to do offline."""
    reason = getattr(exc, "reason", None) or exc
    return ValueError(
        f"--dataset {args.dataset} is downloaded from OpenML (dataset 1526), which needs the "
        f"internet, and the download failed ({reason}). Give a local copy with --data "
        "path/to/wall_robot.csv (or $SKACTIVELAB_WALL_ROBOT), or run --dataset digits, which "
        "needs no download.")


def _benchmark_data(args, replay):
    """``(X, y, source, crowd, task_kwargs)``: a dataset, or a real crowd to replay."""
    from ..datasets import load_dataset, load_music_genre, load_real_crowd

    crowd, task_kwargs = None, dict(n_annotators=args.annotators, trace=args.trace)
    try:
        with recorded_warnings() as caught:
            if replay:  # replay a real crowd's labels
                if args.crowd_files:
                    crowd = load_real_crowd(*args.crowd_files)
                elif args.dataset == "crowd":
                    crowd = load_real_crowd(*[Path(args.data) / f for f in CROWD_FILES])
                else:
                    crowd = load_music_genre(args.data)
                X, y, source = crowd.data, crowd.target, crowd.source
            else:
                X, y, source = load_dataset(args.dataset, args.data, random_state=args.data_seed)
    except OSError as exc:
        if _downloads(args):  # the network's warnings (retries) are not shown
            raise _download_failed(args, exc) from None
        raise ValueError(f"cannot load {args.dataset}: {exc}") from None
    except ValueError as exc:
        raise ValueError(f"cannot load {args.dataset}: {exc}") from None
    warnings_to_stderr(caught)
    if replay:
        initial = args.initial if args.initial is not None else (350 if args.dataset == "music_genre" else None)
        task_kwargs, args.setting = dict(n_initial=initial), "replay"
    return X, y, source, crowd, task_kwargs


def _paper_results(args):
    """The paper's curves for the Wall Robot settings, when a paper CSV is at hand."""
    from ..simulation import load_paper_results

    paper_csv = Path(args.paper) if args.paper else None
    if paper_csv is None and args.dataset.startswith("wall_robot"):
        from ..datasets import default_wall_robot_path

        local = default_wall_robot_path() or (Path(args.data) if args.data else None)
        cand = local.parent / "paper_results_wall_robot.csv" if local else None
        paper_csv = cand if cand is not None and cand.exists() else None
    if paper_csv is not None and paper_csv.exists():
        return load_paper_results(paper_csv, args.setting, args.model) or None
    return None


def _print_benchmark(args, result, paper, n_seeds):
    print()
    print(_table(result))
    print(f"\nround {args.rounds} (mean ± std over {n_seeds} seed(s))"
          + ("; paper columns: its last recorded round (round_19)" if paper else ""))
    print(_final_table(result, paper))
    n_ann = {(r["method"], r["seed"], r["round"]): r["n_annotations"] for r in result.records}
    short = [m for (m, s_, r), n in n_ann.items() if r > 0 and n - n_ann[m, s_, r - 1] < args.batch]
    if short:
        print(f"\nnote: some rounds collected fewer than --batch {args.batch} labels ({', '.join(dict.fromkeys(short))}): "
              "only examples that can still get a label may be picked, each at most once per round.")


def _run_benchmark(args):
    methods, replay = _benchmark_options(args)
    setting = "replay" if replay else args.setting
    stem = f"{args.dataset}_{setting}_{args.model}"
    _check_out(Path(args.out), stem)
    Progress(args.quiet)(f"benchmark: {_loading(args)}, then {_count(len(methods), 'method')} x "
                         f"{_count(args.seeds, 'seed')}: {_count(args.rounds, 'round')} of "
                         f"{args.batch} labels each; "
                         "a line per round follows", force=True)
    resolve_n_jobs(args)
    from ..simulation import run_benchmark

    methods = _check_names(args, methods, replay)
    X, y, source, crowd, task_kwargs = _benchmark_data(args, replay)
    seeds = list(range(args.first_seed, args.first_seed + args.seeds))
    print(f"benchmark: {args.dataset} from {source}: {X.shape[0]} rows, {X.shape[1]} features; setting "
          f"{args.setting}; model {args.model}; methods {','.join(methods)}; {args.rounds} rounds x "
          f"{args.batch}; seeds {seeds}; consensus {args.consensus}; crowd model {args.crowd_model}; "
          f"n_jobs {args.n_jobs}")
    t0 = time.perf_counter()
    progress, round_progress = _progress_of(args, "benchmark")
    result = run_benchmark(
        X, y, setting=args.setting, methods=methods, seeds=seeds, model=args.model,
        n_rounds=args.rounds, batch_size=args.batch, n_jobs=args.n_jobs, task_kwargs=task_kwargs,
        consensus=args.consensus, progress=progress, round_progress=round_progress, crowd=crowd,
        crowd_model=args.crowd_model,
    )
    result.config.update(dataset=args.dataset, data_source=source)
    elapsed = time.perf_counter() - t0
    paper = _paper_results(args)
    _print_benchmark(args, result, paper, len(seeds))
    png = _save(result, Path(args.out), stem, paper=paper,
                title=f"{args.dataset}, {args.setting}, {args.model}, {args.rounds} rounds x {args.batch}")
    print(f"\n{elapsed:.0f} s. Results in {args.out}/{stem}.csv/.json" + (f", plot {png}" if png else ""))
    return 0


def add_simulation_commands(sub):
    """Register ``demo`` and ``benchmark`` on the subparsers of the one parser."""
    _add_demo(sub)
    _add_benchmark(sub)
    return sub


def _add_demo(sub):
    d = sub.add_parser(
        "demo",
        help="multi-annotator ActiveLab simulation on the bundled digits (no file, no network)",
        description="Compare ActiveLab with random and uncertainty sampling on scikit-learn's digits "
        "with simulated noisy annotators; print a per-round table and write a plot.",
        epilog=DEMO_EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    d.add_argument("--out", default="skactivelab-demo", help="output directory (default: ./skactivelab-demo)")
    d.add_argument("--rounds", type=positive_int, default=10, help="annotation rounds (default: 10)")
    d.add_argument("--batch", type=positive_int, default=50,
                   help="labels collected per round (default: 50)")
    d.add_argument("--seed", type=seed, default=0, help="random seed (default: 0)")
    d.add_argument("--n-jobs", type=n_jobs, default=None,
                   help=f"parallel runs; -1 for all CPUs (default: {N_JOBS_DEFAULT})")
    d.add_argument("--quiet", action="store_true", help="no progress messages on stderr")
    d.set_defaults(func=_run_demo)


def _add_benchmark(sub):
    b = sub.add_parser(
        "benchmark",
        help="the paper's benchmark protocol on Wall Robot or digits, or replaying a real crowd",
        description="Run every method x seed of the ActiveLab benchmark protocol (docs/reproduction.md); "
        "write CSV, JSON and a plot (beside the paper's curves for Wall Robot).",
        epilog=BENCH_EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    b.add_argument("--dataset", choices=("wall_robot", "wall_robot_4", "wall_robot_full", "digits", "music_genre",
                                         "crowd"),
                   default="wall_robot",
                   help="crowd: replay any real crowd given as four CSV files (--data DIR or --crowd-files)")
    b.add_argument("--data", default=None, help="path to wall_robot.csv (default: $SKACTIVELAB_WALL_ROBOT, else OpenML 1526 "
                   "online; the paper's curves are read from paper_results_wall_robot.csv beside it); "
                   "for music_genre the directory of its CSV files "
                   "(default: $SKACTIVELAB_MUSIC_GENRE); for crowd a directory with annotations.csv "
                   "(example, annotator, label), truth.csv (example, label), features.csv (example, "
                   "features...) and test.csv (example, label, features...)")
    b.add_argument("--crowd-files", nargs=4, metavar=("ANNOTATIONS", "TRUTH", "FEATURES", "TEST"), default=None,
                   help="crowd: the four CSV files by name instead of --data DIR")
    b.add_argument("--initial", type=positive_int, default=None,
                   help="music_genre, crowd: examples that start with one real label (default: 350 for "
                   "music_genre, half of the annotated examples for crowd)")
    b.add_argument("--setting", default="multiannotator",
                   help="multiannotator | large_pool | large_pool_no_relabel | single_label | label_cleaning")
    b.add_argument("--model", default="extratrees", choices=("extratrees", "randomforest", "mlp", "logreg", "knn"))
    b.add_argument("--methods", default="random,good_random,entropy,uncertainty,activelab",
                   help="comma-separated: random,good_random,entropy,uncertainty,activelab,activelab_ensemble,"
                   "activelab_suggest,activelab_suggest_nocap; a method may name its crowd model after a "
                   "colon (activelab:annotator_confusion), to compare crowd models in one run")
    b.add_argument("--rounds", type=positive_int, default=20)
    b.add_argument("--batch", type=positive_int, default=100)
    b.add_argument("--seeds", type=positive_int, default=5, help="number of seeds (default: 5)")
    b.add_argument("--first-seed", type=seed, default=0)
    b.add_argument("--data-seed", type=seed, default=123, help="seed of the Wall Robot class-stratified subset")
    b.add_argument("--annotators", type=positive_int, default=30)
    b.add_argument("--trace", type=fraction, default=0.85,
                   help="mean annotator accuracy (noise matrix trace / K), in (0, 1]")
    b.add_argument("--consensus", default="crowdlab", choices=("crowdlab", "majority_vote", "paper"),
                   help="training labels each round (default crowdlab for every method; 'paper': "
                   "majority vote for baselines as in the paper's code)")
    add_crowd_model_option(b, "the training labels (where --consensus uses CROWDLAB), the ActiveLab "
                           "scores and the annotator suggestions of the methods that name none", shares=False)
    b.add_argument("--paper", default=None, help="paper_results_wall_robot.csv to plot beside ours")
    b.add_argument("--out", default="skactivelab-benchmark", help="output directory")
    b.add_argument("--n-jobs", type=n_jobs, default=None,
                   help=f"parallel runs; -1 for all CPUs (default: {N_JOBS_DEFAULT})")
    b.add_argument("--quiet", action="store_true", help="no progress messages on stderr")
    b.set_defaults(func=_run_benchmark)
