"""Every script in examples/ runs to the end and prints its key results.

Each script runs in a fresh interpreter (``sys.executable``) with the temporary
directory as working directory, so nothing is written inside the repository.
``make_wall_robot_annotation_files.py`` needs the Wall Robot CSV; it runs only
when ``<project root>/../shared/data/wall_robot.csv`` exists.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
WALL_ROBOT_SCRIPT = "make_wall_robot_annotation_files.py"

# Lines each tutorial script must print (regular expressions, searched in stdout).
EXPECTED = {
    "01_what_to_label_next.py": [
        r"labeled: \d+\s+unlabeled pool: \d+",
        r"batch of 60: (\d+) re-labels, (\d+) new labels",
        r"re-labels whose current majority vote is wrong: \d+ of \d+",
    ],
    "02_annotator_quality.py": [
        r"CROWDLAB consensus accuracy: 0\.\d+",
        r"annotators, worst first:",
        r"annotator_quality\s+agreement_with_consensus\s+worst_class\s+num_examples_labeled\s+true_accuracy",
        r"Spearman rank correlation, annotator quality vs true accuracy: -?\d\.\d+",
    ],
    "03_traditional_active_learning.py": [
        r"round\s+labels\s+activelab\s+random",
        r"final: activelab 0\.\d+, random 0\.\d+",
        r"get_active_learning_scores vs ActiveLabQuery on the pool: largest score difference \S+; "
        r"next batch: \d+ of 40 rows in common",
    ],
    "04_label_cleaning.py": [
        r"round\s+extra labels\s+activelab\s+random",
        r"round 4: 100 re-labels, 0 new",
        r"final consensus accuracy: activelab 0\.\d+, random 0\.\d+",
    ],
}

SCRIPTS = sorted(p.name for p in EXAMPLES.glob("*.py") if p.name != WALL_ROBOT_SCRIPT)


def _run(script, args, cwd):
    env = dict(os.environ, MPLBACKEND="Agg", PYTHONHASHSEED="0")
    proc = subprocess.run(
        [sys.executable, str(EXAMPLES / script), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, f"{script} exited with {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


def test_every_tutorial_script_is_checked():
    assert set(EXPECTED) <= set(SCRIPTS), "a tutorial script is missing from examples/"


@pytest.mark.slow
@pytest.mark.parametrize("script", SCRIPTS)
def test_example_runs(script, tmp_path):
    out = _run(script, [], tmp_path)
    for pattern in EXPECTED.get(script, []):
        assert re.search(pattern, out), f"{script}: no line matching {pattern!r} in\n{out}"
    assert not any(tmp_path.iterdir()), f"{script} wrote files into its working directory"
    if script == "01_what_to_label_next.py":
        batch, relabels, new = map(int, re.search(r"batch of (\d+): (\d+) re-labels, (\d+) new", out).groups())
        assert relabels + new == batch
        assert relabels > 0 and new > 0  # one scale: the batch mixes re-labels and first labels


def test_make_wall_robot_annotation_files(tmp_path, shared_file):
    out_dir = tmp_path / "wr"
    data = shared_file("wall_robot.csv")
    out = _run(WALL_ROBOT_SCRIPT, ["--data", str(data), "--out", str(out_dir), "--seed", "0"], tmp_path)
    assert re.search(r"\d+ rows, \d+ labeled with \d+ labels from 12 annotators, \d+ unlabeled", out)
    assert "simulated accuracy:" in out
    for name in ("features.csv", "annotations.csv", "truth.csv"):
        assert (out_dir / name).stat().st_size > 0
    header = (out_dir / "annotations.csv").read_text().splitlines()[0]
    assert header == "example_id,annotator_id,label"


def test_wall_robot_example_without_data_stops_with_a_clear_message(tmp_path):
    proc = subprocess.run(
        [sys.executable, str(EXAMPLES / WALL_ROBOT_SCRIPT), "--data", str(tmp_path / "none.csv")],
        capture_output=True, text=True, cwd=tmp_path, timeout=120,
    )
    assert proc.returncode != 0
    assert "needs the Wall Robot CSV" in proc.stderr and "--data PATH" in proc.stderr
    assert "Traceback" not in proc.stderr
