"""Why the annotator-confusion model trails MACE on a two-class crowd near chance.

On the regime grid's two-class crowds (the same draws: crowd index and replicate seed as in
``regime_grid.py``), labels only, this prints per crowd the consensus accuracy (mean ± standard
error over replicates) of:

* ``MV`` (majority vote) and ``AC``: :class:`~skactivelab.crowd_models.AnnotatorConfusion`
  fitted on the labels, as it is (the pull toward the crowd chosen by cross-validation);
* ``AC s=<strength> <rows>``: the same model with the pull of each annotator's accuracy toward
  the crowd's fixed (pseudo-labels; ``one-coin``: an accuracy per annotator, ``full``: a
  confusion matrix per annotator);
* ``MACE`` (crowd-kit, when installed; 3 restarts as in the grid);
* ``oracle``: a vote weighted by the log-odds of each annotator's true accuracy, and
  ``oracle >= 0``: the same with the weights of annotators below chance set to 0;

then, on all the labels, how much better the annotators' true accuracies explain them than one
accuracy for the whole crowd: the log-likelihood gain (in nats) of the one-coin model with each
annotator's true accuracy over the model with the crowd's mean accuracy, beside the number of
annotators (parameters). A gain of the order of the number of parameters is what fitting
that many parameters to noise gives, so no likelihood test can prefer the annotators' own
accuracies there.

    python benchmarks/near_chance_check.py                 # 10 replicates, about 3 minutes
    python benchmarks/near_chance_check.py --replicates 4 --crowds "0.55/5"
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from scipy.special import logsumexp

HERE = str(Path(__file__).resolve().parent)
sys.path.insert(0, HERE)
import regime_grid as G  # noqa: E402
import regime_lib as R  # noqa: E402

from skactivelab import _confusion as C  # noqa: E402
from skactivelab._annotations import check_annotations  # noqa: E402
from skactivelab.crowd_models import AnnotatorConfusion  # noqa: E402

#: (strength, kind of rows) candidates fixed in turn.
FIXED = ((2.0, "one-coin"), (8.0, "one-coin"), (32.0, "one-coin"), (8.0, "full"), (C.STRENGTHS[-1], "full"))


def fixed_strength(labels, strength, rows, K, seed):
    """The labels-only model of :func:`skactivelab._confusion.fit` with the pull toward the
    crowd fixed at ``strength`` and the confusion rows of kind ``rows`` ("full", "one-coin" or
    "spam"): its consensus."""
    ann = check_annotations(labels, n_classes=K)
    rng = np.random.default_rng(seed)
    _, _, a0 = C.profile_weight(ann, None, rng)
    fit_classes = C.unequal_classes(ann, a0, rng)
    s = C.default_shrinkage(K)
    if rows == "one-coin":
        s = max(s, C.STRENGTHS[-1])
    post = C.em(ann, None, 0.0, C.row_shrinkage(s, strength), strength, a_init=a0, fit_classes=fit_classes,
                spam=rows == "spam")[0]
    return post.argmax(axis=1)


def one_coin_loglik(labels, acc, K):
    """Log-likelihood of all the labels under the one-coin model with annotator accuracies
    ``acc`` and equal class frequencies."""
    obs = ~np.isnan(labels)
    L = np.where(obs, labels, 0).astype(np.int64)
    a = np.clip(acc, 1e-6, 1 - 1e-6)[None, :]
    per_class = [np.where(obs, np.where(L == z, np.log(a), np.log((1 - a) / (K - 1))), 0.0).sum(axis=1)
                 for z in range(K)]  # loop over the classes
    return float(logsumexp(np.stack(per_class, axis=1), axis=1).sum() - labels.shape[0] * np.log(K))


def weighted_vote(labels, acc, K, clip=False):
    """The class with the largest sum of log-odds weights of its voters (true accuracies)."""
    w = np.log(np.clip(acc, 1e-6, 1 - 1e-6) * (K - 1) / np.clip(1 - acc, 1e-6, 1))
    if clip:
        w = np.maximum(w, 0.0)
    obs = ~np.isnan(labels)
    L = np.where(obs, labels, 0).astype(np.int64)
    score = np.stack([np.where(obs & (L == z), w[None, :], 0.0).sum(axis=1) for z in range(K)], axis=1)
    return score.argmax(axis=1)


def run_crowd(ci, replicates, base_seed):
    strength, scheme, K = G.CROWDS[ci]
    mean, spam, adv = G.STRENGTHS[strength]
    acc_of, gains = {}, []
    for rep in range(replicates):  # loop over replicates
        s_crowd, _, s_method = G._seeds(base_seed, 1, ci, rep)
        crowd = R.simulate_crowd(800, K, mean, scheme, n_annotators=40, spam_frac=spam, adversary_frac=adv,
                                 random_state=s_crowd)
        L, truth, acc = crowd["labels"], crowd["truth"], crowd["accuracy"]
        out = {"MV": R.majority_vote(L, None, s_method),
               "AC": AnnotatorConfusion(random_state=s_method).fit(L).consensus_label_}
        for s, rows in FIXED:  # loop over candidates
            out[f"AC s={s:g} {rows}"] = fixed_strength(L, s, rows, K, s_method)
        if R.crowdkit_available():
            out["MACE"] = R.METHODS["MACE"](L, None, s_method)
        out["oracle"] = weighted_vote(L, acc, K)
        out["oracle >= 0"] = weighted_vote(L, acc, K, clip=True)
        for name, codes in out.items():
            acc_of.setdefault(name, []).append(float(np.mean(np.asarray(codes) == truth)))
        gains.append(one_coin_loglik(L, acc, K) - one_coin_loglik(L, np.full_like(acc, acc.mean()), K))
    print(f"\n### crowd {strength}, {scheme} labels, K={K} ({replicates} replicates, labels only)\n")
    print("| method | consensus accuracy |\n|---|---|")
    for name, v in acc_of.items():
        print(f"| {name} | {np.mean(v):.3f} ± {R.standard_error(v):.3f} |")
    print(f"\nLog-likelihood gain of the true accuracies over the crowd's mean accuracy, all labels: "
          f"{np.min(gains):.1f} to {np.max(gains):.1f} nats (mean {np.mean(gains):.1f}) for 40 annotators.")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--replicates", type=int, default=10)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--crowds", default="0.55/5,0.7/3",
                   help="two-class crowds of the grid as strength/labels, comma-separated")
    args = p.parse_args(argv)
    for key in args.crowds.split(","):  # loop over crowds
        strength, scheme = key.strip().split("/")
        ci = G.CROWDS.index((strength, scheme, 2))
        run_crowd(ci, args.replicates, args.seed)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
