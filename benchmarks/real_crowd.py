"""Replay a real crowd (the music genre Mechanical Turk data) in the ActiveLab benchmark.

Every method starts from the same ``--initial`` songs with one real label each (per seed),
then collects ``--rounds`` x ``--batch`` more real labels; each pick of a song reveals its
next real label (a per-seed random order of its annotators), or, for the suggest methods,
the label of the remaining annotator with the best CROWDLAB quality.

Prints, per model, the last-round table (mean ± std over seeds), the paired differences
against random selection (mean ± standard error over seeds), the re-label share, and the
round-by-round CROWDLAB details; writes CSV/JSON and plots.

    nice python benchmarks/real_crowd.py --data path/to/music_genre --seeds 12 \\
        --models logreg,extratrees --out results/real_crowd
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from pathlib import Path

import numpy as np

from skactivelab.datasets import load_music_genre
from skactivelab.simulation import DETAIL_KEYS, run_benchmark

METHODS = ("random", "good_random", "uncertainty", "entropy", "activelab", "activelab_suggest",
           "activelab_suggest_nocap", "activelab:annotator_confusion", "activelab_suggest_nocap:annotator_confusion")


def paired(result, metric, base="random", rnd=-1):
    """{method: (mean, std, paired mean diff vs base, its standard error)} at a round."""
    curves = result.curves(metric)
    b = curves[base][:, rnd]
    out = {}
    for m, arr in curves.items():
        v = arr[:, rnd]
        d = v - b
        n = d.size
        out[m] = (v.mean(), v.std(), d.mean(), d.std(ddof=1) / np.sqrt(n) if n > 1 else np.nan)
    return out


def final_table(result, rnd=-1):
    t = paired(result, "test_accuracy", rnd=rnd)
    c = paired(result, "consensus_accuracy", rnd=rnd)
    relab = result.curves("n_relabel_picks")
    n_ann = result.curves("n_annotations")
    lines = ["| method | test acc | Δ test vs random (± se) | consensus acc | Δ consensus vs random (± se) "
             "| re-label share |", "|---|---|---|---|---|---|"]
    for m in result.methods():
        share = relab[m][:, rnd] / np.maximum(n_ann[m][:, rnd] - n_ann[m][:, 0], 1)
        lines.append(f"| {m} | {t[m][0]:.4f} ± {t[m][1]:.4f} | {t[m][2]:+.4f} ± {t[m][3]:.4f} "
                     f"| {c[m][0]:.4f} ± {c[m][1]:.4f} | {c[m][2]:+.4f} ± {c[m][3]:.4f} | {share.mean():.2f} |")
    return "\n".join(lines)


def variant_table(result, variant, rnd=-1):
    """Paired difference of ``variant`` against every other method (± standard error, seeds ahead)."""
    if variant not in result.methods():
        return ""
    lines = [f"| {variant} minus | test | consensus |", "|---|---|---|"]
    cells = {}
    for metric in ("test_accuracy", "consensus_accuracy"):
        curves = result.curves(metric)
        v = curves[variant][:, rnd]
        for m, arr in curves.items():
            d = v - arr[:, rnd]
            se = d.std(ddof=1) / np.sqrt(d.size) if d.size > 1 else np.nan
            cells.setdefault(m, []).append(f"{d.mean():+.4f} ± {se:.4f} ({int(np.sum(d > 0))}/{d.size})")
    for m, (t, c) in cells.items():
        if m != variant:
            lines.append(f"| {m} | {t} | {c} |")
    return "\n".join(lines)


def details_table(result, rnd=1):
    keys = [k for k in DETAIL_KEYS if k in result.records[0]]
    lines = ["| method | " + " | ".join(keys) + " |", "|---" * (len(keys) + 1) + "|"]
    for m in result.methods():
        with warnings.catch_warnings():  # a detail another crowd model leaves NaN: NaN, no warning
            warnings.simplefilter("ignore", RuntimeWarning)
            vals = [np.nanmean(result.curves(k)[m][:, rnd]) for k in keys]
        lines.append(f"| {m} | " + " | ".join(f"{v:.2f}" for v in vals) + " |")
    return "\n".join(lines)


def plot(result, path, title):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 2, figsize=(12, 8))
    cmap = plt.get_cmap("tab10")
    for j, metric in enumerate(("test_accuracy", "consensus_accuracy")):
        curves = result.curves(metric)
        base = curves["random"]
        for i, (m, arr) in enumerate(curves.items()):
            x = np.arange(arr.shape[1])
            lw = 2.2 if m.startswith("activelab") else 1.3
            axes[0, j].plot(x, arr.mean(axis=0), label=m, color=cmap(i), lw=lw)
            d = arr - base
            se = d.std(axis=0, ddof=1) / np.sqrt(d.shape[0])
            axes[1, j].plot(x, d.mean(axis=0), label=m, color=cmap(i), lw=lw)
            axes[1, j].fill_between(x, d.mean(axis=0) - se, d.mean(axis=0) + se, color=cmap(i), alpha=0.12)
        axes[0, j].set_title(f"{metric.replace('_', ' ')} (mean over {base.shape[0]} seeds)")
        axes[1, j].set_title(f"{metric.replace('_', ' ')}: paired difference to random (± se)")
        axes[1, j].axhline(0, color="k", lw=0.8)
        for ax in axes[:, j]:
            ax.set_xlabel("round")
            ax.grid(alpha=0.3)
    axes[0, 1].legend(fontsize=8, loc="lower right")
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def report_merged(a):
    from skactivelab.simulation import BenchmarkResult

    recs = {}
    for path in a.merge:
        with open(path) as fh:
            rows = ([json.loads(line) for line in fh if line.strip()] if path.endswith(".jsonl")
                    else json.load(fh)["records"])
        for r in rows:
            recs[(r.get("model", "?"), r["method"], r["seed"], r["round"])] = r
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    models = sorted({k[0] for k in recs})
    for model in models:
        mine = {k[1:]: v for k, v in recs.items() if k[0] == model}
        # keep only the seeds every method has (paired differences)
        by_m = {}
        for m, s_, _ in mine:
            by_m.setdefault(m, set()).add(s_)
        common = set.intersection(*by_m.values())
        mine = {k: v for k, v in mine.items() if k[1] in common}
        order = [m for m in METHODS if any(k[0] == m for k in mine)]
        order += sorted({k[0] for k in mine} - set(order))
        records = sorted(mine.values(), key=lambda r: (order.index(r["method"]), r["seed"], r["round"]))
        res = BenchmarkResult(records=records)
        seeds = sorted({r["seed"] for r in records})
        n_r = max(r["round"] for r in records)
        name = a.name if len(models) == 1 else f"{a.name}_{model}"
        print(f"## {name} ({model}): seeds {seeds[0]}..{seeds[-1]} ({len(seeds)}), round {n_r}\n")
        print(final_table(res))
        for variant in a.variants.split(","):
            table = variant_table(res, variant)
            if table:
                print(f"\n{variant} against every other method, round {n_r} (seeds ahead):\n" + table)
        print("\nround 1 details:\n" + details_table(res, 1))
        print(f"\nround {n_r} details:\n" + details_table(res, n_r) + "\n")
        res.to_csv(out / f"{name}.csv")
        title = f"music_genre replay, {model}, {a.name}, {len(seeds)} seeds"
        plot(res, out / f"{name}.png", title)
        if a.plot_dir:
            plot(res, Path(a.plot_dir) / f"real_crowd_{name}.png", title)
    return 0


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", help="directory of the music genre crowd")
    p.add_argument("--merge", nargs="+", default=None,
                   help="instead of running: merge these result JSON files (same model; a method's seeds may "
                   "come from several files, later files win) and report them")
    p.add_argument("--name", default="merged", help="with --merge: stem of the outputs")
    p.add_argument("--variants", default="activelab:annotator_confusion,activelab_suggest_nocap:annotator_confusion",
                   help="with --merge: methods compared against every other method")
    p.add_argument("--seeds", type=int, default=12)
    p.add_argument("--first-seed", type=int, default=0)
    p.add_argument("--models", default="logreg")
    p.add_argument("--methods", default=",".join(METHODS))
    p.add_argument("--rounds", type=int, default=8)
    p.add_argument("--batch", type=int, default=50)
    p.add_argument("--initial", type=int, default=350)
    p.add_argument("--n-jobs", type=int, default=1)
    p.add_argument("--out", default="results/real_crowd")
    p.add_argument("--plot-dir", default=None, help="also write the plots here (e.g. docs/_static)")
    p.add_argument("--order", choices=("seed", "method"), default="seed",
                   help="with --jsonl: all methods of a seed first (seed), or all seeds of a method first")
    p.add_argument("--classifier-shares", choices=("keep", "remove"), default=None,
                   help="methods without a ':crowd model' of their own use "
                   "AnnotatorConfusion(classifier_shares=...) for consensus, scores and suggestions "
                   "(default: CROWDLAB)")
    p.add_argument("--jsonl", default=None, help="run seed by seed, appending each (method, seed) run's records "
                   "to this file as it finishes (for long runs on a busy machine; report with --merge)")
    a = p.parse_args(argv)
    if a.merge:
        return report_merged(a)
    crowd = load_music_genre(a.data)
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    seeds = list(range(a.first_seed, a.first_seed + a.seeds))
    methods = tuple(m for m in a.methods.split(",") if m)
    extra = {}
    if a.classifier_shares:
        from skactivelab import AnnotatorConfusion

        extra["crowd_model"] = AnnotatorConfusion(classifier_shares=a.classifier_shares)
    if a.jsonl:
        done = set()
        if Path(a.jsonl).exists():
            with open(a.jsonl) as fh:
                done = {(r["model"], r["method"], r["seed"]) for r in map(json.loads, filter(str.strip, fh))}
        for model in a.models.split(","):
            pairs = ([(s_, m) for m in methods for s_ in seeds] if a.order == "method"
                     else [(s_, m) for s_ in seeds for m in methods])
            for seed, m in pairs:
                if (model, m, seed) in done:
                    continue
                if True:
                    res = run_benchmark(None, None, methods=(m,), seeds=(seed,), model=model, n_rounds=a.rounds,
                                        batch_size=a.batch, n_jobs=1, crowd=crowd,
                                        task_kwargs=dict(n_initial=a.initial), details=True, **extra)
                    with open(a.jsonl, "a") as fh:
                        for r in res.records:
                            fh.write(json.dumps(r, default=float) + "\n")
                    print(f"{model} seed {seed} {m} done", flush=True)
        return 0
    for model in a.models.split(","):
        t0 = time.perf_counter()
        res = run_benchmark(None, None, methods=methods, seeds=seeds, model=model, n_rounds=a.rounds,
                            batch_size=a.batch, n_jobs=a.n_jobs, crowd=crowd,
                            task_kwargs=dict(n_initial=a.initial), details=True, **extra)
        stem = f"music_genre_{model}_s{a.first_seed}-{seeds[-1]}"
        if a.classifier_shares:
            stem += f"_ac_{a.classifier_shares}"
        res.to_csv(out / f"{stem}.csv")
        res.to_json(out / f"{stem}.json")
        print(f"\n## {model}: seeds {seeds[0]}..{seeds[-1]}, {a.rounds} rounds x {a.batch}, "
              f"{time.perf_counter() - t0:.0f} s\n")
        print(f"round {a.rounds}:\n" + final_table(res))
        print("\nround 1 details:\n" + details_table(res, 1))
        print(f"\nround {a.rounds} details:\n" + details_table(res, a.rounds))
        title = f"music_genre replay, {model}, {len(seeds)} seeds, {a.initial} songs x 1 label + {a.rounds} x {a.batch}"
        plot(res, out / f"{stem}.png", title)
        if a.plot_dir:
            plot(res, Path(a.plot_dir) / f"real_crowd_music_genre_{model}.png", title)
        with open(out / f"{stem}_summary.json", "w") as fh:
            json.dump({m: dict(zip(("mean", "std", "diff", "se"), map(float, v)))
                       for m, v in paired(res, "consensus_accuracy").items()}, fh, indent=1)


if __name__ == "__main__":
    main()
