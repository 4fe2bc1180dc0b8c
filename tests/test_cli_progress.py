"""Progress of ``skactivelab fit``: one stderr line per finished joblib job, counted once."""

import re

import numpy as np

from skactivelab.cli import main


def _files(tmp_path):
    rng = np.random.default_rng(0)
    n = 60
    X = rng.normal(size=(n, 2))
    y = np.where(X[:, 0] > 0, "yes", "no")
    with open(tmp_path / "f.csv", "w") as fh:
        fh.write("example_id,a,b\n")
        fh.writelines(f"x{i},{float(X[i, 0])!r},{float(X[i, 1])!r}\n" for i in range(n))
    with open(tmp_path / "a.csv", "w") as fh:
        fh.write("example_id,annotator_id,label\n")
        for i in range(45):
            for who in ("ann", "bob"):
                label = y[i] if rng.random() < 0.8 else ("no" if y[i] == "yes" else "yes")
                fh.write(f"x{i},{who},{label}\n")
    return ["fit", "--features", str(tmp_path / "f.csv"), "--annotations", str(tmp_path / "a.csv"),
            "--model", "logreg", "--cv", "3", "--n-jobs", "1", "--batch", "4"]


def test_fit_reports_each_job_and_quiet_silences_it(tmp_path, capsys):
    argv = _files(tmp_path)
    assert main(argv + ["--out-dir", str(tmp_path / "loud")]) == 0
    out, err = capsys.readouterr()
    done = [ln for ln in err.splitlines() if "job(s) done" in ln]
    # 3 folds per round (at least one round), the final model, 3 fold models' predictions
    assert len(done) >= 7 and all(ln.startswith("skactivelab: fit: ") for ln in done)
    assert "[Parallel(" not in err  # joblib's own lines are not shown
    assert main(argv + ["--out-dir", str(tmp_path / "quiet"), "--quiet"]) == 0
    _, err_quiet = capsys.readouterr()
    assert "job(s) done" not in err_quiet
    for name in ("next_batch.csv", "consensus.csv", "annotators.csv"):
        assert (tmp_path / "loud" / name).read_text() == (tmp_path / "quiet" / name).read_text()


def test_fit_says_each_job_count_once(tmp_path, capsys, monkeypatch):
    """Every joblib job of the fit (the folds of each round, the final model, the fold
    models' predictions of the unlabeled rows) is counted once, across joblib calls: the
    counts run 1, 2, ..., all of them, and no line is printed twice."""
    import joblib

    jobs = []  # tasks of each joblib.Parallel call, counted where they are run
    real_call = joblib.Parallel.__call__

    def counting_call(self, iterable):
        tasks = list(iterable)
        jobs.append(len(tasks))
        return real_call(self, tasks)

    monkeypatch.setattr(joblib.Parallel, "__call__", counting_call)
    assert main(_files(tmp_path) + ["--out-dir", str(tmp_path / "o")]) == 0
    _, err = capsys.readouterr()
    done = [ln for ln in err.splitlines() if "job(s) done" in ln]
    counts = [int(re.search(r"(\d+) job", ln).group(1)) for ln in done]
    assert len(jobs) >= 3 and jobs[-2:] == [1, 3]  # ... the final model, the predictions
    assert counts == list(range(1, sum(jobs) + 1))  # one job at a time (--n-jobs 1)
    assert len(set(err.splitlines())) == len(err.splitlines())


def test_fit_progress_of_parallel_calls_counts_on():
    """joblib's own lines of two calls on process workers (as printed with verbose=11):
    the second call's jobs are counted after the first's."""
    from skactivelab.cli._common import _JoblibLines

    said = []

    class Stream:
        def write(self, text):
            said.append(("stream", text))

        def flush(self):
            pass

    progress = type("P", (), {"quiet": False, "__call__": lambda self, m, force=False:
                              said.append(("progress", m))})()
    lines = _JoblibLines(progress, "fit", Stream())
    lines.write("[Parallel(n_jobs=2)]: Using backend LokyBackend with 2 concurrent workers.\n"
                "[Parallel(n_jobs=2)]: Done   1 tasks      | elapsed:    5.0s\n"
                "[Parallel(n_jobs=2)]: Done   3 out of   3 | elapsed:    5.2s finished\n"
                "[Parallel(n_jobs=2)]: Using backend LokyBackend with 2 concurrent workers.\n"
                "[Parallel(n_jobs=2)]: Done   1 tasks      | elapsed:    0.0s\n"
                "other text\n"
                "[Parallel(n_jobs=2)]: Using backend LokyBackend with 2 concurrent workers.\n"
                "[Parallel(n_jobs=2)]: Batch computation too fast (0.004s.) Setting batch_size=2.\n"
                "[Parallel(n_jobs=2)]: Done   1 tasks      | elapsed:    0.0s\n"
                "[Parallel(n_jobs=2)]: Done   3 out of   3 | elapsed:    0.0s finished\n"
                # one at a time (no "Using backend"), the total known: the last count twice
                "[Parallel(n_jobs=1)]: Done 1 out of 2 | elapsed:    0.1s\n"
                "[Parallel(n_jobs=1)]: Done 2 out of 2 | elapsed:    0.1s\n"
                "[Parallel(n_jobs=1)]: Done 2 out of 2 | elapsed:    0.1s finished\n"
                "[Parallel(n_jobs=1)]: Done   1 tasks      | elapsed:    0.0s\n")
    assert said == [("progress", "fit: 1 job(s) done"), ("progress", "fit: 3 job(s) done"),
                    ("progress", "fit: 4 job(s) done"), ("stream", "other text\n"),
                    ("progress", "fit: 5 job(s) done"), ("progress", "fit: 7 job(s) done"),
                    ("progress", "fit: 8 job(s) done"), ("progress", "fit: 9 job(s) done"),
                    ("progress", "fit: 10 job(s) done")]
