"""The documentation site builds with warnings as errors; the README opens with the two commands."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _readme_commands():
    text = (ROOT / "README.md").read_text()
    block = re.search(r"```bash\n(.*?)```", text, re.S)
    assert block and text.index("```bash") < text.index("##")
    return [c for c in block.group(1).splitlines() if c.strip()]


def test_readme_opens_with_two_setup_commands():
    commands = _readme_commands()
    assert len(commands) == 2
    assert "skactivelab demo" in commands[0]
    assert "pytest" in commands[1] and ".[test]" in commands[1]


def test_readme_commands_install_into_their_own_virtual_environment():
    """A system Python may refuse pip installs (PEP 668): each command makes (or reuses)
    .venv and runs pip and the rest with its Python, never the system's."""
    for command in _readme_commands():
        steps = command.split(" && ")
        assert steps[0] == "python3 -m venv .venv"
        assert all(step.startswith(".venv/bin/python -m ") for step in steps[1:]), command


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    marker = [i for i, line in enumerate(ci) if "The README's test command (keep the two in sync)" in line]
    assert len(marker) == 1, ".ci/run must mark the README's test command with its comment"
    command = next(line for line in ci[marker[0] + 1:] if "pytest" in line)
    assert command.removesuffix(" || status=$?") == _readme_commands()[1]


@pytest.mark.slow
def test_sphinx_builds_without_warnings(tmp_path):
    sphinx = pytest.importorskip("sphinx.cmd.build")
    pytest.importorskip("myst_parser")
    pytest.importorskip("numpydoc")
    status = sphinx.build_main(
        ["-q", "-W", "-b", "html", "-d", str(tmp_path / "doctrees"), str(ROOT / "docs"), str(tmp_path / "html")]
    )
    assert status == 0
    assert (tmp_path / "html" / "index.html").exists()
