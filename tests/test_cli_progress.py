"""Progress of ``skactivelab fit``: one stderr line per finished cross-validation job."""

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
    # 3 folds per round (at least one round), then the final model
    assert len(done) >= 4 and all(ln.startswith("skactivelab: fit (3 folds") for ln in done)
    assert "[Parallel(" not in err  # joblib's own lines are not shown
    assert main(argv + ["--out-dir", str(tmp_path / "quiet"), "--quiet"]) == 0
    _, err_quiet = capsys.readouterr()
    assert "job(s) done" not in err_quiet
    for name in ("next_batch.csv", "consensus.csv", "annotators.csv"):
        assert (tmp_path / "loud" / name).read_text() == (tmp_path / "quiet" / name).read_text()
