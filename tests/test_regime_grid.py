"""The regime grid benchmark (benchmarks/regime_grid.py): its simulator, majority vote and flags
checked by hand; the crowd-kit wrappers only when crowd-kit is installed."""

from __future__ import annotations

import importlib.util
import math
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"


def _load(name):
    if str(BENCH) not in sys.path:
        sys.path.insert(0, str(BENCH))
    spec = importlib.util.spec_from_file_location(name, BENCH / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


R = _load("regime_lib")


@pytest.mark.parametrize("K, strength, scheme", [(5, 0.7, "3"), (2, 0.55, "5"), (26, 0.9, "2")])
def test_crowd_has_the_requested_accuracy_and_labels_per_example(K, strength, scheme):
    crowd = R.simulate_crowd(3000, K, strength, scheme, n_annotators=40, random_state=1)
    L, y = crowd["labels"], crowd["truth"]
    assert (np.sum(~np.isnan(L), axis=1) == int(scheme)).all()
    given = ~np.isnan(L)
    right = (L == y[:, None]) & given
    # the fraction of right labels, counted by hand, is the requested mean accuracy
    assert abs(right.sum() / given.sum() - strength) < 0.02
    assert abs(crowd["accuracy"].mean() - strength) < 1e-9  # no clipping at these strengths
    assert set(np.unique(L[given])) <= set(range(K))


def test_mixed_scheme_is_half_one_label_half_three():
    L = R.simulate_crowd(1001, 5, 0.7, "mixed", random_state=0)["labels"]
    n = np.sum(~np.isnan(L), axis=1)
    assert (n == 1).sum() == 500 and (n == 3).sum() == 501


def test_spammers_and_adversaries():
    crowd = R.simulate_crowd(4000, 5, 0.75, "3", spam_frac=0.2, adversary_frac=0.1, random_state=2)
    L, y, kind = crowd["labels"], crowd["truth"], crowd["kind"]
    assert (kind == "spammer").sum() == 8 and (kind == "adversary").sum() == 4
    ex, an = np.nonzero(~np.isnan(L))
    lab = L[ex, an]
    adv = kind[an] == "adversary"
    assert np.array_equal(lab[adv], (y[ex[adv]] + 1) % 5)  # always shifted by one class
    spam = kind[an] == "spammer"
    assert abs(np.mean(lab[spam] == y[ex[spam]]) - 0.2) < 0.03  # right by chance, 1/K
    ordinary = kind[an] == "ordinary"
    assert abs(np.mean(lab[ordinary] == y[ex[ordinary]]) - 0.75) < 0.02


def test_two_class_signal_matches_the_closed_form():
    # K=2: argmax is right when mu + e1 > e2, probability Phi(mu / sqrt(2))
    mu = R.signal_for_accuracy(0.76, 2)
    assert mu == pytest.approx(math.sqrt(2) * stats.norm.ppf(0.76), abs=1e-6)
    assert R.signal_for_accuracy(0.2, 5) == 0.0  # at chance: no signal


def test_simulated_classifier_accuracy_and_calibration():
    y = np.random.default_rng(0).integers(0, 5, 20000)
    P = R.simulate_pred_probs(y, 5, 0.6, random_state=3)
    acc = np.mean(P.argmax(axis=1) == y)
    assert abs(acc - 0.6) < 0.015
    assert abs(P.max(axis=1).mean() - acc) < 0.015  # calibrated: confidence = accuracy
    Q = R.simulate_pred_probs(y, 5, 0.6, sharpness=4.0, random_state=3)
    assert np.array_equal(Q.argmax(axis=1), P.argmax(axis=1))  # same accuracy ...
    assert Q.max(axis=1).mean() > acc + 0.15  # ... over-confident


def test_majority_vote_by_hand():
    nan = np.nan
    L = np.array([[0, 0, 1], [2, nan, 2], [1, 0, nan]])
    before = L.copy()
    picks = {int(R.majority_vote(L, None, seed)[2]) for seed in range(20)}
    assert R.majority_vote(L, None, 0)[:2].tolist() == [0, 2]
    assert picks == {0, 1}  # the tie of row 3 is broken at random, never to the absent class 2
    np.testing.assert_array_equal(L, before)


def test_table_flags_a_method_of_ours_below_the_best():
    G = _load("regime_grid")
    rows = []
    for rep in range(3):
        for m, acc in (("majority_vote", 0.80 + 0.001 * rep), ("crowdlab", 0.75 + 0.002 * rep), ("em", 0.90)):
            rows.append({"crowd": "simulated", "strength": "0.7", "labels": "3", "K": 5, "classifier": "weak",
                         "clf_accuracy": 0.5, "crowd_accuracy": 0.7, "rep": rep, "method": m,
                         "accuracy": acc, "seconds": 0.0, "error": ""})
    summary = G.summarize(rows, ["majority_vote", "crowdlab", "em"])
    line = G.table(summary, "simulated", ["majority_vote", "crowdlab", "em"]).splitlines()[-1]
    # hand computation: crowdlab 0.752 ± 0.001155 (se of 0.750, 0.752, 0.754); best em 0.900
    assert "0.752 ± 0.001 ▽ †" in line and "**0.900 ± 0.000**" in line
    assert "0.801 ± 0.001 |" in line  # majority vote: no flags


def test_crowdkit_methods_return_codes_in_example_order():
    pytest.importorskip("crowdkit")
    nan = np.nan
    # unanimous labels, examples listed so that a method ignoring the example order would fail
    L = np.array([[2, 2, 2, nan], [0, nan, 0, 0], [1, 1, nan, 1], [2, nan, 2, 2], [0, 0, 0, nan]])
    # one wrapper serves every aggregator; MACE and ZeroBasedSkill (seconds each) are left out.
    # Wawa needs the check_is_fitted substitute of regime_lib under scikit-learn >= 1.6
    for name in ("DawidSkene", "OneCoinDawidSkene", "GLAD", "Wawa", "MMSR"):
        np.testing.assert_array_equal(R.METHODS[name](L, None, 0), [2, 0, 1, 2, 0], err_msg=name)


def test_em_reference_fixed_point_matches_hand_computation():
    """The one-coin EM reference (benchmarks/em_reference.py, the grid's "EM" column): at
    convergence post = prior_T * prod of one-coin likelihoods (normalised), and each accuracy
    = (sum of post at the annotator's labels + 1) / (n_labels + 2)."""
    from skactivelab._annotations import check_annotations

    E = _load("em_reference")
    rng = np.random.default_rng(0)
    N, K, acc = 400, 3, (0.9, 0.8, 0.7, 1 / 3)
    y = rng.integers(0, K, N)
    L = np.where(rng.random((N, 4)) < np.asarray(acc), y[:, None], (y[:, None] + rng.integers(1, K, (N, 4))) % K)
    L = np.where(rng.random((N, 4)) < 0.6, L, -1)
    L[np.arange(N), rng.integers(0, 3, N)] = np.where(rng.random(N) < 0.8, y, (y + 1) % K)
    P = np.full((N, K), 0.1)
    P[np.arange(N), np.where(rng.random(N) < 0.7, y, (y + 1) % K)] = 0.8
    fit = E.em_fit(check_annotations(L, n_classes=K), P[None])
    a, T, post = np.clip(fit["accuracy"], 1 / K, 1 - 1e-6), fit["temperature"], fit["post"]
    prior = P ** (1 / T)
    hand = prior / prior.sum(axis=1, keepdims=True)
    for i in range(N):  # the hand computation loops on purpose
        for j in range(4):
            if L[i, j] >= 0:
                lik = np.full(K, (1 - a[j]) / (K - 1))
                lik[L[i, j]] = a[j]
                hand[i] *= lik
    hand /= hand.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(post, hand, atol=1e-3)
    m = L >= 0
    a_hand = [(sum(post[i, L[i, j]] for i in np.flatnonzero(m[:, j])) + 1) / (m[:, j].sum() + 2) for j in range(4)]
    np.testing.assert_allclose(fit["accuracy"], a_hand, atol=2e-3)


def test_music_gap_copy_of_the_model_matches_annotator_confusion():
    """benchmarks/music_gap.py's fit with no option is AnnotatorConfusion without copies, label
    for label (its figures are changes to this model, not to another one)."""
    from skactivelab import AnnotatorConfusion

    MG = _load("music_gap")
    from skactivelab._annotations import check_annotations

    for K, scheme, seed in ((5, "3", 0), (2, "mixed", 1), (10, "2", 2)):
        crowd = R.simulate_crowd(300, K, 0.7, scheme, n_annotators=12, spam_frac=0.2, random_state=seed)
        L, y = crowd["labels"], crowd["truth"]
        P = R.simulate_pred_probs(y, K, 0.6, random_state=seed)
        ann = check_annotations(L, n_classes=K)
        want = AnnotatorConfusion(random_state=seed, classifier_copy=0).fit(L, P).consensus_label_
        np.testing.assert_array_equal(MG.fit(ann, P, seed)[0], want)
        want = AnnotatorConfusion(random_state=seed).fit(L).consensus_label_
        np.testing.assert_array_equal(MG.fit(ann, np.full_like(P, 1.0 / K), seed, weight=0.0)[0], want)


def test_music_gap_pseudo_likelihood_by_hand():
    """Each label's probability given the example's other labels and the prior, by a loop."""
    MG = _load("music_gap")
    from skactivelab._annotations import check_annotations

    rng = np.random.default_rng(0)
    K, M = 3, 4
    L = np.array([[0, 1, np.nan, 0], [2, np.nan, np.nan, np.nan], [1, 1, 2, np.nan]])
    ann = check_annotations(L, n_classes=K)
    Cm = rng.dirichlet(np.ones(K), size=(M, K))
    prior = np.log(rng.dirichlet(np.ones(K), size=3))
    want = 0.0
    for i in range(3):  # the test's own loop over examples and their labels
        given = [(j, int(L[i, j])) for j in range(M) if not np.isnan(L[i, j])]
        for j, lab in given:
            rest = np.exp(prior[i]) * np.prod([Cm[jj, :, ll] for jj, ll in given if jj != j], axis=0)
            want += np.log((rest / rest.sum()) @ Cm[j, :, lab])
    assert math.isclose(MG.pseudo_loglik(ann, np.log(Cm), prior), want, rel_tol=1e-10)


def test_class_weights_set_the_truths_class_frequencies():
    w = np.array([0.5, 0.25, 0.15, 0.1])
    y = R.simulate_crowd(40000, 4, 0.7, "1", class_weights=w, random_state=0)["truth"]
    freq = np.bincount(y, minlength=4) / y.size
    # within 4 binomial standard errors of each weight
    np.testing.assert_array_less(np.abs(freq - w), 4 * np.sqrt(w * (1 - w) / y.size))
    # weights are normalised: the same frequencies from counts
    y2 = R.simulate_crowd(40000, 4, 0.7, "1", class_weights=10 * w, random_state=0)["truth"]
    np.testing.assert_array_equal(y, y2)


def test_wrong_labels_follow_the_shared_bias():
    K, b = 4, np.array([0.6, 0.3, 0.1, 0.0])
    crowd = R.simulate_crowd(30000, K, 0.6, "2", n_annotators=10, wrong_bias=b, random_state=1)
    L, y = crowd["labels"], crowd["truth"]
    ex, an = np.nonzero(~np.isnan(L))
    lab, t = L[ex, an].astype(int), y[ex]
    assert abs(np.mean(lab == t) - 0.6) < 0.01  # the accuracy is unchanged
    wrong = lab != t
    assert not np.any(lab[wrong] == 3)  # a class of weight 0 is never a wrong label
    for truth_class in range(K):  # hand computation: b renormalised over the other classes
        want = np.where(np.arange(K) == truth_class, 0.0, b)
        want /= want.sum()
        sel = wrong & (t == truth_class)
        got = np.bincount(lab[sel], minlength=K) / sel.sum()
        np.testing.assert_allclose(got, want, atol=4 * np.sqrt(0.25 / sel.sum()))


def test_the_new_options_left_unset_draw_the_old_crowd():
    for kw in ({}, {"spam_frac": 0.2, "adversary_frac": 0.1}):
        old = R.simulate_crowd(500, 5, 0.7, "mixed", random_state=7, **kw)
        new = R.simulate_crowd(500, 5, 0.7, "mixed", class_weights=None, wrong_bias=None, random_state=7, **kw)
        for key in old:
            np.testing.assert_array_equal(old[key], new[key], err_msg=key)
    # and they change the draws when given
    biased = R.simulate_crowd(500, 5, 0.7, "mixed", class_weights=R.zipf_weights(5), random_state=7)
    assert not np.array_equal(biased["truth"], old["truth"])
    np.testing.assert_allclose(R.zipf_weights(3), np.array([6, 3, 2]) / 11)


def test_activity_weights_set_how_busy_each_annotator_is():
    """Annotators drawn in proportion to their activity, without replacement per example: the
    counts of a one-label crowd follow the weights; with five labels each an example's
    annotators are distinct and the busiest label most examples."""
    M = 50
    busy = 1.0 / np.arange(1, M + 1)
    one = R.simulate_crowd(20000, 2, 0.8, "1", n_annotators=M, activity=busy, random_state=3)
    counts = np.sum(~np.isnan(one["labels"]), axis=0)
    want = busy / busy.sum() * 20000
    assert np.all(np.abs(counts - want) <= 4 * np.sqrt(want) + 1)
    five = R.simulate_crowd(2000, 2, 0.8, "5", n_annotators=M, activity=busy, random_state=4)
    assert np.all(np.sum(~np.isnan(five["labels"]), axis=1) == 5)  # distinct: 5 cells per row
    counts = np.sum(~np.isnan(five["labels"]), axis=0)
    assert counts[0] > 0.6 * 2000 and counts[0] > 5 * counts[-1]
    # equal weights: every annotator about equally busy; a smaller concentration spreads the
    # accuracies
    even = R.simulate_crowd(20000, 2, 0.8, "1", n_annotators=M, activity=np.ones(M), random_state=5)
    counts = np.sum(~np.isnan(even["labels"]), axis=0)
    assert np.all(np.abs(counts - 20000 / M) <= 4 * np.sqrt(20000 / M))
    wide = R.simulate_crowd(300, 2, 0.8, "3", n_annotators=400, concentration=6.0, random_state=6)
    narrow = R.simulate_crowd(300, 2, 0.8, "3", n_annotators=400, random_state=6)
    assert np.std(wide["accuracy"]) > 2 * np.std(narrow["accuracy"])
    with pytest.raises(ValueError, match="activity"):
        R.simulate_crowd(10, 2, 0.8, "1", n_annotators=4, activity=[1, 1, 1])
    # an annotator of no activity labels nothing; more labels per example than busy annotators
    # is refused, and so is a concentration that is not a finite positive number
    zero = R.simulate_crowd(500, 2, 0.8, "2", n_annotators=4, activity=[1, 1, 0, 1], random_state=7)
    assert np.all(np.isnan(zero["labels"][:, 2]))
    with pytest.raises(ValueError, match="positive activity"):
        R.simulate_crowd(50, 2, 0.8, "3", n_annotators=6, activity=[1, 1, 0, 0, 0, 0])
    for bad in (0.0, -1.0, np.nan, np.inf):
        with pytest.raises(ValueError, match="concentration"):
            R.simulate_crowd(50, 2, 0.8, "1", concentration=bad)


def test_skewed_crowds_have_more_annotators_of_unequal_activity():
    G = _load("regime_grid")
    ci = G.CROWDS.index(("0.8 skewed", "1", 2))
    G._init(G.CROWDS, G.MUSIC_REGIMES, ("weak",))
    rows = G.simulated_job(ci, 0, 800, 40, ["majority_vote"], 0)
    G._init(G.CROWDS, G.MUSIC_REGIMES)
    s_crowd = G._seeds(0, 1, ci, 0)[0]
    crowd = R.simulate_crowd(800, 2, 0.8, "1", n_annotators=200, spam_frac=0.1, activity=R.zipf_weights(200),
                             concentration=G.SKEW_CONCENTRATION, random_state=s_crowd)
    assert rows[0]["crowd_accuracy"] == pytest.approx(R.crowd_mean_accuracy(crowd))
    counts = np.sum(~np.isnan(crowd["labels"]), axis=0)
    assert counts.max() > 100 and np.median(counts) < 5


def test_crowd_trained_classifier_follows_the_majority_vote():
    G = _load("regime_grid")
    G._init(G.CROWDS, G.MUSIC_REGIMES, ("weak", "crowd-trained"))
    ci = G.CROWDS.index(("0.7 biased", "3", 5))
    # the grid's own draws: the job's crowd, then its classifier, by hand
    s_crowd, s_clf, _ = G._seeds(0, 1, ci, 0)
    w = R.zipf_weights(5)
    crowd = R.simulate_crowd(4000, 5, 0.7, "3", class_weights=w, wrong_bias=w, random_state=s_crowd)
    mv = R.majority_vote(crowd["labels"], None, G._seeds(0, 3, ci, 0, n=1)[0])
    acc, sharp = G.classifier_setting("crowd-trained", R.crowd_mean_accuracy(crowd), 5)
    assert (acc, sharp) == G.classifier_setting("weak", R.crowd_mean_accuracy(crowd), 5)
    P = R.simulate_pred_probs(mv, 5, acc, random_state=s_clf + G.CLASSIFIERS.index("crowd-trained"))
    assert abs(np.mean(P.argmax(axis=1) == mv) - acc) < 0.02
    rows = G.simulated_job(ci, 0, 4000, 40, ["majority_vote"], 0)
    assert {r["classifier"] for r in rows} == {"weak", "crowd-trained"}
    got = [r["clf_accuracy"] for r in rows if r["classifier"] == "crowd-trained"][0]
    assert got == pytest.approx(np.mean(P.argmax(axis=1) == crowd["truth"]))
    # it shares the crowd's errors: where the majority vote is wrong it mostly agrees with it
    wrong = mv != crowd["truth"]
    assert np.mean(P.argmax(axis=1)[wrong] == mv[wrong]) > acc - 0.1
    G._init(G.CROWDS, G.MUSIC_REGIMES)


def test_learned_classifier_is_out_of_fold_and_learns_the_labels():
    """The grid's "learned" classifier: a logistic regression trained out of fold on the
    crowd's labels. An example's own label never reaches its prediction (changing it moves
    only the other examples'), and trained on the truth it comes near the features' best
    accuracy; trained on labels biased toward class 0 it predicts class 0 more often."""
    rng = np.random.default_rng(0)
    truth = rng.integers(0, 3, size=600)
    P = R.learned_pred_probs(truth, truth, 3, 0.8, random_state=5)
    np.testing.assert_allclose(P.sum(axis=1), 1.0)
    assert 0.74 < np.mean(P.argmax(axis=1) == truth) < 0.86  # the features' best: 0.8
    flipped = truth.copy()
    flipped[7] = (truth[7] + 1) % 3
    Q = R.learned_pred_probs(truth, flipped, 3, 0.8, random_state=5)
    np.testing.assert_array_equal(Q[7], P[7])  # out of fold: its own label is not seen
    assert not np.allclose(Q, P)  # (the folds that train on it moved)
    biased = np.where(rng.random(600) < 0.3, 0, truth)  # a crowd that over-calls class 0
    B = R.learned_pred_probs(truth, biased, 3, 0.8, random_state=5)
    assert np.mean(B.argmax(axis=1) == 0) > np.mean(P.argmax(axis=1) == 0) + 0.1
    G = _load("regime_grid")
    assert G.CLASSIFIERS.index("learned") == 4  # after the others: their seeds are unchanged
    assert G.classifier_setting("learned", 0.7, 5) == G.classifier_setting("weak", 0.7, 5)


def test_shares_removed_method_is_the_models_option():
    """The grid's "AC (shares removed)" is ``AnnotatorConfusion(classifier_shares="remove")``,
    and differs from the model as it is on a classifier with unequal class shares."""
    from skactivelab import AnnotatorConfusion

    crowd = R.simulate_crowd(200, 3, 0.7, "2", n_annotators=10, random_state=3)
    Q = R.simulate_pred_probs(crowd["truth"], 3, 0.6, random_state=3) * [3.0, 1.0, 1.0]
    Q /= Q.sum(axis=1, keepdims=True)
    model = AnnotatorConfusion(random_state=4, classifier_shares="remove").fit(crowd["labels"], Q)
    got = R.METHODS["annotator_confusion (shares removed)"](crowd["labels"], Q, 4)
    np.testing.assert_array_equal(got, model.consensus_label_)
    assert not np.array_equal(got, R.METHODS["annotator_confusion"](crowd["labels"], Q, 4))


def test_near_chance_check_helpers_by_hand():
    """The one-coin log-likelihood and the weighted vote of benchmarks/near_chance_check.py,
    computed by loops; the fixed-strength fit at the strength cross-validation chose is the model."""
    NC = _load("near_chance_check")
    L = np.array([[0, 1, np.nan], [1, 1, 0], [np.nan, 2, 2]])
    acc, K = np.array([0.9, 0.6, 0.3]), 3
    want = 0.0
    for i in range(3):  # the test's own loops over examples, classes and labels
        total = 0.0
        for z in range(K):
            p = 1.0 / K
            for j in range(3):
                if not np.isnan(L[i, j]):
                    p *= acc[j] if L[i, j] == z else (1 - acc[j]) / (K - 1)
            total += p
        want += math.log(total)
    assert math.isclose(NC.one_coin_loglik(L, acc, K), want, rel_tol=1e-12)
    # log-odds weights log(a (K-1) / (1 - a)): 2.89, 1.10, -0.15
    np.testing.assert_array_equal(NC.weighted_vote(L, acc, K), [0, 1, 2])
    L2 = np.array([[0, 1, 1]])  # annotator 0 (2.89) against 1 (1.10) and 2 (-0.15)
    assert NC.weighted_vote(L2, acc, K)[0] == 0
    acc2 = np.array([0.6, 0.6, 0.6])
    assert NC.weighted_vote(L2, acc2, K)[0] == 1  # equal weights: the majority
    from skactivelab import _confusion as C
    from skactivelab._annotations import check_annotations

    crowd = R.simulate_crowd(300, 2, 0.7, "3", n_annotators=12, random_state=0)
    L3 = crowd["labels"]
    ann = check_annotations(L3, n_classes=2)
    from sklearn.utils import check_random_state

    rng = check_random_state(5)  # the generator AnnotatorConfusion(random_state=5) draws from
    _, _, a0 = C.profile_weight(ann, None, rng)
    fit_classes = C.unequal_classes(ann, a0, rng)
    (strength, rows), fit_classes = C.choose_strength(ann, None, 0.0, C.default_shrinkage(2), rng,
                                                      a_init=a0, fit_classes=fit_classes)
    from skactivelab import AnnotatorConfusion

    assert not fit_classes  # equal classes (the helper keeps the class test's answer, as here)
    want = AnnotatorConfusion(random_state=5).fit(L3).consensus_label_
    np.testing.assert_array_equal(NC.fixed_strength(L3, strength, rows, 2, 5), want)


def test_existing_crowds_keep_their_indices_and_select_crowds():
    G = _load("regime_grid")
    assert G.CROWDS[0] == ("0.7", "3", 5) and G.CROWDS[17] == ("0.9", "mixed", 26)
    assert G.CLASSIFIERS[:3] == ("weak", "strong", "over-confident")
    assert G.select_crowds("", G.CROWDS) == list(range(len(G.CROWDS)))
    assert G.select_crowds("0.7 biased", G.CROWDS) == [18, 19]
    assert G.select_crowds("4, 0.55 biased,4", G.CROWDS) == [4, 20]
    with pytest.raises(SystemExit):
        G.select_crowds("0.66", G.CROWDS)


def test_lazy_annotators_always_answer_the_first_class_and_leave_other_crowds_alone():
    """A lazy annotator answers class 0 whatever the truth; the other annotators, the truth and
    the draws of a crowd without lazy ones are what they were (the lazy share takes no draw)."""
    G = _load("regime_grid")
    R = G.R
    base = R.simulate_crowd(600, 5, 0.8, "3", n_annotators=40, random_state=3)
    lazy = R.simulate_crowd(600, 5, 0.8, "3", n_annotators=40, lazy_frac=0.25, random_state=3)
    np.testing.assert_array_equal(lazy["truth"], base["truth"])
    np.testing.assert_array_equal(np.isnan(lazy["labels"]), np.isnan(base["labels"]))
    is_lazy = lazy["kind"] == "lazy"
    assert is_lazy.sum() == 10 and np.all(base["kind"] == "ordinary")
    L = lazy["labels"][:, is_lazy]
    assert np.all(L[~np.isnan(L)] == 0)
    np.testing.assert_array_equal(lazy["labels"][:, ~is_lazy], base["labels"][:, ~is_lazy])
    np.testing.assert_allclose(lazy["accuracy"][is_lazy], 1 / 5)
    assert G.CROWDS[26:30] == [("0.8 lazy", "3", 3), ("0.8 lazy", "1", 5), ("0.8 lazy", "mixed", 5),
                               ("0.8 lazy", "5", 2)]
    assert G.LAZY["0.8 lazy"] == 0.25


def test_quick_run_with_a_subset(tmp_path, capsys):
    G = _load("regime_grid")
    out = tmp_path / "grid.md"
    G.main(["--quick", "--no-music", "--crowds", "0", "--classifiers", "weak,crowd-trained",
            "--methods", "majority_vote,em", "--out", str(out), "--csv", str(tmp_path / "g.csv")])
    rows = G.read_csv(tmp_path / "g.csv")
    assert {r["classifier"] for r in rows} == {"weak", "crowd-trained"}
    assert {r["strength"] for r in rows} == {"0.7"} and len(rows) == 2 * 2 * 2  # reps x clfs x methods
    assert "| 0.7 | 3 | 5 | crowd-trained |" in out.read_text()
    G._init(G.CROWDS, G.MUSIC_REGIMES)


def test_skewed_crowd_replay_consensus_is_near_majority_vote_where_it_was_furthest_below():
    """Replaying the skewed two-class crowd of benchmarks/skewed_crowd_replay.py (random
    selection, 8 rounds x 100), the annotator-confusion model's consensus at the last round,
    minus majority vote's on the same labels, averaged over seeds 0 and 2: at least -0.03 (it
    is -0.0185: 0.700 vs 0.721 and 0.773 vs 0.789). These are the two seeds where it was
    furthest below (0.697 vs 0.721 and 0.704 vs 0.789, a mean of -0.055), with the classifier
    taken at its word and one accuracy for the whole crowd."""
    replay = _load("skewed_crowd_replay")
    from skactivelab.simulation import run_benchmark

    gaps = []
    for seed in (0, 2):
        crowd = replay.skewed_crowd(seed, 3000, 1000, 200, 5, 0.8, 0.1, 6.0, 0.4)
        res = run_benchmark(None, None, methods=["random:annotator_confusion", "random:majority_vote"],
                            seeds=(seed,), model="logreg", n_rounds=8, batch_size=100, crowd=crowd)
        last = {r["method"]: r["consensus_accuracy"] for r in res.records if r["round"] == 8}
        gaps.append(last["random:annotator_confusion"] - last["random:majority_vote"])
    assert np.mean(gaps) >= -0.03, gaps
