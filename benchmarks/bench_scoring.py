"""Speed and memory of skactivelab's scoring core against cleanlab.multiannotator.

Synthetic data (see ``make_data``): N labeled examples, M annotators of varied
accuracy, K classes, 1-3 labels per labeled example from distinct random
annotators, ``pred_probs`` (N, K) = a Dirichlet draw mixed with the one-hot
truth, and 3N unlabeled ``pred_probs`` built the same way.

Both libraries run in the same process on the same arrays:

* ActiveLab  -- ``get_active_learning_scores(labels, pred_probs, pred_probs_unlabeled)``
* CROWDLAB   -- ``get_label_quality_multiannotator(labels, pred_probs)`` (defaults;
  cleanlab with ``verbose=False``)

cleanlab gets the dense float (N, M) matrix with NaN for missing labels (its
required format); skactivelab gets the same dense matrix (fair comparison) and,
in separate rows, the long-format tuple ``(examples, annotators, labels)``.
Large sizes run skactivelab alone. The "cost follows annotations" check runs
the same number of annotations spread over M=50 and M=10,000 annotators
(long-format tuple and scipy.sparse COO; never a dense N x 10,000 array).

Timings are wall-clock (``time.perf_counter``) and CPU (``time.process_time``),
the minimum over ``--repeat`` calls (cleanlab: ``--cleanlab-repeat`` calls).
``--runs R`` repeats the whole comparison R times (cleanlab measured afresh in
each run) and prints the min / median / max speed-up over the runs, with the
load average of the machine at each run. Memory is the process's peak
resident set size (Linux VmHWM, reset through /proc/self/clear_refs right
before each call) -- inputs included, as a user would see it -- and the increase
of that peak over the resident size just before the call.

Usage::

    python benchmarks/bench_scoring.py                 # full run (cleanlab at 100k takes minutes)
    python benchmarks/bench_scoring.py --quick         # smoke run, ~10 s
    python benchmarks/bench_scoring.py --skip-cleanlab --sizes 1000000
    python benchmarks/bench_scoring.py --sizes 100000 --tasks ActiveLab --runs 5 --m-check-n 0
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import gc
import io
import json
import os
import platform
import sys
import time
import warnings

import numpy as np
import scipy.sparse as sp

import skactivelab

K_CLASSES = 10
M_DEFAULT = 50
M_LARGE = 10_000


# ----------------------------------------------------------------------------- data
def _probs(truth, K, rng):
    """Dirichlet(1) rows mixed with the one-hot truth; mixing weight varies per row."""
    n = truth.size
    D = rng.standard_gamma(1.0, size=(n, K))  # Dirichlet(1, ..., 1) after normalising
    D /= D.sum(axis=1, keepdims=True)
    lam = rng.uniform(0.0, 0.8, size=(n, 1))
    D *= 1.0 - lam
    D[np.arange(n), truth] += lam[:, 0]
    return D


def make_data(N, M, K=K_CLASSES, unlabeled_factor=3, seed=0):
    """Synthetic multi-annotator data.

    Returns dict with long-format triples ``ex, an, lab`` (int64), ``P`` (N, K),
    ``U`` (unlabeled_factor * N, K), the hidden ``truth`` and annotator accuracies.
    The number of annotations per example does not depend on M (same seed ->
    same annotation count for any M).
    """
    rng = np.random.default_rng(seed)
    truth = rng.integers(K, size=N)
    n_per = rng.integers(1, 4, size=N)  # 1-3 labels per example
    A = rng.integers(M, size=(N, 3))  # three distinct annotators per example
    while True:
        bad = (A[:, 0] == A[:, 1]) | (A[:, 0] == A[:, 2]) | (A[:, 1] == A[:, 2])
        nb = int(bad.sum())
        if nb == 0:
            break
        A[bad] = rng.integers(M, size=(nb, 3))
    keep = np.arange(3) < n_per[:, None]
    ex = np.repeat(np.arange(N), n_per)
    an = A[keep]
    acc = rng.uniform(0.5, 0.95, size=M)  # annotators of varied accuracy
    correct = rng.random(ex.size) < acc[an]
    wrong = (truth[ex] + rng.integers(1, K, size=ex.size)) % K
    lab = np.where(correct, truth[ex], wrong)
    P = _probs(truth, K, rng)
    U = _probs(rng.integers(K, size=unlabeled_factor * N), K, rng)
    return {"ex": ex, "an": an, "lab": lab, "P": P, "U": U, "N": N, "M": M, "truth": truth}


def dense_nan(d):
    W = np.full((d["N"], d["M"]), np.nan)
    W[d["ex"], d["an"]] = d["lab"]
    return W


def coo(d):
    # Labels stored as given (0 is a stored entry in COO; skactivelab reads stored entries).
    return sp.coo_matrix((d["lab"].astype(np.float64), (d["ex"], d["an"])), shape=(d["N"], d["M"]))


# ----------------------------------------------------------------------------- measuring
def _status():
    out = {}
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(("VmRSS:", "VmHWM:")):
                    k, v = line.split(":")
                    out[k] = int(v.split()[0]) / 1024.0  # MiB
    except OSError:
        pass
    return out


def _reset_peak():
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


@contextlib.contextmanager
def _quiet():
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        yield


def _one_run(fn):
    gc.collect()
    can_reset = _reset_peak()
    before = _status().get("VmRSS", np.nan)
    t0, c0 = time.perf_counter(), time.process_time()
    with _quiet():
        result = fn()
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    hwm = _status().get("VmHWM", np.nan) if can_reset else np.nan
    return wall, cpu, hwm, hwm - before, result


def _summarise(runs):
    """Min wall time, min CPU time, max peak RSS (and its pre-call delta) over runs."""
    walls, cpus, peaks, deltas = (np.array([r[i] for r in runs], dtype=float) for i in range(4))
    has = ~np.isnan(peaks)
    k = int(np.argmax(np.where(has, peaks, -np.inf))) if has.any() else None
    return dict(wall=walls.min(), cpu=cpus.min(),
                peak=peaks[k] if k is not None else np.nan, delta=deltas[k] if k is not None else np.nan)


def measure(fn, repeat):
    """Run ``fn`` ``repeat`` times; returns (summary dict, last result)."""
    runs, result = [], None
    for _ in range(repeat):
        result = None
        *r, result = _one_run(fn)
        runs.append(r)
    return _summarise(runs), result


# ----------------------------------------------------------------------------- tasks
def sk_activelab(labels, d):
    return lambda: skactivelab.get_active_learning_scores(labels, d["P"], d["U"], random_state=0)


def sk_crowdlab(labels, d):
    return lambda: skactivelab.get_label_quality_multiannotator(labels, d["P"], random_state=0)


def cl_activelab(W, d):
    from cleanlab.multiannotator import get_active_learning_scores

    return lambda: get_active_learning_scores(W, d["P"], d["U"])


def cl_crowdlab(W, d):
    from cleanlab.multiannotator import get_label_quality_multiannotator

    return lambda: get_label_quality_multiannotator(W, d["P"], verbose=False)


TASKS = {"ActiveLab": (sk_activelab, cl_activelab), "CROWDLAB": (sk_crowdlab, cl_crowdlab)}


def _load():
    try:
        return os.getloadavg()[0]
    except OSError:  # pragma: no cover - not on Linux/macOS
        return np.nan


def run_size(N, args, rows, notes, run=0):
    d = make_data(N, M_DEFAULT, seed=args.seed)
    n_ann = d["ex"].size
    W = dense_nan(d)
    long_ = (d["ex"], d["an"], d["lab"])
    use_cl = not args.skip_cleanlab and N <= args.cleanlab_max_n
    nan = dict(wall=np.nan, cpu=np.nan)
    for task in args.tasks:
        sk_fn, cl_fn = TASKS[task]
        cl, cl_res = nan, None
        if use_cl:
            cl, cl_res = measure(cl_fn(W, d), args.cleanlab_repeat)
        for fmt, labels in (("dense NaN", W), ("long tuple", long_)):
            sk, sk_res = measure(sk_fn(labels, d), args.repeat)
            rows.append(
                dict(run=run, load=_load(), task=task, input=fmt, N=N,
                     unlabeled=d["U"].shape[0] if task == "ActiveLab" else 0,
                     M=M_DEFAULT, annotations=n_ann, t_cleanlab=cl["wall"], cpu_cleanlab=cl["cpu"],
                     t_skactivelab=sk["wall"], cpu_skactivelab=sk["cpu"],
                     speedup=cl["wall"] / sk["wall"], speedup_cpu=cl["cpu"] / sk["cpu"],
                     peak_rss_mib=sk["peak"], peak_delta_mib=sk["delta"])
            )
            _print_row(rows[-1])
            if cl_res is not None and fmt == "dense NaN" and run == 0:
                notes.append(_agreement(task, N, cl_res, sk_res))
        del sk_res, cl_res
        gc.collect()
    return d


def _agreement(task, N, cl_res, sk_res):
    """Sanity check that both libraries did the same job."""
    if task == "CROWDLAB":
        lq = cl_res["label_quality"]
        same = np.mean(lq["consensus_label"].to_numpy() == sk_res.consensus_label)
        dq = np.max(np.abs(lq["consensus_quality_score"].to_numpy() - sk_res.consensus_quality_score))
        return f"N={N} CROWDLAB: consensus labels identical on {same:.2%} of examples, max |quality diff| = {dq:.1e}"
    (cl_l, cl_u), (sk_l, sk_u) = cl_res, sk_res
    r = np.corrcoef(np.concatenate([cl_l, cl_u]), np.concatenate([sk_l, sk_u]))[0, 1]
    return (f"N={N} ActiveLab: Pearson r between cleanlab and skactivelab scores = {r:.4f} "
            "(not 1: cleanlab >= 2.6.5 calibrates with misplaced label counts, docs/switching_from_cleanlab.md)")


def parity_check(N, args):
    """Untimed: cleanlab ActiveLab with its calibration helper fixed (labels counted at
    their class index, docs/switching_from_cleanlab.md) against skactivelab. Patches one module attribute
    of cleanlab for the duration of this check only."""
    import cleanlab.internal.multiannotator_utils as mu
    from cleanlab.multiannotator import get_active_learning_scores

    def counts_at_class_index(x, *, num_classes=None, multi_label=False):
        return np.bincount(np.asarray(x, dtype=np.int64), minlength=num_classes)

    d = make_data(N, M_DEFAULT, seed=args.seed)
    W = dense_nan(d)
    original = mu.value_counts
    mu.value_counts = counts_at_class_index
    try:
        with _quiet():
            cl_l, cl_u = get_active_learning_scores(W, d["P"], d["U"])
    finally:
        mu.value_counts = original
    sk_l, sk_u = skactivelab.get_active_learning_scores(W, d["P"], d["U"], random_state=0)
    diff = max(np.max(np.abs(cl_l - sk_l)), np.max(np.abs(cl_u - sk_u)))
    return (f"N={N} ActiveLab parity (untimed) with cleanlab's calibration label counts fixed: "
            f"max |score diff| = {diff:.1e}")


def run_m_check(N, args, rows_m, d50=None):
    """Same annotation count over M=50 and M=10,000 annotators (no dense N x M array).

    The two cases run interleaved (50, 10k, 50, 10k, ...) so that load from other
    processes hits both alike; minima are reported.
    """
    if d50 is None:
        d50 = make_data(N, M_DEFAULT, seed=args.seed)
    dL = make_data(N, args.m_large, seed=args.seed)
    assert dL["ex"].size == d50["ex"].size
    for task in args.tasks:
        sk_fn = TASKS[task][0]
        for fmt in ("long tuple", "sparse COO"):
            fns = {d["M"]: sk_fn((d["ex"], d["an"], d["lab"]) if fmt == "long tuple" else coo(d), d)
                   for d in (d50, dL)}
            runs = {m: [] for m in fns}
            for _ in range(args.repeat):
                for m, fn in fns.items():
                    *r, out = _one_run(fn)
                    runs[m].append(r)
                    del out
            a, b = _summarise(runs[M_DEFAULT]), _summarise(runs[args.m_large])
            r = dict(task=task, input=fmt, N=N, annotations=d50["ex"].size, m_large=args.m_large,
                     t_m50=a["wall"], t_mlarge=b["wall"], ratio=b["wall"] / a["wall"],
                     cpu_m50=a["cpu"], cpu_mlarge=b["cpu"], ratio_cpu=b["cpu"] / a["cpu"],
                     peak_m50=a["peak"], peak_mlarge=b["peak"])
            rows_m.append(r)
            print(f"  [M check] {task:9s} {fmt:10s} N={N:>9,d} M=50: {r['t_m50']:.3f}s  "
                  f"M={args.m_large:,d}: {r['t_mlarge']:.3f}s  ratio {r['ratio']:.2f} (cpu {r['ratio_cpu']:.2f})",
                  flush=True)


# ----------------------------------------------------------------------------- output
def _f(x, fmt, suffix=""):
    return "—" if x is None or (isinstance(x, float) and np.isnan(x)) else format(x, fmt) + suffix


def _print_row(r):
    print(f"  [run {r['run'] + 1}, load {r['load']:.1f}] {r['task']:9s} {r['input']:10s} N={r['N']:>9,d} cleanlab {_f(r['t_cleanlab'], '.2f'):>7s}s  "
          f"skactivelab {r['t_skactivelab']:.3f}s (cpu {r['cpu_skactivelab']:.3f}s)  x{_f(r['speedup'], '.0f')} "
          f"(cpu x{_f(r['speedup_cpu'], '.0f')})  peak {_f(r['peak_rss_mib'], '.0f')} MiB", flush=True)


def _ratios(rows):
    """Speed-ups of each (task, input, N) over the runs: {key: (wall ratios, CPU ratios, loads)}."""
    out = {}
    for r in rows:
        if np.isnan(r["speedup"]):
            continue
        w, c, ld = out.setdefault((r["task"], r["input"], r["N"]), ([], [], []))
        w.append(r["speedup"])
        c.append(r["speedup_cpu"])
        ld.append(r["load"])
    return out


def summary(rows):
    """Min / median / max speed-up over the runs (one cleanlab measurement per run)."""
    ratios = _ratios(rows)
    if not ratios:
        return ""
    out = ["| task | labels input | N labeled | runs | speed-up wall min / median / max | "
           "speed-up CPU min / median / max | load average (1 min) |",
           "|---|---|--:|--:|--:|--:|--:|"]
    for (task, fmt, N), (w, c, ld) in ratios.items():
        out.append(f"| {task} | {fmt} | {N:,d} | {len(w)} | {min(w):.0f}x / {np.median(w):.0f}x / {max(w):.0f}x | "
                   f"{min(c):.0f}x / {np.median(c):.0f}x / {max(c):.0f}x | {min(ld):.1f}-{max(ld):.1f} |")
    return "\n".join(out)


def table(rows, rows_m):
    out = ["| run | task | labels input | N labeled | N unlabeled | M | annotations | cleanlab wall (s) | "
           "skactivelab wall (s) | speed-up (wall) | cleanlab CPU (s) | skactivelab CPU (s) | speed-up (CPU) | "
           "peak RSS (MiB) | peak - RSS before (MiB) |",
           "|--:|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|"]
    for r in rows:
        out.append(
            f"| {r['run'] + 1} | {r['task']} | {r['input']} | {r['N']:,d} | {r['unlabeled']:,d} | {r['M']} | {r['annotations']:,d} | "
            f"{_f(r['t_cleanlab'], '.2f')} | {r['t_skactivelab']:.3f} | {_f(r['speedup'], '.0f', 'x')} | "
            f"{_f(r['cpu_cleanlab'], '.2f')} | {r['cpu_skactivelab']:.3f} | {_f(r['speedup_cpu'], '.0f', 'x')} | "
            f"{_f(r['peak_rss_mib'], ',.0f')} | {_f(r['peak_delta_mib'], ',.0f')} |"
        )
    if rows_m:
        m = rows_m[0]["m_large"]
        out += ["", f"Cost follows annotations (same annotations over M=50 vs M={m:,d} annotators, interleaved runs):",
                "",
                f"| task | labels input | N labeled | annotations | M=50 wall (s) | M={m:,d} wall (s) | ratio (wall) | "
                f"M=50 CPU (s) | M={m:,d} CPU (s) | ratio (CPU) | peak RSS M=50 (MiB) | peak RSS M={m:,d} (MiB) |",
                "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|"]
        for r in rows_m:
            out.append(f"| {r['task']} | {r['input']} | {r['N']:,d} | {r['annotations']:,d} | {r['t_m50']:.3f} | "
                       f"{r['t_mlarge']:.3f} | {r['ratio']:.2f} | {r['cpu_m50']:.3f} | {r['cpu_mlarge']:.3f} | "
                       f"{r['ratio_cpu']:.2f} | {_f(r['peak_m50'], ',.0f')} | {_f(r['peak_mlarge'], ',.0f')} |")
    return "\n".join(out)


def targets(rows, rows_m):
    out = []

    def get(task, N, fmt="dense NaN"):
        return next((r for r in rows if r["task"] == task and r["N"] == N and r["input"] == fmt
                     and r["run"] == 0), None)

    def verdict(ok):
        return "PASS" if ok else "FAIL"

    ratios = _ratios(rows)
    for task, need in (("ActiveLab", 200), ("CROWDLAB", 20)):
        if (task, "dense NaN", 100_000) in ratios:
            w, c, _ = ratios[task, "dense NaN", 100_000]
            runs = f" (smallest of {len(w)} runs)" if len(w) > 1 else ""
            out.append(f"{task} speed-up at N=100,000 >= {need}x{runs}: wall {min(w):.0f}x -> "
                       f"{verdict(min(w) >= need)}; CPU {min(c):.0f}x -> {verdict(min(c) >= need)}")
    for fmt in ("dense NaN", "long tuple"):
        r = get("ActiveLab", 1_000_000, fmt)
        if r is not None:
            out.append(f"ActiveLab 1M labeled + 3M unlabeled ({fmt}) < 5 s: wall {r['t_skactivelab']:.2f} s -> "
                       f"{verdict(r['t_skactivelab'] < 5)} (CPU {r['cpu_skactivelab']:.2f} s); peak RSS < 4 GB: "
                       f"{r['peak_rss_mib']:,.0f} MiB -> {verdict(r['peak_rss_mib'] < 4096)}")
    for r in rows_m:
        # 10% slack for timing noise on a shared 2-core machine
        out.append(f"M={r['m_large']:,d} no slower than M=50 ({r['task']}, {r['input']}; <= 1.10 allowed for noise): "
                   f"wall ratio {r['ratio']:.2f} -> {verdict(r['ratio'] <= 1.10)}; "
                   f"CPU ratio {r['ratio_cpu']:.2f} -> {verdict(r['ratio_cpu'] <= 1.10)}")
    return out


def _git_commit():
    import subprocess

    here = os.path.dirname(os.path.abspath(skactivelab.__file__))
    try:
        rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=here, capture_output=True,
                             text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "."], cwd=here, capture_output=True,
                               text=True, check=True).stdout.strip()
        return rev + ("+dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sizes", default="10000,100000,1000000",
                   help="comma-separated N labeled (3N unlabeled each); default 10000,100000,1000000")
    p.add_argument("--cleanlab-max-n", type=int, default=100_000,
                   help="run cleanlab only for N up to this (default 100000)")
    p.add_argument("--skip-cleanlab", action="store_true", help="run skactivelab only")
    p.add_argument("--quick", action="store_true", help="tiny sizes for a smoke run (~10 s)")
    p.add_argument("--repeat", type=int, default=3, help="skactivelab runs per case; the minimum is reported")
    p.add_argument("--cleanlab-repeat", type=int, default=1, help="cleanlab runs per case (default 1)")
    p.add_argument("--m-check-n", type=int, default=None,
                   help="N for the M=50 vs M=10,000 check (default: largest size; 0 disables)")
    p.add_argument("--m-large", type=int, default=M_LARGE, help="annotators in the M check (default 10000)")
    p.add_argument("--no-parity", action="store_true",
                   help="skip the untimed ActiveLab parity check against a fixed cleanlab")
    p.add_argument("--tasks", default="ActiveLab,CROWDLAB",
                   help="comma-separated tasks among ActiveLab, CROWDLAB (default both)")
    p.add_argument("--runs", type=int, default=1,
                   help="repeat the whole comparison (cleanlab included) this many times and print the "
                        "min / median / max speed-up over the runs (default 1)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", help="also write the results to this JSON file")
    args = p.parse_args(argv)
    if args.quick:
        args.sizes = "1000,5000"
        args.repeat = min(args.repeat, 2)
        args.m_large = min(args.m_large, 2000)
    sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]
    names = {t.lower(): t for t in TASKS}
    try:
        args.tasks = [names[t.strip().lower()] for t in args.tasks.split(",") if t.strip()]
    except KeyError as exc:
        p.error(f"--tasks: unknown task {exc}; choose among {', '.join(TASKS)}")
    if args.runs < 1:
        p.error("--runs must be >= 1")
    m_n = max(sizes) if args.m_check_n is None else args.m_check_n

    import cleanlab
    import scipy
    info = {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "python": platform.python_version(), "numpy": np.__version__, "scipy": scipy.__version__,
        "skactivelab": skactivelab.__version__, "cleanlab": cleanlab.__version__,
        "cpus": os.cpu_count(), "machine": platform.machine(), "skactivelab_commit": _git_commit(),
    }
    print("# " + ", ".join(f"{k} {v}" for k, v in info.items()), flush=True)
    rows, rows_m, notes = [], [], []
    d = None
    for run in range(args.runs):
        for N in sizes:
            d = run_size(N, args, rows, notes, run)
            if N != m_n or run < args.runs - 1:
                d = None
            gc.collect()
    cl_sizes = [N for N in sizes if N <= args.cleanlab_max_n]
    if not args.skip_cleanlab and not args.no_parity and cl_sizes:
        notes.append(parity_check(min(cl_sizes), args))
    if m_n:
        run_m_check(m_n, args, rows_m, d50=d)
    print()
    print(table(rows, rows_m))
    print()
    if args.runs > 1:
        print(summary(rows))
        print()
    for n in notes:
        print("note:", n)
    for t in targets(rows, rows_m):
        print("target:", t)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"info": info, "rows": rows, "m_check": rows_m, "notes": notes}, f, indent=1, default=float)
    return 0


if __name__ == "__main__":
    sys.exit(main())
