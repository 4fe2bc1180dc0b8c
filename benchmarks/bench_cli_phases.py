"""Where ``skactivelab score`` and ``skactivelab fit`` spend their time: reading, checking,
encoding, the core, writing.

Data (as ``bench_cli_io.py``): 1,000,000 annotations (500,000 labeled examples,
2 labels each, 50 annotators, 3 classes) in a long CSV table and 1,000,000
probability rows with an ID column (the labeled examples plus 500,000 unlabeled
ones); for ``fit``, 1,000,000 feature rows (4 features) with the same IDs instead
of the probabilities (``--per-example``, ``--annotators``, ``--classes`` change the
shape). Each command runs once in a fresh process with a timer
(wall and CPU time of the process, all its threads) around each phase: the
functions of ``skactivelab/cli/_score.py`` and ``_fit.py`` named below. The arguments
of each core call are saved to files just before the call (each array once; not timed,
and not counted in the command's time), so that the benchmark keeps no array alive in
the command. The same process then runs the core again on those arrays (``score``:
ActiveLab scores, the crowd model and CROWDLAB consensus; ``fit``:
``MultiAnnotatorClassifier.fit``), under the allocator settings of the command, so that
the ratio command / core compares like with like.

Peak memory (``ru_maxrss``) is reported above two baselines: a process that only
imports the command line (nothing else is imported then: the package is lazy), and
one that imports every module the command imported (NumPy, SciPy, scikit-learn,
pyarrow, pandas, ...), so that what remains is the data; and likewise for a process
that runs only the core on the same arrays, beside the size of those arrays.

    python benchmarks/bench_cli_phases.py                     # score, 1M annotations, CSV
    python benchmarks/bench_cli_phases.py --command fit       # fit (logreg, 2 folds, 1 job)
    python benchmarks/bench_cli_phases.py --shuffle           # rows in random order
    python benchmarks/bench_cli_phases.py --labeled 50000     # a quick run
    python benchmarks/bench_cli_phases.py --root /path/to/other/checkout --root .  # before/after
    python benchmarks/bench_cli_phases.py --no-pyarrow        # the standard-library reader
    python benchmarks/bench_cli_phases.py --labeled 333334 --unlabeled 666666 \
        --per-example 3 --annotators 200 --classes 5           # 1M annotations, 5 classes

``--shuffle`` writes the rows of each file in random order (example IDs no longer
increase down the file, so the reader hashes them). ``--no-pyarrow`` hides pyarrow
(and pandas) from the command, as on an install without them.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))

#: (modules, attribute names, phase): each is timed around every call (inclusive time);
#: the first module holding one of the names is used (the names of earlier versions too,
#: for a before/after table). A phase named "(...)" is not shown: it holds the phases
#: listed in NESTED, and the rest of its time is shown under the name given there.
_SCORE = ("skactivelab.cli._score", "skactivelab.cli._team")
_FIT = ("skactivelab.cli._fit", "skactivelab.cli._team")
PHASES = {
    "score": [
        (_SCORE, ("_read_annotations_for_score",), "read annotations"),
        (_SCORE, ("read_pred_probs",), "read probabilities"),
        (_SCORE, ("align_pred_probs",), "align IDs, encode labels"),
        ((*_SCORE, "skactivelab.activelab"), ("_score_in_memory", "get_active_learning_scores"),
         "core: ActiveLab scores"),
        (_SCORE, ("_crowdlab_for_score",), "core: CROWDLAB consensus"),
        (_SCORE, ("crowd_estimates",), "core: crowd model (est. accuracy)"),
        (_SCORE, ("Batch", "_Batch"), "select the batch"),
        (_SCORE, ("write_outputs", "_write_outputs"), "write outputs"),
    ],
    "fit": [
        (_FIT, ("read_features",), "read features"),
        (_FIT, ("read_annotations_of",), "read annotations"),
        (_FIT, ("_read_fit_inputs",), "(read fit inputs)"),
        (_FIT, ("_fitted",), "core: MultiAnnotatorClassifier.fit"),
        (_FIT, ("_fit_results",), "consensus rows, select the batch"),
        (_FIT, ("write_outputs", "_write_outputs"), "write outputs"),
        (_FIT, ("_summary",), "summary"),
    ],
}
NESTED = {"(read fit inputs)": ("align IDs, encode labels", ("read features", "read annotations"))}

HIDE_PYARROW = """
import sys
class _Hide:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("pyarrow", "pandas"):
            raise ImportError(f"{name} hidden by the benchmark")
sys.meta_path.insert(0, _Hide())
"""

CHILD = """
import hashlib, importlib, json, os, pickle, resource, sys, time
sys.path.insert(0, {root!r})
{hide}
import numpy as np
from skactivelab import cli
phases, cpu, captured, peaks, reals = {{}}, {{}}, {{}}, {{}}, {{}}
arrays_file = {arrays_file!r}

def timed(modules, names, phase):
    for module in modules:
        try:
            mod = importlib.import_module(module)
        except ImportError:
            continue
        name = next((n for n in names if hasattr(mod, n)), None)
        if name is not None:
            break
    else:
        return
    real = reals[phase] = getattr(mod, name)
    def wrapper(*args, **kwargs):
        if phase.startswith("core"):  # saved before the call (untimed), not held
            capture(phase, real, args, kwargs)
        t, c = time.perf_counter(), time.process_time()
        try:
            return real(*args, **kwargs)
        finally:
            phases[phase] = phases.get(phase, 0.0) + time.perf_counter() - t
            cpu[phase] = cpu.get(phase, 0.0) + time.process_time() - c
            peaks[phase] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    setattr(mod, name, wrapper)

def arrays_of(obj):
    if isinstance(obj, np.ndarray):
        return [obj]
    if isinstance(obj, (list, tuple)):
        return [a for o in obj for a in arrays_of(o)]
    if isinstance(obj, dict):
        return arrays_of(list(obj.values()))
    if hasattr(obj, "example") and hasattr(obj, "label"):
        return [obj.example, obj.annotator, obj.label]
    return []

seen = {{}}  # content -> bytes of every array given to the core, counted once

def fingerprint(a):  # size, type and a digest of the values in row-major order (by blocks: no
    # copy); not the shape, so that a (1, N, K) view of an (N, K) array is the same array
    h = hashlib.sha1()
    flat = a.reshape(a.shape[0], -1) if a.ndim else a.reshape(1, 1)
    for i in range(0, flat.shape[0], 65536):
        h.update(np.ascontiguousarray(flat[i:i + 65536]).data)
    return a.size, a.dtype.str, h.hexdigest()

class Saver(pickle.Pickler):  # each array to its own .npy file, once per values
    def persistent_id(self, obj):
        if not isinstance(obj, np.ndarray) or obj.dtype.hasobject:
            return None
        key = fingerprint(obj)
        if key not in seen:
            seen[key] = obj.nbytes
            np.save(f"{{arrays_file}}.{{len(seen)}}.npy", obj, allow_pickle=False)
            saved_as[key] = f"{{arrays_file}}.{{len(seen)}}.npy"
        return saved_as[key], obj.shape  # replayed in the shape it was given in

saved_as, spent = {{}}, [0.0, 0.0]

def capture(phase, fn, args, kwargs):
    # the call written to files (untimed, not in the command's time): the benchmark holds
    # no reference that would keep an array alive in the command; each array is saved
    # (and its bytes counted) once, given again as a view or as a copy of the same values
    t, c = time.perf_counter(), time.process_time()
    if phase == "core: MultiAnnotatorClassifier.fit":  # (args, X, y, ann): not the progress
        args = args[:4]
    path = f"{{arrays_file}}.call{{len(captured)}}"
    with open(path, "wb") as fh:
        Saver(fh, protocol=5).dump((fn.__module__, fn.__name__, args, kwargs))
    captured[phase] = path
    spent[0] += time.perf_counter() - t
    spent[1] += time.process_time() - c

# the runtime cli.main() sets up before the command imports anything (the modules wrapped
# below import pyarrow through scikit-learn and pandas)
pool = cli.arrow_system_pool() if hasattr(cli, "arrow_system_pool") else None
if pool is not None:
    pool.__enter__()
before = set(sys.modules)
for modules, names, phase in {phases!r}:
    timed(modules, names, phase)
t0, c0 = time.perf_counter(), time.process_time()
code = getattr(cli, "console_main", cli.main)({argv!r})  # as the skactivelab program runs it
total, total_cpu = time.perf_counter() - t0 - spent[0], time.process_time() - c0 - spent[1]
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
nbytes = sum(seen.values())
core, core_cpu = {{}}, {{}}
calls = []
loaded_arrays = {{}}

bases = {{}}

class Loader(pickle.Unpickler):
    def persistent_load(self, pid):  # one array per values, in each shape it was given in (a
        # (1, N, K) view and the (N, K) rows share one memory, as in the command)
        if pid not in loaded_arrays:
            if pid[0] not in bases:
                bases[pid[0]] = np.load(pid[0])
            loaded_arrays[pid] = bases[pid[0]].reshape(pid[1])
        return loaded_arrays[pid]

# the core again under the allocator settings the command runs with (after the command,
# the C library's defaults are set explicitly, which maps and unmaps every large array)
from skactivelab.cli._columns import system_allocator
allocator = system_allocator()
allocator.__enter__()
for phase, path in captured.items():
    with open(path, "rb") as fh:
        module, name, args, kwargs = Loader(fh).load()
    os.unlink(path)
    run_args = args
    if phase == "core: MultiAnnotatorClassifier.fit":  # fit's arguments: (args, X, y, ann, progress)
        from skactivelab.cli._common import Progress
        run_args = args[:4] + (Progress(True),)
        args = (args[0], args[1], args[2], None, None)  # the model and the arrays only
    calls.append((module, name, args, kwargs))
    t, c = time.perf_counter(), time.process_time()
    reals[phase](*run_args, **kwargs)
    core[phase], core_cpu[phase] = time.perf_counter() - t, time.process_time() - c
allocator.__exit__(None, None, None)
pid_of = {{id(a): pid for pid, a in loaded_arrays.items()}}

class Dumper(pickle.Pickler):  # the arrays stay in their files: loaded once by the core alone
    def persistent_id(self, obj):
        return pid_of.get(id(obj)) if isinstance(obj, np.ndarray) else None

with open(arrays_file, "wb") as fh:
    Dumper(fh, protocol=5).dump(calls)
loaded = sorted(m for m in set(sys.modules) - before
                if m.split(".")[0] not in ("__main__",) and not m.startswith("_"))
print("RESULT", json.dumps(dict(code=code, total=total, total_cpu=total_cpu, rss=rss,
                                phases=phases, cpu=cpu, core=core, core_cpu=core_cpu,
                                nbytes=nbytes, peaks=peaks, modules=loaded,
                                load=os.getloadavg()[0])))
"""

CORE_ONLY = """
import importlib, pickle, resource, sys
sys.path.insert(0, {root!r})
import numpy as np
from skactivelab import cli
for m in {modules!r}:  # the modules the command had imported
    try:
        importlib.import_module(m)
    except Exception:
        pass
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
bases = {{}}

class Loader(pickle.Unpickler):  # each array's file loaded once (views share its memory)
    def persistent_load(self, pid):
        if pid[0] not in bases:
            bases[pid[0]] = np.load(pid[0])
        return bases[pid[0]].reshape(pid[1])

with open({arrays_file!r}, "rb") as fh:
    calls = Loader(fh).load()
for module, name, args, kwargs in calls:
    if name == "_fitted":  # fit's model and arrays, progress silent
        from skactivelab.cli._common import Progress
        args = args[:3] + (None, Progress(True))
    getattr(importlib.import_module(module), name)(*args, **kwargs)
print("RESULT", base, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
"""

BASELINE = """
import importlib, resource, sys
sys.path.insert(0, {root!r})
{hide}
from skactivelab import cli
for m in {modules!r}:
    try:
        importlib.import_module(m)
    except Exception:
        pass
print("RESULT", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
"""


def _run(code):
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=False)
    line = next((ln for ln in out.stdout.splitlines() if ln.startswith("RESULT")), None)
    if line is None:
        raise RuntimeError(out.stderr[-3000:])
    return line.split(" ", 1)[1]


def measure(root, command, files, tmp, hide=False):
    """Phase times (wall and CPU), core times, peak RSS of the command, of the core alone and
    of the two baselines (MB)."""
    arrays_file = str(tmp / "core_calls.pickle")
    hide_code = HIDE_PYARROW if hide else ""
    base = float(_run(BASELINE.format(root=str(root), hide=hide_code, modules=[])))
    if command == "score":
        argv = ["score", "--annotations", str(files["ann"]), "--pred-probs",
                str(files["probs"]), "--batch", "1000", "--out", str(tmp / "next.csv"), "--quiet"]
    else:
        argv = ["fit", "--features", str(files["features"]), "--annotations", str(files["ann"]),
                "--model", "logreg", "--cv", "2", "--n-jobs", "1", "--batch", "1000",
                "--out-dir", str(tmp / "fit_out"), "--quiet"]
    res = json.loads(_run(CHILD.format(root=str(root), hide=hide_code, phases=PHASES[command],
                                       argv=argv, arrays_file=arrays_file)))
    if res["code"] != 0:
        raise RuntimeError(f"{command} exited with {res['code']}")
    libs = float(_run(BASELINE.format(root=str(root), hide=hide_code, modules=res["modules"])))
    core_base, core_rss = (float(v) for v in _run(CORE_ONLY.format(
        root=str(root), arrays_file=arrays_file, modules=res["modules"])).split())
    res.update(base=base, libs=libs, core_base=core_base, core_rss=core_rss)
    return res


def _shown_phases(command, res):
    """``(name, wall, CPU, peak)`` of each phase, nested ones split."""
    rows = []
    for *_, phase in PHASES[command]:
        if phase not in res["phases"]:
            continue
        wall, cpu, peak = res["phases"][phase], res["cpu"][phase], res["peaks"][phase]
        if phase in NESTED:
            name, inner = NESTED[phase]
            wall -= sum(res["phases"].get(p, 0.0) for p in inner)
            cpu -= sum(res["cpu"].get(p, 0.0) for p in inner)
            phase = name
        rows.append((phase, wall, cpu, peak))
    return rows


def report(label, command, res):
    total, total_cpu = res["total"], res["total_cpu"]
    core, core_cpu = sum(res["core"].values()), sum(res["core_cpu"].values())
    print(f"\n{label} (load average {res['load']:.1f} at the end)")
    print(f"{'phase':<36} {'wall s':>7} {'share':>6} {'CPU s':>7} {'peak RSS so far, MB':>20}")
    accounted = accounted_cpu = 0.0
    for phase, wall, cpu, peak in _shown_phases(command, res):
        accounted += wall
        accounted_cpu += cpu
        print(f"{phase:<36} {wall:>7.2f} {wall / total:>6.0%} {cpu:>7.2f} "
              f"{peak - res['base']:>20.0f}")
    print(f"{'other (setup, bookkeeping)':<36} {total - accounted:>7.2f} "
          f"{(total - accounted) / total:>6.0%} {total_cpu - accounted_cpu:>7.2f}")
    print(f"{'whole command':<36} {total:>7.2f} {'':>6} {total_cpu:>7.2f}")
    in_cmd = sum(w for p, w, _, _ in _shown_phases(command, res) if p.startswith("core"))
    print("  core again per phase:", {p: round(v, 2) for p, v in res["core"].items()})
    print(f"core again on the same arrays: {core:.2f} s (CPU {core_cpu:.2f} s; "
          f"{in_cmd:.2f} s inside the command); command / core = {total / core:.2f}x wall, "
          f"{total_cpu / max(core_cpu, 1e-9):.2f}x CPU")
    arrays = res["nbytes"] / 2**20
    libs = res["libs"] - res["base"]
    above, above_libs = res["rss"] - res["base"], res["rss"] - res["libs"]
    core_above = res["core_rss"] - res["core_base"]
    read_phases = ("read annotations", "read probabilities", "read features",
                   "align IDs, encode labels", "(read fit inputs)")
    read = max(res["peaks"].get(p, 0) for p in read_phases)
    print(f"peak RSS: import-only process {res['base']:.0f} MB; its libraries (every module the "
          f"command imported) add {libs:.0f} MB")
    print(f"  above the import-only process: command {above:.0f} MB, reading (until the IDs "
          f"are aligned) {read - res['base']:.0f} MB")
    print(f"  above the libraries: command {above_libs:.0f} MB, reading {read - res['libs']:.0f} "
          f"MB, core alone {core_above:.0f} MB; arrays given to the core {arrays:.0f} MB")
    print(f"  ratios to the arrays (above the libraries): command {above_libs / arrays:.2f}x, "
          f"reading {(read - res['libs']) / arrays:.2f}x, core alone {core_above / arrays:.2f}x")


def make_files(directory, n_labeled, n_unlabeled, shuffle, features, per=2, n_annotators=50,
               n_classes=3):
    """The CSV files (``bench_cli_io.make_files``), rows shuffled or not, and a features file."""
    import numpy as np
    import pandas as pd

    from bench_cli_io import make_files as make_io

    make_io(directory, n_labeled, n_unlabeled, n_annotators=n_annotators, n_classes=n_classes,
            labels_per_example=per)
    rng = np.random.default_rng(1)
    if shuffle:
        for name in ("ann.csv", "probs.csv"):
            df = pd.read_csv(directory / name, dtype=str, keep_default_na=False)
            df.iloc[rng.permutation(len(df))].to_csv(directory / name, index=False)
    if features:
        ids = pd.read_csv(directory / "probs.csv", usecols=["example_id"], dtype=str)
        P = pd.read_csv(directory / "probs.csv").drop(columns="example_id").to_numpy()
        X = np.log(P + 1e-3) @ rng.normal(size=(P.shape[1], 4)) + rng.normal(size=(len(P), 4))
        feats = pd.DataFrame(X, columns=[f"f{j}" for j in range(4)])
        feats.insert(0, "example_id", ids["example_id"].to_numpy())
        feats.to_csv(directory / "features.csv", index=False, float_format="%.17g")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--command", choices=("score", "fit", "both"), default="score")
    ap.add_argument("--labeled", type=int, default=500_000, help="labeled examples")
    ap.add_argument("--unlabeled", type=int, default=None, help="default: as many as labeled")
    ap.add_argument("--per-example", type=int, default=2, help="labels per labeled example")
    ap.add_argument("--annotators", type=int, default=50, help="annotators")
    ap.add_argument("--classes", type=int, default=3, help="classes")
    ap.add_argument("--shuffle", action="store_true", help="rows of each file in random order")
    ap.add_argument("--root", action="append", default=None,
                    help="checkout whose skactivelab to run (repeat for a before/after table)")
    ap.add_argument("--no-pyarrow", action="store_true", help="hide pyarrow and pandas")
    ap.add_argument("--make", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    unl = args.labeled if args.unlabeled is None else args.unlabeled
    commands = ("score", "fit") if args.command == "both" else (args.command,)
    if args.make:  # child process: write the files and exit
        make_files(Path(args.make), args.labeled, unl, args.shuffle, "fit" in commands,
                   args.per_example, args.annotators, args.classes)
        return
    roots = args.root or [str(ROOT)]
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        # the files are made in a child process (a forked child's peak RSS would start from
        # this process's size)
        subprocess.run([sys.executable, __file__, "--make", str(tmp), "--labeled",
                        str(args.labeled), "--unlabeled", str(unl), "--command", args.command,
                        "--per-example", str(args.per_example), "--annotators",
                        str(args.annotators), "--classes", str(args.classes)]
                       + (["--shuffle"] if args.shuffle else []), check=True)
        files = {"ann": tmp / "ann.csv", "probs": tmp / "probs.csv",
                 "features": tmp / "features.csv"}
        sizes = ", ".join(f"{k} {v.stat().st_size / 2**20:.0f} MB" for k, v in files.items()
                          if v.exists())
        print(f"{args.per_example * args.labeled:,} annotations ({args.annotators} annotators, "
              f"{args.classes} classes), {args.labeled + unl:,} probability/feature rows"
              f" ({'rows shuffled' if args.shuffle else 'rows in ID order'}; CSV: {sizes}); "
              f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at the start")
        for command in commands:
            for root in roots:
                res = measure(root, command, files, tmp, hide=args.no_pyarrow)
                report(f"{command}, code from {root}"
                       + (" (pyarrow hidden)" if args.no_pyarrow else ""), command, res)


if __name__ == "__main__":
    main()
