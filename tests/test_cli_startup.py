"""Start-up of the command line: ``--version``, a light ``--help``, a first progress line
before any heavy import, and a benchmark that says what it needs when it is offline.

Two views of "light". The command line's own modules are checked on their own: a script
puts a bare ``skactivelab`` package in place (its ``__init__`` not run) and stops, or
refuses, any import of a heavy package. The whole program (``python -m skactivelab``,
``skactivelab/__init__`` included) is checked the same way, but those tests only pass once
``skactivelab/__init__`` imports the library's public names lazily: until then they are
expected to fail (xfail, with that reason).
"""

import functools
import json
import subprocess
import sys
import textwrap
import urllib.error
import warnings
from pathlib import Path

import pytest

import skactivelab
from skactivelab import cli

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("numpy", "scipy", "sklearn", "joblib", "pandas", "pyarrow", "dask", "distributed",
         "matplotlib")

#: Runs ``skactivelab.cli.main(argv)`` in a fresh interpreter and prints, as JSON on the last
#: line of stdout, the exit status and which heavy packages were imported. ``MODE``:
#: "block" refuses heavy imports (ImportError), "stop" prints a marker line to stderr and
#: ends the process at the first one. ``BARE``: a bare skactivelab package, its __init__
#: not run (the command line's own imports alone).
SCRIPT = textwrap.dedent("""
    import importlib.abc, importlib.machinery, json, os, sys, types
    HEAVY, MODE, BARE, ROOT, ARGV = {heavy!r}, {mode!r}, {bare!r}, {root!r}, {argv!r}

    class Heavy(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.partition(".")[0] not in HEAVY:
                return None
            if MODE == "stop":
                sys.stderr.write("HEAVY IMPORT " + name + "\\n")
                sys.stderr.flush()
                sys.stdout.flush()
                os._exit(0)
            raise ImportError("blocked in this test: " + name)

    sys.meta_path.insert(0, Heavy())
    if BARE:
        pkg = types.ModuleType("skactivelab")
        pkg.__path__ = [os.path.join(ROOT, "skactivelab")]
        pkg.__spec__ = importlib.machinery.ModuleSpec("skactivelab", None, is_package=True)
        pkg.__spec__.submodule_search_locations = pkg.__path__
        pkg.__version__ = "0+bare"
        sys.modules["skactivelab"] = pkg
    sys.argv = ["skactivelab"] + ARGV
    import runpy
    try:
        runpy.run_module("skactivelab", run_name="__main__", alter_sys=True)
        status = None
    except SystemExit as exc:
        status = exc.code
    loaded = sorted(m for m in HEAVY if m in sys.modules)
    print(json.dumps({{"status": status, "loaded": loaded}}))
""")


def _run(argv, mode, bare):
    script = SCRIPT.format(heavy=HEAVY, mode=mode, bare=bare, root=str(ROOT), argv=argv)
    return subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          cwd=ROOT, timeout=300, check=False)


def _report(proc):
    assert proc.stdout.strip(), proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


@functools.lru_cache(maxsize=None)
def _init_is_lazy():
    """Whether ``import skactivelab`` alone leaves scikit-learn unimported."""
    proc = subprocess.run([sys.executable, "-c", "import sys, skactivelab; "
                           "print('sklearn' in sys.modules)"], capture_output=True, text=True,
                          cwd=ROOT, check=True)
    return proc.stdout.strip() == "False"


@pytest.fixture(params=["cli modules", "whole program"])
def bare(request):
    """True: the command line's own modules; False: ``python -m skactivelab`` as it is."""
    if request.param == "whole program" and not _init_is_lazy():
        request.applymarker(pytest.mark.xfail(
            reason="skactivelab/__init__ still imports scikit-learn eagerly (the lazy "
                   "__init__ is on its way)", strict=True))
    return request.param == "cli modules"


# --------------------------------------------------------------------------- --version
def test_version_prints_the_package_version(capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out == f"skactivelab {skactivelab.__version__}\n"


def test_python_m_skactivelab_version():
    proc = subprocess.run([sys.executable, "-m", "skactivelab", "--version"],
                          capture_output=True, text=True, cwd=ROOT, check=False)
    assert (proc.returncode, proc.stdout, proc.stderr) == (
        0, f"skactivelab {skactivelab.__version__}\n", "")


# --------------------------------------------------------------------------- a light --help
@pytest.mark.parametrize("argv", [["--help"], ["--version"], ["demo", "--help"],
                                  ["benchmark", "--help"], ["score", "--help"],
                                  ["fit", "--help"]])
def test_help_and_version_import_no_heavy_package(argv, bare):
    proc = _run(argv, "block", bare)
    assert _report(proc) == {"status": 0, "loaded": []}, proc.stderr
    assert ("usage: skactivelab" in proc.stdout) == ("--help" in argv)


def test_help_still_names_the_defaults_resolved_later(capsys):
    with pytest.raises(SystemExit):
        cli.main(["fit", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert "(default: 2, or 1 on a single CPU)" in out and "extratrees" in out


def test_unknown_fit_model_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["fit", "--features", "f.csv", "--annotations", "a.csv", "--batch", "1",
                  "--out-dir", "o", "--model", "boosted"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1
    assert err.startswith("skactivelab fit: error: argument --model: unknown model 'boosted'")
    assert "extratrees, randomforest, logreg, knn, mlp, hgb, logistic" in err


def test_default_n_jobs_is_resolved_when_the_command_runs(tmp_path, monkeypatch, capsys):
    from skactivelab.cli import _common

    monkeypatch.setattr(_common, "default_n_jobs", lambda: 1)  # as on a single CPU
    seen = {}
    import skactivelab.simulation as simulation

    def fake_run_benchmark(X, y, **kw):
        seen.update(kw)
        raise KeyboardInterrupt  # stop here: only the arguments matter

    monkeypatch.setattr(simulation, "run_benchmark", fake_run_benchmark)
    code = cli.main(["demo", "--out", str(tmp_path / "d"), "--quiet"])
    assert code == 130 and seen["n_jobs"] == 1
    code = cli.main(["demo", "--out", str(tmp_path / "d"), "--quiet", "--n-jobs", "3"])
    assert code == 130 and seen["n_jobs"] == 3


# --------------------------------------------------------------------------- first line
@pytest.mark.parametrize("argv, first", [
    (["demo", "--rounds", "1", "--batch", "5"],
     "skactivelab: demo: loading scikit-learn's digits, then random, uncertainty, activelab: "
     "1 round of 5 labels each (seed 0)"),
    (["benchmark", "--dataset", "digits", "--rounds", "2", "--batch", "5", "--seeds", "3",
      "--methods", "random,activelab"],
     "skactivelab: benchmark: loading digits, then 2 methods x 3 seeds: 2 rounds of 5 "
     "labels each"),
])
def test_first_progress_line_comes_before_any_heavy_import(argv, first, bare, tmp_path):
    """The run is stopped at its first heavy import: by then the first line is out."""
    proc = _run(argv + ["--out", str(tmp_path / "out")], "stop", bare)
    lines = proc.stderr.splitlines()
    assert len(lines) == 2 and lines[0].startswith(first), proc.stderr
    assert lines[1].startswith("HEAVY IMPORT ")
    quiet = _run(argv + ["--out", str(tmp_path / "out"), "--quiet"], "stop", bare)
    assert quiet.stderr.splitlines()[0].startswith("HEAVY IMPORT ")  # --quiet: nothing before


def test_benchmark_downloading_says_so_first(monkeypatch, tmp_path, capsys):
    monkeypatch.delenv("SKACTIVELAB_WALL_ROBOT", raising=False)
    _stop_before_loading(monkeypatch)
    cli.main(["benchmark", "--rounds", "1", "--out", str(tmp_path)])
    first = capsys.readouterr().err.splitlines()[0]
    assert first.startswith("skactivelab: benchmark: downloading wall_robot from OpenML "
                            "(dataset 1526; needs the internet), then 5 methods x 5 seeds: 1 round of")
    cli.main(["benchmark", "--rounds", "1", "--out", str(tmp_path), "--data", "w.csv"])
    assert capsys.readouterr().err.startswith("skactivelab: benchmark: loading wall_robot "
                                              "from w.csv, then")


def _stop_before_loading(monkeypatch):
    import skactivelab.datasets as datasets

    def stop(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(datasets, "load_dataset", stop)


# --------------------------------------------------------------------------- offline
def _offline_fetch(*args, **kwargs):
    """What scikit-learn's fetch_openml does without a network: warn, retry, give up."""
    warnings.warn("A network error occurred while downloading "
                  "https://www.openml.org/api/v1/json/data/1526. Retrying...", UserWarning)
    raise urllib.error.URLError(ConnectionRefusedError(111, "Connection refused"))


@pytest.mark.parametrize("quiet", [True, False])
def test_benchmark_offline_says_to_download_or_give_data(monkeypatch, tmp_path, capsys, quiet):
    import sklearn.datasets

    monkeypatch.delenv("SKACTIVELAB_WALL_ROBOT", raising=False)
    monkeypatch.setattr(sklearn.datasets, "fetch_openml", _offline_fetch)
    code = cli.main(["benchmark", "--out", str(tmp_path / "o")] + (["--quiet"] if quiet else []))
    out, err = capsys.readouterr()
    lines = err.splitlines()
    assert code == 2 and out == "" and len(lines) == (1 if quiet else 2)
    error = lines[-1]
    assert error.startswith("skactivelab: error: --dataset wall_robot is downloaded from OpenML "
                            "(dataset 1526), which needs the internet, and the download failed "
                            "([Errno 111] Connection refused).")
    assert "--data path/to/wall_robot.csv" in error and "--dataset digits" in error
    assert "Retrying" not in err and "Traceback" not in err and "urlopen" not in err
    assert not (tmp_path / "o").exists()


def test_benchmark_missing_local_file_is_not_called_a_download(monkeypatch, tmp_path, capsys):
    monkeypatch.delenv("SKACTIVELAB_WALL_ROBOT", raising=False)
    code = cli.main(["benchmark", "--data", str(tmp_path / "nope.csv"), "--quiet",
                     "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("skactivelab: error: cannot load wall_robot: Wall "
                                        "Robot CSV not found at")
    assert "download failed" not in err


# --------------------------------------------------------------------------- per round
@pytest.mark.slow
def test_round_lines_come_from_worker_processes_too(tmp_path):
    """With --n-jobs 2 the runs are in worker processes; their round lines reach stderr."""
    proc = subprocess.run(
        [sys.executable, "-m", "skactivelab", "benchmark", "--dataset", "digits", "--rounds",
         "1", "--batch", "20", "--seeds", "1", "--methods", "random,activelab", "--model",
         "knn", "--n-jobs", "2", "--out", str(tmp_path)],
        capture_output=True, text=True, cwd=ROOT, timeout=600, check=False)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stderr.splitlines()
    assert lines[0].startswith("skactivelab: benchmark: loading digits")
    for method in ("random", "activelab"):
        for r in (0, 1):
            assert sum(ln.startswith(f"skactivelab: benchmark: {method} seed 0, round {r} of 1: "
                                     "test accuracy ") for ln in lines) == 1, proc.stderr


# --------------------------------------------------------------------------- messages
#: Words no sentence ends with: a message ending with one stops mid-sentence.
DANGLING = {"is", "are", "was", "were", "be", "the", "a", "an", "of", "to", "and", "or", "with",
            "by", "for", "from", "that", "which", "its", "their"}


def _text(node):
    """The text of a string expression (placeholders as ``{}``), or None."""
    import ast

    if isinstance(node, ast.Constant):
        return node.value if isinstance(node.value, str) else None
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value if isinstance(v, ast.Constant) else "{}" for v in node.values)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _text(node.left), _text(node.right)
        return None if left is None or right is None else left + right
    return None


def _messages(source):
    """``(line, text)`` of every string expression of five words or more in ``source`` that
    is not a docstring nor a part of a longer string expression."""
    import ast

    tree = ast.parse(source)
    skip = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr):
            skip.add(id(body[0].value))  # a docstring (or a bare expression)
        if isinstance(node, ast.JoinedStr):
            skip.update(id(v) for v in node.values)
        if isinstance(node, ast.BinOp):
            skip.update((id(node.left), id(node.right)))
    for node in ast.walk(tree):
        text = None if id(node) in skip else _text(node)
        if text and len(text.split()) >= 5:
            yield node.lineno, text


def _cut(text):
    import re

    words = re.findall(r"[A-Za-z']+|\S", text.strip())
    return bool(words) and words[-1].lower() in DANGLING


def test_messages_end_as_whole_sentences():
    """Every message of the package (errors, warnings, notes, progress) ends with a word a
    sentence can end with."""
    cut = [f"{path.relative_to(ROOT)}:{line}: ...{text[-50:]!r}"
           for path in sorted((ROOT / "skactivelab").rglob("*.py"))
           for line, text in _messages(path.read_text()) if _cut(text)]
    assert not cut, f"messages that stop mid-sentence: {cut}"


def test_the_sentence_check_can_fail():
    made_up = ('def f(x):\n    """Doc string of five words or more, ending with the"""\n'
               '    g(f"{x}: the rows are not used, the row of each example is")\n'
               '    g("these rows are not used; " + f"each example\'s own row is used instead")\n')
    found = [(line, _cut(text)) for line, text in _messages(made_up)]
    assert found == [(3, True), (4, False)]
