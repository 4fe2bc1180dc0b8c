"""A regime grid for consensus (truth inference) methods: where does each method lose?

Two crowds:

* simulated crowds crossing crowd strength (mean annotator accuracy 0.55, 0.7, 0.8, 0.9, and
  a decent crowd with spammers and adversaries), classifier strength (weak, strong,
  over-confident), labels per example (1, mixed, 2, 3, 5) and class count (2, 5, 26), on a
  designed set of cells covering every level of each factor; and crowds like a real one
  ("0.7 biased", "0.55 biased": Zipf class frequencies, wrong labels biased toward the
  frequent classes by the whole crowd) and a fourth classifier, "crowd-trained", simulated
  around the crowd's majority-vote labels instead of the truth (it shares the crowd's errors);
  a fifth, "learned", is a logistic regression trained out of fold on those labels, on
  features simulated around the truth; and crowds where a quarter of the annotators are lazy
  ("0.8 lazy": they always answer the first class);
* the real music genre crowd (Mechanical Turk, 10 genres) in five regimes: all labels, half
  the songs cut to one label, and k = 1, 2, 3 labels per song; the classifier is out-of-fold
  (5-fold) logistic regression or extra trees trained on the regime's majority-vote labels.

Every method's consensus is scored against the truth (accuracy); mean and standard error
over replicates (a replicate draws a new crowd, classifier and label subsample). The
methods are the registry ``regime_lib.METHODS`` (majority vote, CROWDLAB, the likelihood EM
consensus, crowd-kit's aggregators when crowd-kit is installed, and AnnotatorConfusion when
the package has it).

    python benchmarks/regime_grid.py --quick                      # smoke run, < 1 minute
    python benchmarks/regime_grid.py --n-jobs 2 --out grid.md --csv grid.csv
    python benchmarks/regime_grid.py --recompute grid.csv         # the tables again from the CSV
    python benchmarks/regime_grid.py --crowds "0.7 biased,0.55 biased" --no-music   # some crowds only
    python benchmarks/regime_grid.py --crowds 0,4 --classifiers crowd-trained --no-music

``--crowds`` takes indices into ``CROWDS`` or strength names; ``--classifiers`` a subset of
``CLASSIFIERS``. Seeds follow the crowd's index and the classifier's position, so a subset
draws exactly the data (and gives the rows) of the full grid.
"""

from __future__ import annotations

import argparse
import csv
import datetime
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

HERE = str(Path(__file__).resolve().parent)
sys.path.insert(0, HERE)
import regime_lib as R  # noqa: E402

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "music_genre"

#: Short column names of the tables.
SHORT = {
    "majority_vote": "MV", "crowdlab": "CROWDLAB", "em": "EM", "DawidSkene": "DS",
    "OneCoinDawidSkene": "OneCoinDS", "GLAD": "GLAD", "MACE": "MACE", "Wawa": "Wawa",
    "ZeroBasedSkill": "ZBS", "MMSR": "MMSR", "annotator_confusion": "AC",
    "annotator_confusion (labels only)": "AC (labels)", "annotator_confusion (no copies)": "AC (no copies)",
    "annotator_confusion (shares removed)": "AC (shares removed)",
}
#: A method of ours is flagged when it is more than this below the row's best.
GAP = 0.003

# ---------------------------------------------------------------------------- the cells
#: Crowd strengths: (mean accuracy of the ordinary annotators, spammer fraction, adversary fraction).
STRENGTHS = {
    "0.55": (0.55, 0.0, 0.0),
    "0.7": (0.70, 0.0, 0.0),
    "0.8": (0.80, 0.0, 0.0),
    "0.9": (0.90, 0.0, 0.0),
    "spam+adv": (0.75, 0.2, 0.1),
    "0.7 biased": (0.70, 0.0, 0.0),
    "0.55 biased": (0.55, 0.0, 0.0),
    "0.8 skewed": (0.80, 0.1, 0.0),
    "0.8 lazy": (0.80, 0.0, 0.0),
}
#: Crowds like a real one: the truth's class frequencies follow Zipf weights (class k in
#: proportion to 1 / (k + 1)), and the ordinary annotators' wrong labels follow the same
#: weights (renormalised over the other classes): everyone over-calls the frequent classes.
BIASED = {"0.7 biased", "0.55 biased"}
#: Crowds like a real two-class one: five times as many annotators (:data:`SKEW_ANNOTATORS`),
#: of very unequal activity (Zipf weights: the busiest annotator labels about 160 of the 800
#: examples with one label each, about 500 with five; most only a few) and widely spread accuracies (Beta concentration
#: :data:`SKEW_CONCENTRATION`, some of them below chance), 10% spammers.
SKEWED = {"0.8 skewed"}
#: Crowds with lazy annotators: this fraction of the annotators always answers the first class
#: (class 0) whatever the truth, as those who click the form's first option do.
LAZY = {"0.8 lazy": 0.25}
SKEW_ANNOTATORS = 5
SKEW_CONCENTRATION = 6.0
#: The simulated crowds (strength, labels per example, K); every one is crossed with the
#: classifiers of :data:`CLASSIFIERS`. One factor at a time around the base (0.7, 3 labels, K=5),
#: then interactions, then crowds like a real one (:data:`BIASED`).
CROWDS = [
    ("0.7", "3", 5),          # base
    ("0.55", "3", 5),         # crowd strength
    ("0.9", "3", 5),
    ("spam+adv", "3", 5),
    ("0.7", "1", 5),          # labels per example
    ("0.7", "mixed", 5),
    ("0.7", "2", 5),
    ("0.7", "5", 5),
    ("0.7", "3", 2),          # classes
    ("0.7", "3", 26),
    ("0.8", "1", 5),          # strong crowd, one label each (with the weak classifier: a known failure)
    ("0.8", "mixed", 5),
    ("0.9", "1", 5),
    ("0.55", "5", 2),
    ("0.55", "1", 2),
    ("spam+adv", "5", 5),
    ("spam+adv", "mixed", 26),
    ("0.9", "mixed", 26),
    ("0.7 biased", "3", 5),   # like a real crowd: unequal classes, a shared bias (appended: the
    ("0.7 biased", "2", 10),  # indices, hence the seeds, of the crowds above are unchanged)
    ("0.55 biased", "3", 10),
    ("0.8 skewed", "1", 2),   # like a real two-class crowd (SKEWED), in the five label regimes
    ("0.8 skewed", "mixed", 2),
    ("0.8 skewed", "2", 2),
    ("0.8 skewed", "3", 2),
    ("0.8 skewed", "5", 2),
    ("0.8 lazy", "3", 3),     # a quarter of the annotators always answer class 0 (:data:`LAZY`)
    ("0.8 lazy", "1", 5),
    ("0.8 lazy", "mixed", 5),
    ("0.8 lazy", "5", 2),
]
QUICK_CROWDS = [("0.7", "3", 5), ("0.8", "1", 5), ("spam+adv", "mixed", 5)]
CLASSIFIERS = ("weak", "strong", "over-confident", "crowd-trained", "learned")
MUSIC_REGIMES = ("all labels", "half cut to 1", "k=1", "k=2", "k=3")
QUICK_MUSIC_REGIMES = ("k=1",)
MUSIC_MODELS = ("logreg", "extratrees")


def classifier_setting(kind, crowd_accuracy, n_classes):
    """(accuracy, sharpness) of a simulated classifier relative to the crowd's mean accuracy
    ``c``: weak = halfway from chance to ``c`` (calibrated); strong = halfway from ``c`` to 1
    (calibrated); over-confident = accuracy ``c`` with logits x4; crowd-trained = the weak
    setting, its accuracy measured against the crowd's majority-vote labels; learned = features
    whose best classifier has the weak setting's accuracy (see :func:`simulated_job`)."""
    chance = 1.0 / n_classes
    if kind in ("weak", "crowd-trained", "learned"):
        return chance + 0.5 * (crowd_accuracy - chance), 1.0
    if kind == "strong":
        return min(crowd_accuracy + 0.5 * (1.0 - crowd_accuracy), 0.98), 1.0
    if kind == "over-confident":
        return crowd_accuracy, 4.0
    raise ValueError(f"unknown classifier {kind!r}; use one of {CLASSIFIERS}.")


def _seeds(*key, n=3):
    return [int(s) for s in np.random.SeedSequence([int(k) for k in key]).generate_state(n)]


def _run_methods(methods, labels, P, truth, seed, base):
    """Rows of ``base`` + method, accuracy, seconds, error for each method."""
    rows = []
    for name in methods:
        t0 = time.perf_counter()
        try:
            codes = np.asarray(R.METHODS[name](labels, P, seed))
            acc, err = float(np.mean(codes == truth)), ""
        except Exception as e:  # a failing method is a NaN with its error named
            acc, err = float("nan"), f"{type(e).__name__}: {e}"[:200]
        rows.append({**base, "method": name, "accuracy": acc,
                     "seconds": time.perf_counter() - t0, "error": err})
    return rows


def simulated_job(ci, rep, n_examples, n_annotators, methods, base_seed):
    """Every method on one simulated crowd (crowd-only methods once) and its classifiers.

    The classifiers weak, strong and over-confident are simulated around the truth; the
    crowd-trained one around the crowd's majority-vote labels (ties broken at random), with
    the weak setting's accuracy relative to those labels: a classifier trained on the crowd's
    labels, which shares the crowd's errors, its own example's included. The learned one is
    what a user gets by training a model out of fold on those labels: a logistic regression on
    features simulated around the truth (their best classifier has the weak setting's
    accuracy), 5-fold out of fold, so it learns the crowd's shared errors but never sees its
    own example's labels. Classifier ``j`` of :data:`CLASSIFIERS` has the
    seed ``s_clf + j`` whichever classifiers are run."""
    strength, scheme, K = CROWDS_IN_USE[ci]
    mean, spam, adv = STRENGTHS[strength]
    s_crowd, s_clf, s_method = _seeds(base_seed, 1, ci, rep)
    w = R.zipf_weights(K) if strength in BIASED else None
    skew = {}
    if strength in SKEWED:
        n_annotators *= SKEW_ANNOTATORS
        skew = {"activity": R.zipf_weights(n_annotators), "concentration": SKEW_CONCENTRATION}
    crowd = R.simulate_crowd(n_examples, K, mean, scheme, n_annotators=n_annotators, spam_frac=spam,
                             adversary_frac=adv, lazy_frac=LAZY.get(strength, 0.0), class_weights=w,
                             wrong_bias=w, random_state=s_crowd, **skew)
    c = R.crowd_mean_accuracy(crowd)
    truth, labels = crowd["truth"], crowd["labels"]
    only = [m for m in methods if m in R.CROWD_ONLY]
    model = [m for m in methods if m not in R.CROWD_ONLY]
    shared = _run_methods(only, labels, None, truth, s_method, {})
    rows = []
    for j, kind in enumerate(CLASSIFIERS):
        if kind not in CLASSIFIERS_IN_USE:
            continue
        acc, sharp = classifier_setting(kind, c, K)
        target = truth
        if kind in ("crowd-trained", "learned"):  # a seed of its own: the other draws are unchanged
            target = R.majority_vote(labels, None, _seeds(base_seed, 3, ci, rep, n=1)[0])
        if kind == "learned":
            P = R.learned_pred_probs(truth, target, K, acc, random_state=s_clf + j)
        else:
            P = R.simulate_pred_probs(target, K, acc, sharpness=sharp, random_state=s_clf + j)
        base = {"crowd": "simulated", "strength": strength, "labels": scheme, "K": K, "classifier": kind,
                "clf_accuracy": float(np.mean(P.argmax(axis=1) == truth)), "crowd_accuracy": c,
                "rep": rep, "seed": s_crowd}
        rows += [{**base, **r} for r in shared]
        rows += _run_methods(model, labels, P, truth, s_method, base)
    return rows


def subsample(ann, regime, rng):
    """The annotations (example, annotator, label) kept in a music regime."""
    ex, an, lab = ann
    N = int(ex.max()) + 1
    if regime == "all labels":
        return ex, an, lab
    # a random rank of each label within its example
    order = np.lexsort((rng.random(ex.size), ex))
    first = np.searchsorted(ex[order], np.arange(N))
    rank = np.empty(ex.size, dtype=np.int64)
    rank[order] = np.arange(ex.size) - first[ex[order]]
    if regime == "half cut to 1":
        k = np.full(N, ex.size)
        k[rng.permutation(N)[: N // 2]] = 1
    elif regime.startswith("k="):
        k = np.full(N, int(regime[2:]))
    else:
        raise ValueError(f"unknown music regime {regime!r}; use one of {MUSIC_REGIMES}.")
    keep = rank < k[ex]
    return ex[keep], an[keep], lab[keep]


def music_models(X, y_mv, K, seed):
    """Out-of-fold (5-fold) probabilities of the two classifiers trained on ``y_mv``."""
    from sklearn.ensemble import ExtraTreesClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_predict
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    models = {
        "logreg": make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000)),
        "extratrees": ExtraTreesClassifier(n_estimators=200, random_state=seed, n_jobs=1),
    }
    cv = StratifiedKFold(5, shuffle=True, random_state=seed)
    present = np.unique(y_mv)
    out = {}
    for name, model in models.items():
        p = cross_val_predict(model, X, y_mv, cv=cv, method="predict_proba")
        P = np.zeros((X.shape[0], K))
        P[:, present] = p  # a class no majority vote chose gets probability 0
        out[name] = P
    return out


def music_job(ri, rep, crowd, methods, base_seed):
    regime = MUSIC_REGIMES_IN_USE[ri]
    s_sub, s_clf, s_method = _seeds(base_seed, 2, ri, rep)
    ex, an, lab = subsample(crowd.annotations, regime, np.random.default_rng(s_sub))
    N, M, K = crowd.data.shape[0], len(crowd.annotator_ids), len(crowd.target_names)
    labels = np.full((N, M), np.nan)
    labels[ex, an] = lab
    truth = crowd.target
    y_mv = R.majority_vote(labels, None, s_sub)
    probs = music_models(crowd.data, y_mv, K, s_clf % (2**31 - 1))
    only = [m for m in methods if m in R.CROWD_ONLY]
    model = [m for m in methods if m not in R.CROWD_ONLY]
    shared = _run_methods(only, labels, None, truth, s_method, {})
    rows = []
    for name, P in probs.items():
        base = {"crowd": "music", "strength": "music", "labels": regime, "K": K, "classifier": name,
                "clf_accuracy": float(np.mean(P.argmax(axis=1) == truth)),
                "crowd_accuracy": float(np.mean(lab == truth[ex])), "rep": rep, "seed": s_sub}
        rows += [{**base, **r} for r in shared]
        rows += _run_methods(model, labels, P, truth, s_method, base)
    return rows


CROWDS_IN_USE = CROWDS
MUSIC_REGIMES_IN_USE = MUSIC_REGIMES
CLASSIFIERS_IN_USE = CLASSIFIERS


def _init(crowds, regimes, classifiers=CLASSIFIERS):
    """Set the cells in a worker process (the jobs name cells by index)."""
    global CROWDS_IN_USE, MUSIC_REGIMES_IN_USE, CLASSIFIERS_IN_USE
    CROWDS_IN_USE, MUSIC_REGIMES_IN_USE, CLASSIFIERS_IN_USE = crowds, regimes, classifiers


def _job(kind, i, rep, args, crowds, regimes, methods, crowd):
    _init(crowds, regimes, args.classifiers)
    if kind == "sim":
        return simulated_job(i, rep, args.n_examples, args.n_annotators, methods, args.seed)
    return music_job(i, rep, crowd, methods, args.seed)


# ---------------------------------------------------------------------------- tables
COLUMNS = ["crowd", "strength", "labels", "K", "classifier", "clf_accuracy", "crowd_accuracy", "rep",
           "seed", "method", "accuracy", "seconds", "error"]


def _cell_key(r):
    return (r["crowd"], r["strength"], str(r["labels"]), int(r["K"]), r["classifier"])


def summarize(rows, methods):
    """{cell: {"methods": {m: (mean, se, paired diff to MV, its se, errors)}, "clf": ..., "c": ...}}"""
    cells = {}
    for r in rows:
        cells.setdefault(_cell_key(r), []).append(r)
    out = {}
    for key, rs in cells.items():
        by = {}
        for r in rs:
            by.setdefault(r["method"], {})[int(r["rep"])] = r
        mv = by.get("majority_vote", {})
        stats = {}
        for m in methods:
            reps = by.get(m, {})
            if not reps:
                continue
            acc = np.array([float(reps[k]["accuracy"]) for k in sorted(reps)])
            d = np.array([float(reps[k]["accuracy"]) - float(mv[k]["accuracy"]) for k in sorted(reps) if k in mv])
            errors = [reps[k]["error"] for k in sorted(reps) if reps[k]["error"]]
            stats[m] = (float(np.nanmean(acc)) if np.any(~np.isnan(acc)) else float("nan"),
                        R.standard_error(acc),
                        float(np.nanmean(d)) if d.size and np.any(~np.isnan(d)) else float("nan"),
                        R.standard_error(d), errors, int(acc.size))
        out[key] = {"methods": stats,
                    "clf": float(np.mean([float(r["clf_accuracy"]) for r in rs])),
                    "c": float(np.mean([float(r["crowd_accuracy"]) for r in rs]))}
    return out


def _label(key):
    crowd, strength, labels, K, clf = key
    if crowd == "music":
        return f"music, {labels}, {clf}"
    return f"crowd {strength}, {labels} labels, K={K}, {clf}"


def table(summary, crowd, methods):
    """The markdown table of one crowd: a row per cell, "mean ± se" per method."""
    keys = [k for k in summary if k[0] == crowd]
    if not keys:
        return ""
    head = ("| crowd | labels/example | K | classifier | clf acc | "
            if crowd == "simulated" else "| | regime | K | classifier | clf acc | ")
    lines = [head + " | ".join(SHORT.get(m, m) for m in methods) + " |",
             "|---" * (5 + len(methods)) + "|"]
    for key in keys:
        st = summary[key]["methods"]
        means = {m: st[m][0] for m in methods if m in st and not np.isnan(st[m][0])}
        best = max(means.values()) if means else float("nan")
        cells = []
        for m in methods:
            if m not in st:
                cells.append("–")
                continue
            mean, se, d, dse, errors, _ = st[m]
            if np.isnan(mean):
                cells.append("NaN (" + "; ".join(sorted({e.split(":")[0] for e in errors})) + ")")
                continue
            s = f"{mean:.3f} ± {se:.3f}"
            if mean == best:
                s = f"**{s}**"
            if m in R.OURS and mean < best - GAP:
                s += " ▽"
            if m != "majority_vote" and not np.isnan(d) and not np.isnan(dse) and d < -dse:
                s += " †"
            if errors:
                s += f" ({len(errors)}/{st[m][5]} failed)"
            cells.append(s)
        crowd_name, strength, labels, K, clf = key
        first = strength if crowd == "simulated" else ""
        lines.append(f"| {first} | {labels} | {K} | {clf} | {summary[key]['clf']:.2f} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def worst_table(summary, methods):
    """Per method: rows won, mean and worst gap to the row's best (and the cell), worst gap to
    crowd-kit's best and to majority vote."""
    ck = [m for m in methods if m in R.CROWDKIT]
    lines = ["| method | best in rows | mean gap to best | worst gap to best | worst cell "
             "| worst gap to crowd-kit's best (cell) | worst gap to MV (cell) |",
             "|---|---|---|---|---|---|---|"]
    for m in methods:
        gaps, wins, ck_gaps, mv_gaps = [], 0, [], []
        for key, s in summary.items():
            st = s["methods"]
            if m not in st or np.isnan(st[m][0]):
                continue
            means = {k: v[0] for k, v in st.items() if not np.isnan(v[0])}
            best = max(means.values())
            gaps.append((best - st[m][0], key))
            wins += st[m][0] == best
            ckb = [means[c] for c in ck if c in means and c != m]
            if ckb:
                ck_gaps.append((max(ckb) - st[m][0], key))
            if "majority_vote" in means and m != "majority_vote":
                mv_gaps.append((means["majority_vote"] - st[m][0], key))
        if not gaps:
            lines.append(f"| {SHORT.get(m, m)} | 0 | – | – | – | – | – |")
            continue
        g, k = max(gaps)

        def worst(x):
            if not x:
                return "–"
            v, kk = max(x)
            return f"{v:+.3f} ({_label(kk)})"

        lines.append(f"| {SHORT.get(m, m)} | {wins}/{len(gaps)} | {np.mean([x for x, _ in gaps]):.3f} | "
                     f"{g:.3f} | {_label(k)} | {worst(ck_gaps)} | {worst(mv_gaps)} |")
    return "\n".join(lines)


def time_table(rows, methods):
    """Seconds per fit of each method; a crowd-only method's fit, shared by the classifier rows
    of its crowd, is counted once."""
    by, seen = {}, set()
    for r in rows:
        key = (r["method"], r["crowd"], r["strength"], str(r["labels"]), str(r["K"]), str(r["rep"]))
        if r["method"] in R.CROWD_ONLY:
            if key in seen:
                continue
            seen.add(key)
        by.setdefault(r["method"], []).append(r)
    lines = ["| method | seconds per fit (mean) | max | fits | failures |", "|---|---|---|---|---|"]
    for m in methods:
        rs = by.get(m, [])
        if not rs:
            continue
        t = np.array([float(r["seconds"]) for r in rs])
        fails = sum(1 for r in rs if r["error"])
        lines.append(f"| {SHORT.get(m, m)} | {t.mean():.3f} | {t.max():.2f} | {len(rs)} | {fails} |")
    return "\n".join(lines)


def report(rows, methods, meta):
    summary = summarize(rows, methods)
    parts = [f"_{meta}_", ""]
    for crowd, title in (("simulated", "Simulated crowds"), ("music", "Music genre crowd (real)")):
        t = table(summary, crowd, methods)
        if t:
            parts += [f"### {title}", "", t, ""]
    parts += ["### Worst cell of each method", "", worst_table(summary, methods), "",
              "### Time per method", "", time_table(rows, methods), ""]
    errors = sorted({(r["method"], r["error"]) for r in rows if r["error"]})
    if errors:
        parts += ["### Failures", ""] + [f"- {SHORT.get(m, m)}: {e}" for m, e in errors] + [""]
    return "\n".join(parts)


def read_csv(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def write_csv(rows, path):
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=COLUMNS)
        w.writeheader()
        for r in rows:
            w.writerow({c: r.get(c, "") for c in COLUMNS})


# ---------------------------------------------------------------------------- main
def select_crowds(spec, crowds):
    """Indices into ``crowds`` named by ``spec``: comma-separated indices or strength names
    (every crowd of that strength); all when empty. The seeds follow the index, so a crowd run
    alone draws the same data as in the full grid."""
    if not spec.strip():
        return list(range(len(crowds)))
    out = []
    for part in (x.strip() for x in spec.split(",")):
        if part.isdigit() and int(part) < len(crowds):
            hits = [int(part)]
        else:
            hits = [i for i, c in enumerate(crowds) if c[0] == part]
        if not hits:
            raise SystemExit(f"unknown crowd {part!r}: give an index below {len(crowds)} or one of "
                             f"{sorted({c[0] for c in crowds})}")
        out += [i for i in hits if i not in out]
    return out


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", default=str(DEFAULT_DATA),
                   help="directory of the music genre crowd (annotations.csv, features.csv, truth.csv, test.csv)")
    p.add_argument("--replicates", type=int, default=10)
    p.add_argument("--n-examples", type=int, default=800, help="examples per simulated crowd")
    p.add_argument("--n-annotators", type=int, default=40)
    p.add_argument("--n-jobs", type=int, default=1)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--quick", action="store_true", help="2 replicates, 3 simulated crowds, 1 music regime, N=300")
    p.add_argument("--methods", default="", help="comma-separated subset of the registry (default: all)")
    p.add_argument("--crowds", default="",
                   help="simulated crowds to run: comma-separated indices into CROWDS or strength names "
                        "(e.g. '18,19' or '0.7 biased'); default all (the quick set with --quick)")
    p.add_argument("--classifiers", default="",
                   help=f"comma-separated simulated classifiers out of {', '.join(CLASSIFIERS)} (default all)")
    p.add_argument("--no-music", action="store_true")
    p.add_argument("--no-simulated", action="store_true")
    p.add_argument("--out", help="write the markdown report here")
    p.add_argument("--csv", help="write the raw per-replicate results here")
    p.add_argument("--recompute", metavar="CSV", help="print the report of an earlier --csv and exit")
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    methods = [m for m in args.methods.split(",") if m] or list(R.METHODS)
    unknown = [m for m in methods if m not in R.METHODS]
    if unknown:
        raise SystemExit(f"unknown methods {unknown}; the registry has {list(R.METHODS)}")
    if not R.crowdkit_available():
        print("crowd-kit is not installed: its aggregators are left out (pip install crowd-kit==1.4.2)",
              file=sys.stderr)
    if args.recompute:
        rows = read_csv(args.recompute)
        present = {r["method"] for r in rows}
        text = report(rows, [m for m in methods if m in present] + sorted(present - set(methods)),
                      f"recomputed from {args.recompute}")
        print(text)
        if args.out:
            Path(args.out).write_text(text + "\n")
        return 0
    crowds, regimes = (QUICK_CROWDS, QUICK_MUSIC_REGIMES) if args.quick else (CROWDS, MUSIC_REGIMES)
    selected = select_crowds(args.crowds, crowds)
    args.classifiers = tuple(c for c in args.classifiers.split(",") if c) or CLASSIFIERS
    bad = [c for c in args.classifiers if c not in CLASSIFIERS]
    if bad:
        raise SystemExit(f"unknown classifiers {bad}; use some of {list(CLASSIFIERS)}")
    if args.quick:
        args.replicates, args.n_examples = 2, 300
    crowd = None
    if not args.no_music:
        files = [Path(args.data) / f for f in ("annotations.csv", "truth.csv", "features.csv", "test.csv")]
        missing = [f.name for f in files if not f.exists()]
        if missing:
            print(f"music genre crowd skipped: {', '.join(missing)} not found in {args.data} (--data DIR)",
                  file=sys.stderr)
        else:
            from skactivelab.datasets import load_real_crowd

            crowd = load_real_crowd(*files)
    jobs = [] if args.no_simulated else [("sim", i, rep) for i in selected for rep in range(args.replicates)]
    if crowd is not None:
        jobs += [("music", i, rep) for i in range(len(regimes)) for rep in range(args.replicates)]
    # the costliest first (26 classes, many labels), for an even load over the workers
    cost = {"1": 1, "mixed": 2, "2": 2, "3": 3, "5": 5}

    def est(j):
        if j[0] == "music":
            return 30
        s, lab, K = crowds[j[1]]
        return cost[lab] * (3 if K == 26 else 1)

    jobs.sort(key=est, reverse=True)
    print(f"{len(jobs)} jobs ({0 if args.no_simulated else len(selected)} simulated crowds x "
          f"{len(args.classifiers)} classifiers, "
          f"{0 if crowd is None else len(regimes)} music regimes x 2 classifiers; {args.replicates} replicates), "
          f"methods: {', '.join(methods)}", file=sys.stderr)
    t0 = time.perf_counter()
    rows = []
    if args.n_jobs == 1:
        for n, j in enumerate(jobs, 1):
            rows += _job(*j, args, crowds, regimes, methods, crowd)
            print(f"  {n}/{len(jobs)} done, {time.perf_counter() - t0:.0f} s", file=sys.stderr, end="\r", flush=True)
    else:
        from joblib import Parallel, delayed

        # the worker processes import regime_lib too
        os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (HERE, os.environ.get("PYTHONPATH", "")) if p)
        for n, r in enumerate(Parallel(n_jobs=args.n_jobs, return_as="generator_unordered")(
                delayed(_job)(*j, args, crowds, regimes, methods, crowd) for j in jobs), 1):
            rows += r
            print(f"  {n}/{len(jobs)} done, {time.perf_counter() - t0:.0f} s", file=sys.stderr, end="\r", flush=True)
    elapsed = time.perf_counter() - t0
    print(file=sys.stderr)
    order = {c: i for i, c in enumerate(crowds)}
    rorder = {c: i for i, c in enumerate(regimes)}
    rows.sort(key=lambda r: (r["crowd"] != "simulated",
                             order.get((r["strength"], r["labels"], r["K"]), 0) if r["crowd"] == "simulated"
                             else rorder[r["labels"]],
                             CLASSIFIERS.index(r["classifier"]) if r["classifier"] in CLASSIFIERS
                             else MUSIC_MODELS.index(r["classifier"]), r["rep"], methods.index(r["method"])))
    import sklearn

    versions = f"scikit-learn {sklearn.__version__}, numpy {np.__version__}"
    if R.crowdkit_available():
        from importlib.metadata import version

        versions += f", crowd-kit {version('crowd-kit')}"
    meta = (f"{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC; {args.replicates} replicates; "
            f"N={args.n_examples} examples and {args.n_annotators} annotators per simulated crowd; "
            f"{elapsed / 60:.1f} min with --n-jobs {args.n_jobs} on {os.cpu_count()} cores "
            f"({platform.processor() or platform.machine()}, Python {platform.python_version()}); {versions}")
    text = report(rows, methods, meta)
    print(text)
    if args.out:
        Path(args.out).write_text(text + "\n")
    if args.csv:
        write_csv(rows, args.csv)
    return 0


if __name__ == "__main__":
    sys.exit(main())
