"""``--report FILE.html``: one self-contained page of a round, checked as HTML and in a
headless browser (Debian's chromium, when installed: .ci/run installs it; the test
installs nothing and skips with the reason otherwise)."""

from __future__ import annotations

import csv
import html.parser
import os
import shutil
import subprocess
import tempfile
import time

import numpy as np
import pytest

from skactivelab import cli

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


class _Page(html.parser.HTMLParser):
    """Tags, classes and ids of a page, and every URL it would load."""

    def __init__(self):
        super().__init__()
        self.tags, self.classes, self.ids, self.urls = [], [], set(), []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append(tag)
        self.classes.append(a.get("class"))
        if "id" in a:
            self.ids.add(a["id"])
        for k in ("src", "href", "data", "action"):
            if a.get(k):
                self.urls.append(a[k])


def make_round(tmp_path, capsys, n=60, seed=0):
    """A scored round with --report; returns the report's path and what was scored."""
    rng = np.random.default_rng(seed)
    people = ["ann", "bob", "cy", "<dee & co>"]  # a name that must be escaped
    y = rng.integers(2, size=n)
    rows = []
    for i in range(n - 10):  # the last ten: the pool
        for j in rng.choice(4, size=2, replace=False):
            lab = y[i] if rng.random() < (0.9, 0.8, 0.7, 0.6)[j] else 1 - y[i]
            rows.append([f"e{i}", people[j], ("no", "yes")[lab]])
    with open(tmp_path / "ann.csv", "w", newline="") as fh:
        csv.writer(fh).writerows([["example_id", "annotator_id", "label"], *rows])
    P = rng.dirichlet([2, 2], n)
    with open(tmp_path / "p.csv", "w", newline="") as fh:
        csv.writer(fh).writerows([["example_id", "no", "yes"],
                                  *([f"e{i}", *P[i].tolist()] for i in range(n))])
    report = tmp_path / "round.html"
    code = cli.main(["score", "--annotations", str(tmp_path / "ann.csv"), "--pred-probs",
                     str(tmp_path / "p.csv"), "--batch", "12", "--suggest-annotators",
                     "--out-dir", str(tmp_path / "out"), "--report", str(report)])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert str(report) in out
    return report, people


def test_report_is_one_self_contained_page(tmp_path, capsys):
    report, people = make_round(tmp_path, capsys)
    text = report.read_text(encoding="utf-8")
    page = _Page()
    page.feed(text)
    assert page.urls == []  # nothing to fetch: no script, image, font or style sheet
    assert "<script" not in text and "http://" not in text.replace(
        'xmlns="http://www.w3.org/2000/svg"', "")
    assert {"accuracy-plot", "confidence-histogram", "annotator-table",
            "batch-table"} <= page.ids
    assert page.classes.count("annotator-row") == len(people)
    assert page.classes.count("batch-row") == 12
    assert "&lt;dee &amp; co&gt;" in text and "<dee & co>" not in text
    # the annotator rows follow annotators.csv (least accurate first), in percent
    rows = list(csv.DictReader(open(tmp_path / "out" / "annotators.csv")))
    first = rows[0]
    pct = f"{100 * float(first['estimated_accuracy']):.0f}%"
    cell = f"<td>{first['annotator_id'].replace('&', '&amp;').replace('<', '&lt;').replace('>', '&gt;')}</td><td class=\"num\">{pct}</td>"
    assert cell in text
    # the batch: as many re-labels as next_batch.csv says
    batch = list(csv.DictReader(open(tmp_path / "out" / "next_batch.csv")))
    n_re = sum(r["relabel"] == "true" for r in batch)
    assert f"<span>{n_re} re-labels</span>" in text
    assert f"<span>{len(batch) - n_re} first labels</span>" in text


def test_report_is_refused_over_an_input(tmp_path, capsys):
    make_round(tmp_path, capsys)
    code = cli.main(["score", "--annotations", str(tmp_path / "ann.csv"), "--pred-probs",
                     str(tmp_path / "p.csv"), "--batch", "3", "--out", str(tmp_path / "b.csv"),
                     "--report", str(tmp_path / "p.csv")])
    _, err = capsys.readouterr()
    assert code == 2 and "--report" in err
    assert not (tmp_path / "b.csv").exists()


@pytest.fixture
def chromium():
    """Debian's chromium, or a skip saying why. Under .ci/run, which installs it in the
    background, first wait for that job to end (SKACTIVELAB_CHROMIUM_DONE); the test
    installs nothing."""
    done = os.environ.get("SKACTIVELAB_CHROMIUM_DONE")
    t0 = time.monotonic()
    while done and not os.path.exists(done) and time.monotonic() - t0 < 600:
        time.sleep(1)
    found = shutil.which("chromium") or (
        "/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else None)
    if found is None:
        pytest.skip("chromium is not installed (Debian: apt-get install chromium; .ci/run "
                    "installs it); the test installs nothing")

    def run(*args, timeout=120):
        with tempfile.TemporaryDirectory(prefix="skactivelab-chromium-") as profile:
            return subprocess.run([found, *FLAGS, f"--user-data-dir={profile}", *args],
                                  capture_output=True, text=False, timeout=timeout,
                                  stdin=subprocess.DEVNULL)

    return run


def test_report_renders_in_a_headless_browser(tmp_path, capsys, chromium):
    report, people = make_round(tmp_path, capsys)
    url = report.resolve().as_uri()
    dom = chromium("--dump-dom", url).stdout.decode("utf-8", "replace")
    page = _Page()
    page.feed(dom)
    # the browser built the tables and both plots from the page
    assert page.classes.count("annotator-row") == len(people)
    assert page.classes.count("batch-row") == 12
    assert {"accuracy-plot", "confidence-histogram"} <= page.ids
    assert page.tags.count("circle") == len(people)  # one dot per annotator
    shot = tmp_path / "shot.png"
    chromium("--window-size=1000,1400", f"--screenshot={shot}", url)
    assert shot.exists(), "chromium wrote no screenshot"
    Image = pytest.importorskip("PIL.Image")
    pixels = np.asarray(Image.open(shot).convert("RGB"), dtype=np.int64)
    assert pixels.shape[:2] == (1400, 1000)
    # not blank: dark text, the plots' blue, and many distinct colours
    assert (pixels.sum(axis=2) < 200).mean() > 0.002
    blue = (abs(pixels[..., 0] - 0x3b) < 30) & (abs(pixels[..., 1] - 0x6f) < 30) & (
        abs(pixels[..., 2] - 0xb6) < 30)
    assert blue.sum() > 500
    assert len(np.unique(pixels.reshape(-1, 3), axis=0)) > 50
