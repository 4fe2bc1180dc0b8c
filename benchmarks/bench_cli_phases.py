"""Where ``skactivelab score`` spends its time: reading, checking, scoring, writing.

Data (as ``bench_cli_io.py``): 1,000,000 annotations (500,000 labeled examples,
2 labels each, 50 annotators, 3 classes) in a long CSV table and 1,000,000
probability rows with an ID column (the labeled examples plus 500,000 unlabeled
ones). ``skactivelab score`` runs once in a fresh process with a timer around
each phase (the functions of ``skactivelab/cli/_team.py`` named below); the same
process then runs the scoring core again on the very arrays the command gave it
(ActiveLab scores and CROWDLAB consensus), so that the ratio command / core
compares like with like. Peak memory (``ru_maxrss``) of the command and of a
process that runs only the core on the same arrays are reported above that of a
process that only imports the command line, beside the size of those arrays.

    python benchmarks/bench_cli_phases.py                     # 1M annotations, CSV
    python benchmarks/bench_cli_phases.py --labeled 50000     # a quick run
    python benchmarks/bench_cli_phases.py --root /path/to/other/checkout   # before/after
    python benchmarks/bench_cli_phases.py --no-pyarrow        # the standard-library reader

``--no-pyarrow`` hides pyarrow (and pandas) from the command, as on an install
without them.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))

#: (modules, attribute names, phase): each is timed around every call (inclusive time);
#: the first module holding one of the names is used (the names of earlier versions too,
#: for a before/after table).
_SCORE = ("skactivelab.cli._score", "skactivelab.cli._team")
PHASES = [
    (_SCORE, ("_read_annotations_for_score",), "read annotations"),
    (_SCORE, ("read_pred_probs",), "read probabilities"),
    (_SCORE, ("align_pred_probs",), "align IDs, encode labels"),
    (("skactivelab.activelab",), ("get_active_learning_scores",), "core: ActiveLab scores"),
    (_SCORE, ("_crowdlab_for_score",), "core: CROWDLAB consensus"),
    (_SCORE, ("Batch", "_Batch"), "select the batch"),
    (_SCORE, ("write_outputs", "_write_outputs"), "write outputs"),
]

HIDE_PYARROW = """
import sys
class _Hide:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("pyarrow", "pandas"):
            raise ImportError(f"{name} hidden by the benchmark")
sys.meta_path.insert(0, _Hide())
"""

CHILD = """
import importlib, json, pickle, resource, sys, time
sys.path.insert(0, {root!r})
{hide}
import numpy as np
from skactivelab import cli
phases, captured, peaks = {{}}, {{}}, {{}}

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
    real = getattr(mod, name)
    def wrapper(*args, **kwargs):
        t = time.perf_counter()
        try:
            return real(*args, **kwargs)
        finally:
            phases[phase] = phases.get(phase, 0.0) + time.perf_counter() - t
            peaks[phase] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            if phase.startswith("core"):
                captured[phase] = (real, args, kwargs)
    setattr(mod, name, wrapper)

for modules, names, phase in {phases!r}:
    timed(modules, names, phase)
t0 = time.perf_counter()
code = cli.main({argv!r})
total = time.perf_counter() - t0
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
core = {{}}
for phase, (fn, args, kwargs) in captured.items():
    t = time.perf_counter()
    fn(*args, **kwargs)
    core[phase] = time.perf_counter() - t

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

seen = {{}}
for fn, args, kwargs in captured.values():
    for a in arrays_of(list(args) + list(kwargs.values())):
        seen[id(a)] = a
nbytes = sum(a.nbytes for a in seen.values())
with open({arrays_file!r}, "wb") as fh:
    pickle.dump([(fn.__module__, fn.__name__, args, kwargs) for fn, args, kwargs in captured.values()], fh)
print("RESULT", json.dumps(dict(code=code, total=total, rss=rss, phases=phases, core=core,
                                nbytes=nbytes, peaks=peaks)))
"""

CORE_ONLY = """
import importlib, pickle, resource, sys
sys.path.insert(0, {root!r})
from skactivelab import cli  # the same imports as the command
with open({arrays_file!r}, "rb") as fh:
    calls = pickle.load(fh)
for module, name, args, kwargs in calls:
    getattr(importlib.import_module(module), name)(*args, **kwargs)
print("RESULT", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
"""


def _run(code):
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=False)
    line = next((ln for ln in out.stdout.splitlines() if ln.startswith("RESULT")), None)
    if line is None:
        raise RuntimeError(out.stderr[-3000:])
    return line.split(" ", 1)[1]


def measure(root, ann, probs, out_csv, tmp, hide=False):
    """Phase times, core times, peak RSS of the command and of the core alone (MB)."""
    arrays_file = str(tmp / "core_calls.pickle")
    hide_code = HIDE_PYARROW if hide else ""
    base = float(_run(f"import resource, sys\nsys.path.insert(0, {str(root)!r})\n{hide_code}\n"
                      "from skactivelab import cli\n"
                      "print('RESULT', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)"))
    argv = ["score", "--annotations", str(ann), "--pred-probs", str(probs), "--batch", "1000",
            "--out", str(out_csv), "--quiet"]
    res = json.loads(_run(CHILD.format(root=str(root), hide=hide_code, phases=PHASES, argv=argv,
                                       arrays_file=arrays_file)))
    if res["code"] != 0:
        raise RuntimeError(f"score exited with {res['code']}")
    core_rss = float(_run(CORE_ONLY.format(root=str(root), arrays_file=arrays_file)))
    res.update(base=base, core_rss=core_rss)
    return res


def report(label, res):
    total = res["total"]
    core = sum(res["core"].values())
    print(f"\n{label}")
    print(f"{'phase':<28} {'seconds':>8} {'share':>7} {'peak RSS so far, MB':>20}")
    accounted = 0.0
    for *_, phase in PHASES:
        t = res["phases"].get(phase)
        if t is None:
            continue
        accounted += t
        peak = res["peaks"][phase] - res["base"]
        print(f"{phase:<28} {t:>8.2f} {t / total:>7.0%} {peak:>20.0f}")
    print(f"{'other (setup, bookkeeping)':<28} {total - accounted:>8.2f} "
          f"{(total - accounted) / total:>7.0%}")
    print(f"{'whole command':<28} {total:>8.2f}")
    print(f"core again on the same arrays: {core:.2f} s; command / core = {total / core:.2f}x")
    arrays = res["nbytes"] / 2**20
    above = res["rss"] - res["base"]
    core_above = res["core_rss"] - res["base"]
    read = max(res["peaks"].get(p, 0) for p in ("read annotations", "read probabilities",
                                                "align IDs, encode labels")) - res["base"]
    print(f"peak RSS above import: command {above:.0f} MB, core alone {core_above:.0f} MB, "
          f"reading (until the IDs are aligned) {read:.0f} MB; arrays given to the core "
          f"{arrays:.0f} MB (reading / arrays = {read / arrays:.2f}x, command / arrays = "
          f"{above / arrays:.2f}x, command / core alone = {above / max(core_above, 1):.2f}x)")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--labeled", type=int, default=500_000, help="labeled examples (2 labels each)")
    ap.add_argument("--unlabeled", type=int, default=None, help="default: as many as labeled")
    ap.add_argument("--root", action="append", default=None,
                    help="checkout whose skactivelab to run (repeat for a before/after table)")
    ap.add_argument("--no-pyarrow", action="store_true", help="hide pyarrow and pandas")
    args = ap.parse_args()
    unl = args.labeled if args.unlabeled is None else args.unlabeled
    roots = args.root or [str(ROOT)]
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        subprocess.run([sys.executable, str(ROOT / "benchmarks" / "bench_cli_io.py"), "--make",
                        str(tmp), "--labeled", str(args.labeled), "--unlabeled", str(unl)],
                       check=True)
        print(f"score from CSV: {2 * args.labeled:,} annotations, {args.labeled + unl:,} "
              f"probability rows ({(tmp / 'ann.csv').stat().st_size / 2**20:.0f} MB + "
              f"{(tmp / 'probs.csv').stat().st_size / 2**20:.0f} MB of CSV)")
        for root in roots:
            res = measure(root, tmp / "ann.csv", tmp / "probs.csv", tmp / "next.csv", tmp,
                          hide=args.no_pyarrow)
            report(f"code from {root}" + (" (pyarrow hidden)" if args.no_pyarrow else ""), res)


if __name__ == "__main__":
    main()
