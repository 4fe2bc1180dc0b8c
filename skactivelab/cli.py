"""Command line: ``skactivelab demo`` and ``skactivelab benchmark``.

Also runs as ``python -m skactivelab ...``. This is the only module that prints.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

DEMO_EXAMPLE = """example:
  skactivelab demo                       # ~30-60 s on 2 cores, writes ./skactivelab-demo/
  skactivelab demo --rounds 5 --batch 40 --seed 1 --out /tmp/demo
"""

BENCH_EXAMPLE = """example:
  skactivelab benchmark --dataset wall_robot --setting multiannotator --model extratrees \\
      --rounds 20 --batch 100 --seeds 5 --out results/wall_robot_et --n-jobs 2
  skactivelab benchmark --dataset digits --rounds 5 --batch 50 --seeds 1 --methods random,activelab
  skactivelab benchmark --dataset music_genre --data ../shared/data/music_genre --model logreg \\
      --rounds 8 --batch 50 --seeds 12 --methods random,activelab,activelab_em --n-jobs 1
"""


def _eprint(*args):
    print(*args, file=sys.stderr, flush=True)


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


def _progress(done, total, method, seed, seconds):
    _eprint(f"[{done}/{total}] {method} seed={seed} done ({seconds:.0f} s elapsed)")


def _save(result, out, stem, paper=None, title=None):
    from .simulation import plot_results

    out.mkdir(parents=True, exist_ok=True)
    result.to_csv(out / f"{stem}.csv")
    result.to_json(out / f"{stem}.json")
    png = out / f"{stem}.png"
    try:
        plot_results(result, png, paper=paper, title=title)
    except ImportError as exc:
        print(f"note: no plot written ({exc})")
        png = None
    return png


def _cmd_demo(args):
    from sklearn.ensemble import ExtraTreesClassifier

    from .datasets import load_digits_data
    from .simulation import run_benchmark

    ds = load_digits_data()
    print(
        f"skactivelab demo: {ds.data.shape[0]} digits, 20 simulated annotators ~70% accurate, "
        f"half the training set labeled (mostly once), {args.rounds} rounds x {args.batch} labels, "
        f"ExtraTrees(50 trees), 5-fold CV, seed {args.seed}.\n"
        "Every method trains on CROWDLAB consensus labels; ActiveLab may also ask for a second "
        "opinion on an already labeled example."
    )
    t0 = time.perf_counter()
    result = run_benchmark(
        ds.data,
        ds.target,
        setting="multiannotator",
        methods=("random", "uncertainty", "activelab"),
        seeds=(args.seed,),
        model=ExtraTreesClassifier(n_estimators=50, n_jobs=1),
        n_rounds=args.rounds,
        batch_size=args.batch,
        n_jobs=args.n_jobs,
        task_kwargs=dict(n_annotators=20, trace=0.7),
        progress=_progress,
    )
    elapsed = time.perf_counter() - t0
    print()
    print(_table(result))
    print()
    print(_final_table(result))
    png = _save(result, Path(args.out), "demo", title="skactivelab demo: digits, 20 noisy annotators")
    print(f"\n{elapsed:.0f} s. Results: {Path(args.out) / 'demo.csv'}" + (f", plot: {png}" if png else ""))
    return 0


def _cmd_benchmark(args):
    from .datasets import load_dataset
    from .simulation import METHODS, SETTINGS, load_paper_results, run_benchmark

    methods = tuple(m.strip() for m in args.methods.split(",") if m.strip())
    for m in methods:
        if m not in METHODS:
            raise SystemExit(f"unknown method {m!r}; choose from {','.join(METHODS)}")
    if args.setting not in SETTINGS and args.dataset != "music_genre":
        raise SystemExit(f"unknown setting {args.setting!r}; choose from {','.join(SETTINGS)}")
    crowd, task_kwargs = None, dict(n_annotators=args.annotators, trace=args.trace)
    try:
        if args.dataset == "music_genre":  # replay a real crowd's labels
            from .datasets import load_music_genre

            crowd = load_music_genre(args.data)
            X, y, source = crowd.data, crowd.target, crowd.source
            task_kwargs, args.setting = dict(n_initial=args.initial), "replay"
        else:
            X, y, source = load_dataset(args.dataset, args.data, random_state=args.data_seed)
    except (FileNotFoundError, OSError, ValueError) as exc:
        raise SystemExit(f"cannot load {args.dataset}: {exc}") from None
    seeds = list(range(args.first_seed, args.first_seed + args.seeds))
    print(f"benchmark: {args.dataset} from {source}: {X.shape[0]} rows, {X.shape[1]} features; setting "
          f"{args.setting}; model {args.model}; methods {','.join(methods)}; {args.rounds} rounds x "
          f"{args.batch}; seeds {seeds}; consensus {args.consensus}; n_jobs {args.n_jobs}")
    t0 = time.perf_counter()
    result = run_benchmark(
        X, y,
        setting=args.setting,
        methods=methods,
        seeds=seeds,
        model=args.model,
        n_rounds=args.rounds,
        batch_size=args.batch,
        n_jobs=args.n_jobs,
        task_kwargs=task_kwargs,
        consensus=args.consensus,
        progress=_progress,
        crowd=crowd,
    )
    result.config.update(dataset=args.dataset, data_source=source)
    elapsed = time.perf_counter() - t0
    paper = None
    paper_csv = Path(args.paper) if args.paper else None
    if paper_csv is None and args.dataset.startswith("wall_robot"):
        from .datasets import default_wall_robot_path

        cand = default_wall_robot_path().parent / "paper_results_wall_robot.csv"
        paper_csv = cand if cand.exists() else None
    if paper_csv is not None and paper_csv.exists():
        paper = load_paper_results(paper_csv, args.setting, args.model) or None
    print()
    print(_table(result))
    print(f"\nround {args.rounds} (mean ± std over {len(seeds)} seed(s))"
          + ("; paper columns: its last recorded round (round_19)" if paper else ""))
    print(_final_table(result, paper))
    stem = f"{args.dataset}_{args.setting}_{args.model}"
    png = _save(result, Path(args.out), stem, paper=paper,
                title=f"{args.dataset}, {args.setting}, {args.model}, {args.rounds} rounds x {args.batch}")
    print(f"\n{elapsed:.0f} s. Results in {args.out}/{stem}.csv/.json" + (f", plot {png}" if png else ""))
    return 0


def build_parser():
    parser = argparse.ArgumentParser(
        prog="skactivelab",
        description="ActiveLab and CROWDLAB: what to label or re-label next with several noisy annotators.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="example:\n  skactivelab demo\n  skactivelab benchmark --help",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    n_cpu = min(2, os.cpu_count() or 1)

    d = sub.add_parser(
        "demo",
        help="multi-annotator ActiveLab simulation on the bundled digits (no file, no network)",
        description="Compare ActiveLab with random and uncertainty sampling on scikit-learn's digits "
        "with simulated noisy annotators; print a per-round table and write a plot.",
        epilog=DEMO_EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    d.add_argument("--out", default="skactivelab-demo", help="output directory (default: ./skactivelab-demo)")
    d.add_argument("--rounds", type=int, default=10, help="annotation rounds (default: 10)")
    d.add_argument("--batch", type=int, default=50, help="labels collected per round (default: 50)")
    d.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    d.add_argument("--n-jobs", type=int, default=n_cpu, help=f"parallel runs (default: {n_cpu})")
    d.set_defaults(func=_cmd_demo)

    b = sub.add_parser(
        "benchmark",
        help="the paper's benchmark protocol on Wall Robot or digits",
        description="Run every method x seed of the ActiveLab benchmark protocol (spec section 7); "
        "write CSV, JSON and a plot (beside the paper's curves for Wall Robot).",
        epilog=BENCH_EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    b.add_argument("--dataset", choices=("wall_robot", "wall_robot_4", "wall_robot_full", "digits", "music_genre"),
                   default="wall_robot")
    b.add_argument("--data", default=None, help="path to wall_robot.csv (default: ../shared/data beside the "
                   "project, else OpenML 1526 online); for music_genre the directory of its CSV files "
                   "(default: $SKACTIVELAB_MUSIC_GENRE)")
    b.add_argument("--initial", type=int, default=350,
                   help="music_genre: examples that start with one real label (default: 350)")
    b.add_argument("--setting", default="multiannotator",
                   help="multiannotator | large_pool | large_pool_no_relabel | single_label | label_cleaning")
    b.add_argument("--model", default="extratrees", choices=("extratrees", "randomforest", "mlp", "logreg", "knn"))
    b.add_argument("--methods", default="random,good_random,entropy,uncertainty,activelab",
                   help="comma-separated: random,good_random,entropy,uncertainty,activelab,activelab_ensemble,"
                   "activelab_suggest,activelab_suggest_nocap,activelab_em")
    b.add_argument("--rounds", type=int, default=20)
    b.add_argument("--batch", type=int, default=100)
    b.add_argument("--seeds", type=int, default=5, help="number of seeds (default: 5)")
    b.add_argument("--first-seed", type=int, default=0)
    b.add_argument("--data-seed", type=int, default=123, help="seed of the Wall Robot class-stratified subset")
    b.add_argument("--annotators", type=int, default=30)
    b.add_argument("--trace", type=float, default=0.85, help="mean annotator accuracy (noise matrix trace / K)")
    b.add_argument("--consensus", default="crowdlab", choices=("crowdlab", "majority_vote", "paper"),
                   help="training labels each round (default crowdlab for every method; 'paper': "
                   "majority vote for baselines as in the paper's code)")
    b.add_argument("--paper", default=None, help="paper_results_wall_robot.csv to plot beside ours")
    b.add_argument("--out", default="skactivelab-benchmark", help="output directory")
    b.add_argument("--n-jobs", type=int, default=n_cpu)
    b.set_defaults(func=_cmd_benchmark)

    try:  # ``score`` and ``fit`` on files, when that module is present
        from ._team_cli import add_team_commands
    except ImportError:
        pass
    else:
        add_team_commands(sub)
    return parser


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
