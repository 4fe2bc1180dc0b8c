"""The ``crowd_model`` parameter: one resolver, accepted by every entry point, and the
cases where the crowd model decides the consensus (checked by hand)."""

from __future__ import annotations

import csv
import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.neighbors import KNeighborsClassifier
from sklearn.tree import DecisionTreeClassifier

import skactivelab as sk
from skactivelab import cli
from skactivelab.crowd_models import (
    CROWD_MODELS,
    AnnotatorConfusion,
    CrowdLab,
    MajorityVote,
    check_crowd_model,
)

VALUES = ["crowdlab", "annotator_confusion", "majority_vote", AnnotatorConfusion(shrinkage=2.0)]
CLASSES = {"crowdlab": CrowdLab, "annotator_confusion": AnnotatorConfusion, "majority_vote": MajorityVote}


# ------------------------------------------------------------------ the resolver
def test_resolver_names_instances_and_refusals():
    for name, cls in CLASSES.items():
        model = check_crowd_model(name)
        assert type(model) is cls and model.get_params() == cls().get_params()
    assert type(check_crowd_model(None)) is CrowdLab
    given = AnnotatorConfusion(shrinkage=3.0, random_state=1)
    got = check_crowd_model(given)
    assert got is not given and got.get_params() == given.get_params()  # a clone, as given
    with pytest.raises(ValueError, match=r"crowd_model must be one of \('crowdlab', 'annotator_confusion', "
                                         r"'majority_vote'\).*got 'em'"):
        check_crowd_model("em")
    with pytest.raises(TypeError, match="crowd_model must be one of .* got LogisticRegression"):
        check_crowd_model(LogisticRegression())
    assert set(CROWD_MODELS) == set(CLASSES)
    from skactivelab.cli._common import CROWD_MODEL_CHOICES

    assert CROWD_MODEL_CHOICES == CROWD_MODELS


def test_resolver_deprecated_alias():
    assert type(check_crowd_model("crowdlab", "activelab")) is CrowdLab
    with pytest.warns(FutureWarning, match="use crowd_model='annotator_confusion'"):
        assert type(check_crowd_model("crowdlab", "activelab_em")) is AnnotatorConfusion
    with pytest.warns(FutureWarning):
        got = check_crowd_model(AnnotatorConfusion(shrinkage=1.0), "activelab_em")  # agrees: kept
    assert got.shrinkage == 1.0
    with pytest.raises(ValueError, match="stands for crowd_model='crowdlab'.*'majority_vote' was given"):
        check_crowd_model("majority_vote", "activelab")
    with pytest.raises(ValueError, match="active_learning_method must be one of"):
        check_crowd_model("crowdlab", "em")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no warning for the default and "activelab"
        check_crowd_model()
        check_crowd_model(None, "activelab")


# ------------------------------------------------------------------ every entry point
def _data(seed=0, n=48, n_lab=40):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 2))
    y = (X[:, 0] > 0).astype(int)
    L = np.where(rng.random((n, 3)) < 0.5, np.where(rng.random((n, 3)) < 0.85, y[:, None], 1 - y[:, None]), -1)
    L[np.arange(n), rng.integers(0, 3, n)] = y
    L[n_lab:] = -1
    return X, y, L


@pytest.mark.parametrize("value", VALUES, ids=str)
def test_every_entry_point_accepts_each_crowd_model(value):
    X, y, L = _data()
    cls = type(check_crowd_model(value))
    lab = (L >= 0).any(axis=1)
    P = np.column_stack([1 - (X[:, 0] > 0) * 0.8 - 0.1, (X[:, 0] > 0) * 0.8 + 0.1])
    s_lab, s_unl = sk.get_active_learning_scores(L[lab], P[lab], P[~lab], crowd_model=value, random_state=0)
    assert s_lab.shape == (lab.sum(),) and s_unl.shape == ((~lab).sum(),)
    e_lab, e_unl = sk.get_active_learning_scores_ensemble(L[lab], np.stack([P[lab]] * 2), np.stack([P[~lab]] * 2),
                                                          crowd_model=value, random_state=0)
    assert e_lab.shape == s_lab.shape and e_unl.shape == s_unl.shape
    clf = sk.MultiAnnotatorClassifier(LogisticRegression(), cv=2, random_state=0, crowd_model=value).fit(X, L)
    assert type(clf.crowd_model_) is cls
    ens = sk.MultiAnnotatorEnsembleClassifier([("a", LogisticRegression()), ("b", LogisticRegression(C=0.1))],
                                              cv=2, random_state=0, crowd_model=value).fit(X, L)
    assert type(ens.crowd_model_) is cls and ens.active_learning_scores_.shape == (X.shape[0],)
    # the strategy asked for the estimator's own model uses the estimator's scores
    idx, scores = sk.ActiveLabQuery(crowd_model=value, random_state=0)(clf, X, n_instances=3)
    np.testing.assert_array_equal(scores, np.sort(clf.active_learning_scores_)[:3])
    learner = sk.MultiAnnotatorActiveLearner(sk.MultiAnnotatorClassifier(LogisticRegression(), cv=2, random_state=0),
                                             X=X, y=L, crowd_model=value)
    assert type(learner.estimator.crowd_model_) is cls
    np.testing.assert_array_equal(learner.estimator.active_learning_scores_, clf.active_learning_scores_)


@pytest.mark.parametrize("value", ["annotator_confusion", "majority_vote", MajorityVote(random_state=1)], ids=str)
def test_simulation_takes_the_crowd_model(value):
    from sklearn.datasets import make_classification

    from skactivelab.simulation import make_task, run_method

    X, y = make_classification(60, 4, n_informative=3, n_redundant=0, random_state=0)
    task = make_task(X, y, n_annotators=4, random_state=0)
    kw = dict(model="logreg", n_rounds=1, batch_size=5, n_folds=2, random_state=0)
    rec = run_method(task, "activelab", crowd_model=value, **kw)
    assert rec["n_annotations"].tolist() == [20, 25]
    if isinstance(value, str):  # the same run, the crowd model named in the method
        named = run_method(task, f"activelab:{value}", **kw)
        np.testing.assert_array_equal(named["consensus_accuracy"], rec["consensus_accuracy"])
    with pytest.raises(ValueError, match="crowd_model must be one of"):
        run_method(task, "activelab:em", **kw)


def test_simulation_method_aliases_warn():
    from skactivelab.simulation import method_and_crowd_model

    with pytest.warns(FutureWarning, match="'activelab:annotator_confusion'"):
        method, model = method_and_crowd_model("activelab_em")
    assert method == "activelab" and type(model) is AnnotatorConfusion
    with pytest.warns(FutureWarning, match="activelab_suggest_nocap:annotator_confusion"):
        method, model = method_and_crowd_model("activelab_em_suggest")
    assert method == "activelab_suggest_nocap" and type(model) is AnnotatorConfusion
    with pytest.raises(ValueError, match="unknown method 'activelab_xx'"):
        method_and_crowd_model("activelab_xx")


def test_grid_search_over_the_crowd_model():
    X, y, L = _data(1, n=60, n_lab=60)
    est = sk.MultiAnnotatorClassifier(LogisticRegression(), cv=2, random_state=0)
    grid = GridSearchCV(est, {"crowd_model": VALUES}, cv=sk.ConsensusStratifiedKFold(3))
    grid.fit(X, L)
    assert len(grid.cv_results_["params"]) == 4
    assert np.all(np.isfinite(grid.cv_results_["mean_test_score"]))
    assert grid.best_params_["crowd_model"] in VALUES
    c = clone(sk.MultiAnnotatorClassifier(LogisticRegression(), crowd_model=AnnotatorConfusion(shrinkage=5.0)))
    assert c.get_params()["crowd_model"].shrinkage == 5.0


# ------------------------------------------------------------------ the consensus, by hand
# rows: 3 annotators, 2 classes, no tie in any vote; row 2 has one label
TINY = np.array([[0, 0, 1], [1, 1, -1], [0, -1, -1], [1, 0, 1], [0, 0, 0], [1, 1, 0]])


def _tiny_fit(crowd_model, **kw):
    X = np.arange(12, dtype=float).reshape(6, 2)
    return sk.MultiAnnotatorClassifier(LogisticRegression(), cv=2, random_state=0, crowd_model=crowd_model,
                                       **kw).fit(X, TINY)


def test_majority_vote_consensus_and_label_quality_by_hand():
    clf = _tiny_fit("majority_vote")
    res = clf.label_quality_
    np.testing.assert_array_equal(clf.consensus_labels_, [0, 1, 0, 1, 0, 1])
    # posterior (votes + 1) / (n + K) at the consensus
    np.testing.assert_allclose(clf.consensus_quality_, [3 / 5, 3 / 4, 2 / 3, 3 / 5, 4 / 5, 3 / 5])
    np.testing.assert_allclose(res.consensus_quality_score, clf.consensus_quality_)
    np.testing.assert_allclose(res.post_pred_probs[1], [1 / 4, 3 / 4])
    # each example's share of labels equal to its consensus
    np.testing.assert_allclose(res.annotator_agreement, [2 / 3, 1, 1, 2 / 3, 1, 2 / 3])
    # each annotator's share of labels equal to the consensus: 6/6, 4/5, 2/4
    np.testing.assert_allclose(clf.agreement_with_consensus_, [1.0, 0.8, 0.5])
    # quality = the model's accuracy: agreement with the majority of the others on examples
    # with 2+ labels, a tie among the others counting 1/2: (1/2+1+1/2+1+1/2)/5, (1/2+1+0+1+1/2)/5,
    # (0+1/2+1+0)/4
    np.testing.assert_allclose(clf.annotator_quality_, [0.7, 0.6, 0.375])
    np.testing.assert_allclose(clf.annotator_accuracy_, [0.7, 0.6, 0.375])
    # the class each annotator agrees least with the consensus on (annotator 1: class 0, 2 of 3)
    assert clf.worst_class_[1] == 0
    np.testing.assert_array_equal(res.num_examples_labeled, [6, 5, 4])
    # each label's quality: the posterior at the label (row 0, annotator 2 said 1: 2/5)
    np.testing.assert_allclose(res.detailed_label_quality[0], [3 / 5, 3 / 5, 2 / 5])


def test_confusion_label_quality_is_the_models_alone():
    X, y, L = _data(2)
    clf = sk.MultiAnnotatorClassifier(LogisticRegression(), cv=2, random_state=0,
                                      crowd_model="annotator_confusion").fit(X, L)
    lab = clf.labeled_mask_
    res = clf.label_quality_
    fit = clf.active_learning_fit_
    cons = np.argmax(fit.posterior, axis=1)
    np.testing.assert_array_equal(clf.consensus_labels_[lab], cons)
    np.testing.assert_allclose(clf.consensus_quality_[lab], fit.posterior[np.arange(cons.size), cons])
    L_lab = L[lab]
    has = L_lab >= 0
    hits = (L_lab == cons[:, None]) & has
    np.testing.assert_allclose(res.annotator_agreement, hits.sum(axis=1) / has.sum(axis=1))
    np.testing.assert_allclose(clf.agreement_with_consensus_, hits.sum(axis=0) / has.sum(axis=0))
    np.testing.assert_allclose(clf.annotator_quality_, clf.annotator_accuracy_)
    np.testing.assert_allclose(res.post_pred_probs, fit.posterior)
    # the deprecated spelling gives the same result
    with pytest.warns(FutureWarning):
        old = sk.MultiAnnotatorClassifier(LogisticRegression(), cv=2, random_state=0,
                                          active_learning_method="activelab_em").fit(X, L)
    assert old.label_quality_ == res


def test_consensus_method_with_another_crowd_model_is_refused():
    for kw in ({"crowd_model": "annotator_confusion"}, {"crowd_model": "majority_vote"}):
        with pytest.raises(ValueError, match="consensus_method='majority_vote' is an option of CROWDLAB"):
            _tiny_fit(consensus_method="majority_vote", **kw)
    with pytest.raises(ValueError, match="consensus_method"), pytest.warns(FutureWarning):
        sk.MultiAnnotatorClassifier(LogisticRegression(), cv=2, consensus_method="majority_vote",
                                    active_learning_method="activelab_em").fit(np.eye(6), TINY)
    _tiny_fit("crowdlab", consensus_method="majority_vote")  # CROWDLAB's own option


# ------------------------------------------------------------------ defects of the former crowd model
def _zero_probability_case():
    """300 examples of 3 classes, 3 labels each from 20 annotators right 60% of the time;
    example 0: the classifier gives class 2 probability exactly 0, all 20 annotators say 2.
    Returns the labels, the classifier's probabilities and the true classes."""
    rng = np.random.default_rng(0)
    N, K, M = 300, 3, 20
    y = rng.integers(0, K, N)
    L = np.full((N, M), -1)
    who = np.argsort(rng.random((N, M)), axis=1)[:, :3]
    lab = np.where(rng.random((N, 3)) < 0.6, y[:, None], (y[:, None] + rng.integers(1, K, (N, 3))) % K)
    L[np.arange(N)[:, None], who] = lab
    P = np.full((N, K), 0.1)
    P[np.arange(N), y] = 0.8
    L[0], P[0] = 2, [0.9, 0.1, 0.0]
    return L, P, y


def test_a_class_of_probability_zero_can_win():
    L, P, y = _zero_probability_case()
    s = sk.get_active_learning_scores(L, P, crowd_model="annotator_confusion", random_state=0)[0]
    assert s[0] < 1.0
    assert AnnotatorConfusion(random_state=0).fit(L, P).consensus_label_[0] == 2
    with pytest.warns(FutureWarning):
        s_old = sk.get_active_learning_scores(L, P, active_learning_method="activelab_em", random_state=0)[0]
    assert s_old[0] < 1.0
    # the estimator with a classifier that gives exact zeros (nearest neighbours)
    centers = np.array([[0.0, 0.0], [4.0, 0.0], [0.0, 4.0]])
    X = centers[y] + np.random.default_rng(1).normal(scale=0.5, size=(y.size, 2))
    X[0] = centers[0]  # deep among class 0: its neighbours never say 2; 20 annotators do
    for kw in ({"crowd_model": "annotator_confusion"}, {"active_learning_method": "activelab_em"}):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            clf = sk.MultiAnnotatorClassifier(KNeighborsClassifier(3), cv=3, random_state=0, **kw).fit(X, L)
        assert clf.oof_pred_probs_[0, 2] == 0.0
        assert clf.consensus_labels_[0] == 2 and clf.active_learning_scores_[0] < 1.0


def test_an_empty_labeled_set_is_no_labeled_set():
    U = np.random.default_rng(0).dirichlet(np.ones(3), 8)
    for kw in ({"crowd_model": "annotator_confusion"}, {"crowd_model": "majority_vote"}, {},
               {"active_learning_method": "activelab_em"}):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            want = sk.get_active_learning_scores(None, None, U, random_state=0, **kw)
            got = sk.get_active_learning_scores(np.empty((0, 4)), np.empty((0, 3)), U, random_state=0, **kw)
            ens = sk.get_active_learning_scores_ensemble(np.empty((0, 4)), np.empty((2, 0, 3)), np.stack([U, U]),
                                                         random_state=0, **kw)
        assert got[0].shape == (0,)
        np.testing.assert_array_equal(got[1], want[1])
        np.testing.assert_array_equal(np.argsort(ens[1], kind="stable"), np.argsort(want[1], kind="stable"))


# ------------------------------------------------------------------ the command line
def _cli_case(tmp_path):
    """30 examples, 3 annotators and a classifier that agree, and example e29: two annotators
    say dog, one says cat, the classifier is sure of cat. Majority vote: dog; CROWDLAB
    (which trusts the classifier, right on every other example): cat."""
    rows, probs = [], []
    for i in range(30):
        c = ["cat", "dog"][i % 2]
        labels = {"a": c, "b": c, "c": c} if i < 29 else {"a": "dog", "b": "dog", "c": "cat"}
        rows += [f"e{i},{w},{lab}" for w, lab in labels.items()]
        p_cat = 0.95 if c == "cat" else 0.05
        probs.append(f"e{i},{p_cat},{1 - p_cat}" if i < 29 else f"e{i},0.999,0.001")
    (tmp_path / "ann.csv").write_text("example_id,annotator_id,label\n" + "\n".join(rows) + "\n")
    (tmp_path / "probs.csv").write_text("example_id,cat,dog\n" + "\n".join(probs) + "\n")


def _consensus_of(tmp_path, crowd_model, capsys):
    out = tmp_path / crowd_model
    argv = ["score", "--annotations", str(tmp_path / "ann.csv"), "--pred-probs", str(tmp_path / "probs.csv"),
            "--batch", "3", "--out-dir", str(out), "--quiet", "--crowd-model", crowd_model]
    assert cli.main(argv) == 0, capsys.readouterr().err
    with open(out / "consensus.csv", newline="") as fh:
        return {r["example_id"]: r for r in csv.DictReader(fh)}


def test_cli_crowd_model_changes_the_consensus_file(tmp_path, capsys):
    _cli_case(tmp_path)
    crowdlab = _consensus_of(tmp_path, "crowdlab", capsys)
    mv = _consensus_of(tmp_path, "majority_vote", capsys)
    assert crowdlab["e29"]["consensus_label"] == "cat"
    assert mv["e29"]["consensus_label"] == "dog"  # 2 of 3 labels
    # the majority vote's own columns: agreement 2/3 with its consensus
    assert float(mv["e29"]["annotator_agreement"]) == pytest.approx(2 / 3)
    assert float(crowdlab["e29"]["annotator_agreement"]) == pytest.approx(1 / 3)
    assert all(crowdlab[x]["consensus_label"] == mv[x]["consensus_label"] for x in crowdlab if x != "e29")
    # the parsers of fit, labelstudio round and benchmark take the option too
    for argv in (["fit"], ["labelstudio", "round"], ["benchmark"]):
        with pytest.raises(SystemExit):
            cli.main(argv + ["--help"])
        assert "--crowd-model" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        cli.main(["score", "--annotations", "a", "--pred-probs", "b", "--batch", "1", "--out", "x",
                  "--crowd-model", "em"])
    assert "invalid choice: 'em'" in capsys.readouterr().err


def _biased_cli_case(tmp_path):
    """Equal classes; the crowd's wrong labels all say "ant", and the classifier, as one trained
    on those labels would, over-calls "ant" too. Returns the truth by example ID."""
    rng = np.random.default_rng(3)
    names, n, M = ["ant", "bee", "cow"], 600, 12
    truth = rng.integers(0, 3, n)
    rows = []
    for i in range(n):  # the test's own simulator: two distinct annotators per example
        for j in rng.choice(M, 2, replace=False):
            lab = truth[i] if rng.random() < 0.65 else 0
            rows.append(f"x{i},w{j},{names[lab]}")
    z = rng.standard_normal((n, 3))
    z[np.arange(n), truth] += 1.0
    P = np.exp(z) * np.array([2.5, 1.0, 1.0])
    P /= P.sum(axis=1, keepdims=True)
    (tmp_path / "ann.csv").write_text("example_id,annotator_id,label\n" + "\n".join(rows) + "\n")
    (tmp_path / "probs.csv").write_text("example_id,ant,bee,cow\n" + "\n".join(
        f"x{i},{P[i, 0]:.6f},{P[i, 1]:.6f},{P[i, 2]:.6f}" for i in range(n)) + "\n")
    return {f"x{i}": names[truth[i]] for i in range(n)}


def test_cli_classifier_shares_removes_the_classifiers_class_shares(tmp_path, capsys):
    """``--classifier-shares remove``: the annotator-confusion consensus of ``score`` calls "ant"
    less often and is more often right than with the shares kept; the estimated accuracies
    (always that model) are the same whether the model forms the consensus or not."""
    truth = _biased_cli_case(tmp_path)

    def score(name, *extra):
        out = tmp_path / name
        argv = ["score", "--annotations", str(tmp_path / "ann.csv"), "--pred-probs", str(tmp_path / "probs.csv"),
                "--batch", "3", "--out-dir", str(out), "--quiet", *extra]
        assert cli.main(argv) == 0, capsys.readouterr().err
        with open(out / "consensus.csv", newline="") as fh:
            cons = {r["example_id"]: r["consensus_label"] for r in csv.DictReader(fh)}
        with open(out / "annotators.csv", newline="") as fh:
            acc = {r["annotator_id"]: r["estimated_accuracy"] for r in csv.DictReader(fh)}
        return cons, acc

    keep, acc_keep = score("keep", "--crowd-model", "annotator_confusion")
    remove, acc_remove = score("remove", "--crowd-model", "annotator_confusion", "--classifier-shares", "remove")
    _, acc_crowdlab = score("crowdlab", "--classifier-shares", "remove")

    def ants(c):
        return sum(v == "ant" for v in c.values())

    def right(c):
        return sum(c[x] == truth[x] for x in truth)

    assert ants(remove) < ants(keep)
    assert right(remove) > right(keep)
    assert acc_crowdlab == acc_remove != acc_keep
    for argv in (["fit"], ["labelstudio", "round"]):
        with pytest.raises(SystemExit):
            cli.main(argv + ["--help"])
        assert "--classifier-shares" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        cli.main(["benchmark", "--help"])
    assert "--classifier-shares" not in capsys.readouterr().out  # its methods name their models


# ------------------------------------------------------------------ seeds and warnings
def test_a_crowd_model_with_its_own_seed_fits_as_it_does_alone():
    """A crowd model given with a random_state of its own is seeded by it everywhere (estimator,
    scoring function, strategy), so refitting it by hand on the same inputs gives the same
    posterior; without one it follows the caller's random_state."""
    X, y, L = _data(2, n=200, n_lab=160)
    lab = (L >= 0).any(axis=1)
    e = sk.MultiAnnotatorClassifier(LogisticRegression(), cv=3, random_state=5,
                                    crowd_model=AnnotatorConfusion(random_state=0)).fit(X, L)
    P = e.oof_pred_probs_[lab]
    alone = AnnotatorConfusion(random_state=0).fit(L[lab], P)
    other = AnnotatorConfusion(random_state=5).fit(L[lab], P)
    assert np.abs(alone.posterior_ - other.posterior_).max() > 0.01  # the seed matters on this crowd
    np.testing.assert_array_equal(e.active_learning_fit_.posterior, alone.posterior_)
    s_lab, _ = sk.get_active_learning_scores(L[lab], P, P[:0], crowd_model=AnnotatorConfusion(random_state=0),
                                             random_state=5)
    np.testing.assert_allclose(s_lab, alone.posterior_.max(axis=1))
    # no seed of its own: the caller's
    s_lab, _ = sk.get_active_learning_scores(L[lab], P, P[:0], crowd_model="annotator_confusion", random_state=5)
    f = sk.MultiAnnotatorClassifier(LogisticRegression(), cv=3, random_state=5, crowd_model=AC_DEFAULT).fit(X, L)
    np.testing.assert_array_equal(f.oof_pred_probs_, e.oof_pred_probs_)
    assert np.abs(f.active_learning_fit_.posterior - alone.posterior_).max() > 0.01
    again = sk.MultiAnnotatorClassifier(LogisticRegression(), cv=3, random_state=5, crowd_model=AC_DEFAULT).fit(X, L)
    np.testing.assert_array_equal(again.active_learning_fit_.posterior, f.active_learning_fit_.posterior)


AC_DEFAULT = "annotator_confusion"


def test_the_deprecation_warning_points_at_the_users_line():
    """The FutureWarning of the deprecated spellings names this file, whichever entry point
    (function, estimator, learner, simulation) reached the check and however deep."""
    from skactivelab.simulation import make_task, method_and_crowd_model, run_method

    X, y, L = _data()
    lab = (L >= 0).any(axis=1)
    P = np.column_stack([1 - (X[:, 0] > 0) * 0.8 - 0.1, (X[:, 0] > 0) * 0.8 + 0.1])
    task = make_task(X, y, n_annotators=4, random_state=0)
    calls = {
        "function": lambda: sk.get_active_learning_scores(L[lab], P[lab], P[~lab], random_state=0,
                                                          active_learning_method="activelab_em"),
        "estimator": lambda: sk.MultiAnnotatorClassifier(LogisticRegression(), cv=2, random_state=0,
                                                         active_learning_method="activelab_em").fit(X, L),
        "learner": lambda: sk.MultiAnnotatorActiveLearner(
            sk.MultiAnnotatorClassifier(LogisticRegression(), cv=2, random_state=0), X=X, y=L,
            active_learning_method="activelab_em"),
        "simulation name": lambda: method_and_crowd_model("activelab_em"),
        "simulation run": lambda: run_method(task, "activelab_em", model="logreg", n_rounds=0, n_folds=2,
                                             random_state=0),
    }
    for name, call in calls.items():
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            call()
        future = [w for w in caught if issubclass(w.category, FutureWarning)]
        assert future, name
        assert all(w.filename == __file__ for w in future), (name, [(w.filename, w.lineno) for w in future])


def test_simulation_crowd_fits_follow_the_runs_random_state(monkeypatch):
    """The simulation seeds each crowd-model fit from the run's random_state: two runs with the
    same seed fit alike, another seed fits differently, and rounds differ from each other."""
    from sklearn.datasets import make_classification

    from skactivelab import _confusion
    from skactivelab.simulation import make_task, run_method

    seen = []
    orig = _confusion.fit

    def spy(ann, P=None, **kw):
        rng = kw.get("rng")
        import copy

        seen.append(None if rng is None else int(copy.deepcopy(rng).integers(2**62)))
        return orig(ann, P, **kw)

    monkeypatch.setattr(_confusion, "fit", spy)
    X, y = make_classification(80, 4, n_informative=3, n_redundant=0, random_state=0)
    task = make_task(X, y, n_annotators=4, random_state=0)
    draws = {}
    for seed in (0, 0, 1):
        seen.clear()
        run_method(task, "activelab:annotator_confusion", model="logreg", n_rounds=2, batch_size=5, n_folds=2,
                   random_state=seed)
        draws.setdefault(seed, []).append(list(seen))
    first = draws[0][0]
    assert None not in first and len(first) >= 3
    assert draws[0][1] == first  # same seed: same crowd fits
    assert draws[1][0] != first  # another seed: other crowd fits
    assert len(set(first)) > 1  # not one fixed seed every round
