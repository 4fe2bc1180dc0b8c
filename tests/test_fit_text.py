"""``fit`` on a text project: ``--features FILE --text-column NAME`` or the texts of a
Label Studio export (``--text-field NAME``), with TF-IDF and logistic regression; a new
project without labels gets a one-line route."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from skactivelab import MultiAnnotatorClassifier, cli

GOOD = ["great", "lovely", "superb", "fine", "wonderful", "enjoyable"]
BAD = ["awful", "boring", "dreadful", "poor", "terrible", "dull"]
FILL = ["film", "plot", "actors", "scenes", "the", "a", "music", "story"]


def texts(seed=0, n=60, n_pool=12):
    """Reviews: positive words for 'pos', negative for 'neg'; the pool's last four mix both."""
    rng = np.random.default_rng(seed)
    y = rng.integers(2, size=n)
    out = []
    for i in range(n):
        words = list(rng.choice(FILL, 4)) + list(rng.choice(GOOD if y[i] else BAD, 2))
        if i >= n - 4:
            words = list(rng.choice(FILL, 4)) + [rng.choice(GOOD), rng.choice(BAD)]
        rng.shuffle(words)
        out.append(" ".join(words))
    labels = []  # the first n - n_pool labeled by two of three people (one often wrong)
    for i in range(n - n_pool):
        for j in rng.choice(3, size=2, replace=False):
            right = rng.random() < (0.95, 0.9, 0.7)[j]
            labels.append((f"r{i}", f"p{j}", ("neg", "pos")[y[i] if right else 1 - y[i]]))
    return [f"r{i}" for i in range(n)], out, labels, y


def write(tmp_path, ids, txt, labels):
    with open(tmp_path / "reviews.csv", "w", newline="") as fh:
        csv.writer(fh).writerows([["example_id", "stars", "review"],
                                  *([x, 3, t] for x, t in zip(ids, txt))])
    with open(tmp_path / "ann.csv", "w", newline="") as fh:
        csv.writer(fh).writerows([["example_id", "annotator_id", "label"], *labels])


def ls_export(ids, txt, labels):
    """The same project as a Label Studio JSON export with all tasks."""
    by_task = {}
    for x, who, lab in labels:
        by_task.setdefault(x, []).append(
            {"id": len(by_task) * 10 + len(by_task.get(x, [])), "completed_by":
             {"id": int(who[1:]) + 1, "email": f"{who}@x"}, "was_cancelled": False,
             "result": [{"from_name": "sentiment", "to_name": "text", "type": "choices",
                         "value": {"choices": [lab]}}], "created_at": "2024-01-01T00:00:00Z"})
    return [{"id": int(x[1:]) + 1, "data": {"text": t}, "annotations": by_task.get(x, [])}
            for x, t in zip(ids, txt)]


def run(argv, capsys):
    code = cli.main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def read(path):
    return list(csv.DictReader(open(path, encoding="utf-8")))


def test_text_column_is_tfidf_and_logistic_regression(tmp_path, capsys):
    ids, txt, labels, y = texts(n=160, n_pool=16)
    write(tmp_path, ids, txt, labels)
    code, out, err = run(["fit", "--features", str(tmp_path / "reviews.csv"), "--text-column",
                          "review", "--annotations", str(tmp_path / "ann.csv"), "--cv", "3",
                          "--n-jobs", "1", "--batch", "160", "--out-dir", str(tmp_path / "out")],
                         capsys)
    assert code == 0, err
    assert "model: tfidf-logistic" in out
    # the estimator with the documented model on the same texts gives the same scores
    Y = np.full((len(ids), 3), None, dtype=object)
    for x, who, lab in labels:
        Y[ids.index(x), int(who[1:])] = lab
    model = make_pipeline(ColumnTransformer([("tfidf", TfidfVectorizer(
        sublinear_tf=True, ngram_range=(1, 2), strip_accents="unicode"), 0)]),
        LogisticRegression(max_iter=1000))
    clf = MultiAnnotatorClassifier(model, cv=3, random_state=0, n_jobs=1).fit(
        np.asarray(txt, dtype=object)[:, None], Y)
    rows = read(tmp_path / "out" / "next_batch.csv")
    for r in rows:
        assert float(r["score"]) == pytest.approx(
            clf.active_learning_scores_[ids.index(r["example_id"])], abs=1e-10)
    # it learned the words: the pool's mixed reviews (both kinds of words) are less sure
    pool = {r["example_id"]: float(r["score"]) for r in rows if r["relabel"] == "false"}
    assert len(pool) == 16
    mixed = [pool.pop(x) for x in ids[-4:]]
    assert np.mean(mixed) < np.mean(list(pool.values())) - 0.03
    cons = read(tmp_path / "out" / "consensus.csv")
    right = np.mean([r["consensus_label"] == ("neg", "pos")[y[ids.index(r["example_id"])]]
                     for r in cons])
    assert right >= 0.85


def test_text_field_of_a_label_studio_export(tmp_path, capsys):
    ids, txt, labels, _ = texts(seed=1)
    write(tmp_path, [str(int(x[1:]) + 1) for x in ids], txt, [])
    (tmp_path / "export.json").write_text(json.dumps(ls_export(ids, txt, labels)))
    base = ["--annotations", str(tmp_path / "export.json"), "--cv", "3", "--n-jobs", "1",
            "--batch", "5"]
    code, out, err = run(["fit", "--text-field", "text", *base, "--out-dir",
                          str(tmp_path / "a")], capsys)
    assert code == 0, err
    assert "examples (48 labeled, 12 unlabeled)" in out
    # the same as the texts given as a column of a features file
    code, _, err = run(["fit", "--features", str(tmp_path / "reviews.csv"), "--text-column",
                        "review", *base, "--out-dir", str(tmp_path / "b")], capsys)
    assert code == 0, err
    assert read(tmp_path / "a" / "next_batch.csv") == read(tmp_path / "b" / "next_batch.csv")


@pytest.mark.parametrize("case, message", [
    ("field", "task '1' has no text in its data field 'body'"),
    ("long", "is no Label Studio export, so it has no task data for --text-field"),
    ("model", "--model knn needs numeric features"),
    ("both", "--text-field reads the texts from the Label Studio export"),
    ("none", "give the features: --features FILE"),
    ("column", "has no column 'comment'"),
])
def test_text_options_refused_with_the_fix(tmp_path, capsys, case, message):
    ids, txt, labels, _ = texts()
    write(tmp_path, ids, txt, labels)
    (tmp_path / "export.json").write_text(json.dumps(ls_export(ids, txt, labels)))
    argv = {"field": ["--annotations", str(tmp_path / "export.json"), "--text-field", "body"],
            "long": ["--annotations", str(tmp_path / "ann.csv"), "--text-field", "text"],
            "model": ["--annotations", str(tmp_path / "ann.csv"), "--features",
                      str(tmp_path / "reviews.csv"), "--text-column", "review", "--model", "knn"],
            "both": ["--annotations", str(tmp_path / "export.json"), "--text-field", "text",
                     "--features", str(tmp_path / "reviews.csv")],
            "none": ["--annotations", str(tmp_path / "ann.csv")],
            "column": ["--annotations", str(tmp_path / "ann.csv"), "--features",
                       str(tmp_path / "reviews.csv"), "--text-column", "comment"]}[case]
    code, out, err = run(["fit", *argv, "--batch", "3", "--out-dir", str(tmp_path / "o")], capsys)
    assert code == 2 and out == "" and message in err
    assert err.count("\n") == 1
    assert not (tmp_path / "o").exists()


def test_a_new_project_gets_a_route(tmp_path, capsys):
    ids, txt, labels, _ = texts()
    (tmp_path / "new.json").write_text(json.dumps(ls_export(ids, txt, [])))
    code, out, err = run(["fit", "--annotations", str(tmp_path / "new.json"), "--text-field",
                          "text", "--batch", "10", "--out-dir", str(tmp_path / "o")], capsys)
    assert code == 2 and out == "" and err.count("\n") == 1
    assert "has no label yet" in err and "Label a first random sample of about 20 tasks" in err
    assert "uses 0 class(es)" not in err
    # one class only
    one = [(x, w, "pos") for x, w, _ in labels]
    (tmp_path / "one.json").write_text(json.dumps(ls_export(ids, txt, one)))
    code, _, err = run(["fit", "--annotations", str(tmp_path / "one.json"), "--text-field",
                        "text", "--batch", "10", "--out-dir", str(tmp_path / "o")], capsys)
    assert code == 2 and "has labels of one class only ('pos')" in err
    # the route it names works: score ranks unlabeled tasks by least confidence
    rng = np.random.default_rng(0)
    P = rng.dirichlet([1, 1], len(ids))
    with open(tmp_path / "probs.csv", "w", newline="") as fh:
        csv.writer(fh).writerows([["id", "neg", "pos"],
                                  *([int(x[1:]) + 1, *p.tolist()] for x, p in zip(ids, P))])
    code, _, err = run(["score", "--annotations", str(tmp_path / "new.json"), "--pred-probs",
                        str(tmp_path / "probs.csv"), "--batch", "10", "--out",
                        str(tmp_path / "next.csv")], capsys)
    assert code == 0, err
    want = [str(int(ids[i][1:]) + 1) for i in np.argsort(P.max(axis=1), kind="stable")[:10]]
    assert [r["example_id"] for r in read(tmp_path / "next.csv")] == want
