"""Where the annotator-confusion model trails crowd-kit on the music genre crowd, and why.

On the real music crowd (regime_grid.py's five regimes, same seeds and classifiers) this prints,
per regime and classifier, the consensus accuracy (mean ± standard error over replicates) of:

* ``AC``: :class:`~skactivelab.crowd_models.AnnotatorConfusion` without copies of the crowd
  (``classifier_copy=0``), as it is otherwise (and with the labels only);
* ``uniform prior``: the same model with the class frequencies fixed uniform (crowd-kit's
  ZeroBasedSkill, Wawa, MACE and GLAD have no class prior);
* ``prior by CV``: class-frequency pseudo-counts (0, N/4K, N/K per class or uniform) chosen by
  two-fold held-out likelihood of the labels;
* ``best weight``: the classifier weight among ``_confusion.WEIGHTS`` with the best accuracy
  against the truth (an oracle: what a perfect choice of the weight could give);
* ``weight by CV``: the profile weight or one of its neighbours in ``WEIGHTS``, chosen by two-fold
  held-out pseudo-likelihood (each held-out label predicted from the classifier and the
  example's other labels, with the annotators fitted on the other fold);

then the held-out log-likelihood of the fitted against the uniform class prior, and, for all the
labels, a weighted vote with every annotator's true accuracy as a one-coin log-odds weight and as
a linear weight (does the form of the weights matter once the accuracies are right?).

    python benchmarks/music_gap.py --replicates 10        # about 10 minutes on 2 cores
    python benchmarks/music_gap.py --replicates 2 --regimes k=2

Set OMP_NUM_THREADS=1 on a busy machine: the logistic regression is much slower with threads.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

HERE = str(Path(__file__).resolve().parent)
sys.path.insert(0, HERE)
import regime_grid as G  # noqa: E402
import regime_lib as R  # noqa: E402

from skactivelab import _confusion as C  # noqa: E402
from skactivelab._annotations import check_annotations  # noqa: E402

#: Candidate class-frequency pseudo-counts per class, as multiples of N / K (inf: uniform).
PRIOR_STRENGTHS = (0.0, 0.25, 1.0, np.inf)


# ---------------------------------------------------------------------------- the model, with options
def _m_step(A, post, M, K, shrinkage, strength, pooled_default, prior_strength, spam=False):
    """``_confusion._m_step`` with the class frequencies pulled toward uniform by
    ``prior_strength * N / K`` pseudo-counts per class (inf: uniform)."""
    logC, acc, log_pi = C._m_step(A, post, M, K, shrinkage, strength, pooled_default, spam={} if spam else None)
    if np.isinf(prior_strength):
        log_pi = np.full(K, -np.log(K))
    elif prior_strength > 0:
        n = post.shape[0]
        log_pi = np.log((post.sum(axis=0) + 1.0 + prior_strength * n / K) / (n + K + prior_strength * n))
    return logC, acc, log_pi


def _log_prior(Q, w, log_pi, floor):
    """The log of the model's prior (``_confusion.Prior``) of classifier probabilities ``Q``."""
    return np.log(C.Prior(Q, w, floor).probs(log_pi))


def em(ann, Q, w, shrinkage, strength, a_init, *, floor=None, max_iter=C.MAX_ITER, tol=C.TOL,
       prior_strength=0.0, spam=False):
    """``_confusion.em`` with ``prior_strength`` (0: the same fit)."""
    n, M, K = ann.n_examples, ann.n_annotators, ann.n_classes
    A, A_fit = C.design(ann, crowd_only=Q is None or w == 0)
    uniform = np.full(K, -np.log(K))
    votes = np.bincount(ann.example * K + ann.label, minlength=n * K).reshape(n, K).astype(np.float64)
    post = votes * np.log(a_init / ((1.0 - a_init) / max(K - 1, 1)))
    post += uniform if Q is None else _log_prior(Q, w, uniform, floor)
    C._normalise(post)
    logC, acc, log_pi = _m_step(A_fit, post, M, K, shrinkage, strength, a_init, prior_strength, spam)
    ll_old = -np.inf
    per = max(ann.n_annotations, 1)
    fixed_prior = None if Q is None or w < 1.0 else _log_prior(Q, w, log_pi, floor)
    for _ in range(max_iter):
        J = C._log_evidence(A, logC)
        J += log_pi if Q is None else fixed_prior if fixed_prior is not None else _log_prior(Q, w, log_pi, floor)
        ll = C._normalise(J)
        post = J
        logC, acc, log_pi = _m_step(A_fit, post, M, K, shrinkage, strength, a_init, prior_strength, spam)
        if abs(ll - ll_old) <= tol * per:
            break
        ll_old = ll
    return post, logC, log_pi


def pseudo_loglik(ann, logC, prior):
    """Sum over labels of ``log p(label | the example's other labels and the prior)``."""
    J = C._log_evidence(C.one_hot(ann), logC) + prior
    m = J.max(axis=1, keepdims=True)
    logZ = np.log(np.exp(J - m).sum(axis=1)) + m[:, 0]
    Jm = J[ann.example] - logC[ann.annotator, :, ann.label]  # without the label itself
    mm = Jm.max(axis=1, keepdims=True)
    logZm = np.log(np.exp(Jm - mm).sum(axis=1)) + mm[:, 0]
    return float((logZ[ann.example] - logZm).sum())


def held_out(ann, Q, w, s, strength, test, a_init, floor, prior_strength=0.0, pseudo=False, spam=False):
    """Held-out (pseudo-)log-likelihood of the labels of examples ``test``, the model fitted on the others."""
    train = ann.subset_examples(~test)
    _, logC, log_pi = em(train, Q[~test], w, C.row_shrinkage(s, strength), strength, a_init, floor=floor,
                         max_iter=30, prior_strength=prior_strength, spam=spam)
    held = ann.subset_examples(test)
    prior = _log_prior(Q[test], w, log_pi, floor)
    if pseudo:
        return pseudo_loglik(held, logC, prior)
    return C._normalise(C._log_evidence(C.one_hot(held), logC) + prior)


def fit(ann, P, seed, *, weight=None, prior_strength=0.0, prior_cv=False, weight_cv=False):
    """``_confusion.fit`` without copies (same random stream as
    ``AnnotatorConfusion(random_state=seed, classifier_copy=0)``) with
    options; returns (consensus codes, held-out log-likelihoods of the candidate priors or None)."""
    K = ann.n_classes
    rng = np.random.default_rng(np.random.RandomState(seed).randint(2**31))
    s = C.default_shrinkage(K)
    Q = C.classifier_probs(P[None])
    hard = np.count_nonzero((P == 0).any(axis=1)) >= 0.01 * P.shape[0]  # as _confusion.fit
    w, floor, ca = C.profile_weight(ann, Q, rng, floors=C.FLOORS, floor_test=not hard,
                                    **({} if weight is None else {"weights": (weight,)}))
    (strength, rows), fit_classes = C.choose_strength(ann, Q, w, s, rng, a_init=ca, floor=floor,
                                                      fit_classes=C.unequal_classes(ann, ca, rng))
    if rows == "one-coin":
        s = max(s, C.STRENGTHS[-1])
    spam = rows == "spam"
    if not fit_classes and prior_strength == 0.0:  # as _confusion.fit: equal class frequencies
        prior_strength = np.inf
    scores = None
    if prior_cv:
        fold = rng.permutation(ann.n_examples) % C.N_FOLDS
        scores = [sum(held_out(ann, Q, w, s, strength, fold == f, ca, floor, t, spam=spam) for f in range(C.N_FOLDS))
                  for t in PRIOR_STRENGTHS]
        if w < 1.0:  # with a weight of 1 or more the class frequencies play no part
            prior_strength = PRIOR_STRENGTHS[int(np.argmax(scores))]
    if weight_cv:
        i = C.WEIGHTS.index(w)
        cands = C.WEIGHTS[max(i - 1, 0): i + 2]
        fold = rng.permutation(ann.n_examples) % C.N_FOLDS
        sc = [sum(held_out(ann, Q, c, s, strength, fold == f, ca, floor, pseudo=True, spam=spam)
                  for f in range(C.N_FOLDS))
              for c in cands]
        w = cands[int(np.argmax(sc))]
    post, _, _ = em(ann, Q, w, C.row_shrinkage(s, strength), strength, ca, floor=floor,
                    prior_strength=prior_strength, spam=spam)
    return post.argmax(axis=1), scores


# ---------------------------------------------------------------------------- driver
def one_coin_votes(ex, an, lab, acc, N, K):
    """Consensus of weighted votes with one-coin log-odds and with linear weights ``acc``."""
    a = np.clip(acc, 0.01, 0.99)
    out = []
    for wts in (np.log(a * (K - 1) / (1 - a)), a):
        v = np.zeros((N, K))
        np.add.at(v, (ex, lab), wts[an])
        out.append(v.argmax(axis=1))
    return out


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", default=str(G.DEFAULT_DATA))
    p.add_argument("--replicates", type=int, default=10)
    p.add_argument("--regimes", default=",".join(G.MUSIC_REGIMES))
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    from skactivelab.datasets import load_real_crowd

    d = Path(args.data)
    crowd = load_real_crowd(*[d / f for f in ("annotations.csv", "truth.csv", "features.csv", "test.csv")])
    N, M, K = crowd.data.shape[0], len(crowd.annotator_ids), len(crowd.target_names)
    truth = crowd.target
    cols = ["AC", "uniform prior", "prior by CV", "best weight", "weight by CV"]
    print("| regime | classifier | " + " | ".join(cols) + " | labels only: AC | uniform prior | prior by CV "
          "| held-out loglik, uniform minus fitted prior |")
    print("|---" * (2 + len(cols) + 4) + "|")
    for regime in args.regimes.split(","):
        ri = G.MUSIC_REGIMES.index(regime)
        acc = {}
        for rep in range(args.replicates):
            s_sub, s_clf, s_method = G._seeds(args.seed, 2, ri, rep)
            ex, an, lab = G.subsample(crowd.annotations, regime, np.random.default_rng(s_sub))
            L = np.full((N, M), np.nan)
            L[ex, an] = lab
            ann = check_annotations(L, n_classes=K)
            y_mv = R.majority_vote(L, None, s_sub)
            probs = G.music_models(crowd.data, y_mv, K, s_clf % (2**31 - 1))
            flat = np.full((N, K), 1.0 / K)
            lab_runs = {"labels only: AC": fit(ann, flat, s_method, weight=0.0)[0],
                        "uniform prior (labels)": fit(ann, flat, s_method, weight=0.0, prior_strength=np.inf)[0]}
            codes, sc = fit(ann, flat, s_method, weight=0.0, prior_cv=True)
            lab_runs["prior by CV (labels)"] = codes
            for clf, P in probs.items():
                a = acc.setdefault(clf, {})

                def put(name, codes):
                    a.setdefault(name, []).append(float(np.mean(codes == truth)))

                put("AC", fit(ann, P, s_method)[0])
                put("uniform prior", fit(ann, P, s_method, prior_strength=np.inf)[0])
                put("prior by CV", fit(ann, P, s_method, prior_cv=True)[0])
                put("best weight", max((fit(ann, P, s_method, weight=w)[0] for w in C.WEIGHTS),
                                       key=lambda c: np.mean(c == truth)))
                put("weight by CV", fit(ann, P, s_method, weight_cv=True)[0])
                for name, c in lab_runs.items():
                    put(name, c)
                a.setdefault("dll", []).append(sc[-1] - sc[0])
        for clf, a in acc.items():
            cells = [f"{np.mean(a[c]):.3f} ± {R.standard_error(a[c]):.3f}" for c in
                     cols + ["labels only: AC", "uniform prior (labels)", "prior by CV (labels)"]]
            print(f"| {regime} | {clf} | " + " | ".join(cells) + f" | {np.mean(a['dll']):+.1f} |", flush=True)
    ex, an, lab = crowd.annotations
    n_j = np.bincount(an, minlength=M)
    true_acc = np.bincount(an, weights=(lab == truth[ex]), minlength=M) / np.maximum(n_j, 1)
    lo, lin = one_coin_votes(ex, an, lab, true_acc, N, K)
    print(f"\nAll labels, every annotator's true accuracy as its weight: one-coin log-odds "
          f"{np.mean(lo == truth):.3f}, linear {np.mean(lin == truth):.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
