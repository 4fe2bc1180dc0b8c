"""docs/label_studio.md runs as written: its input files, its command, its outputs."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

from skactivelab import cli

PAGE = Path(__file__).resolve().parents[1] / "docs" / "label_studio.md"
BLOCK = re.compile(r"```\{code-block\} (\w+)\n:caption: (\S+)\n\n(.*?)\n```", re.S)
BASH = re.compile(r"```bash\n(.*?)```", re.S)


def test_label_studio_page_runs_as_written(tmp_path, monkeypatch, capsys):
    text = PAGE.read_text(encoding="utf-8")
    blocks = BLOCK.findall(text)
    inputs = [(lang, name, body) for lang, name, body in blocks if not name.startswith("round2/")]
    outputs = [(lang, name, body) for lang, name, body in blocks if name.startswith("round2/")]
    assert {n for _, n, _ in inputs} == {"export.json", "probs.csv"}
    assert {n for _, n, _ in outputs} == {"round2/next_batch.csv", "round2/import.json"}
    for _, name, body in inputs:
        (tmp_path / name).write_text(body + "\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    commands = [c.replace("\\\n", " ") for c in BASH.findall(text)]
    assert len(commands) == 1
    argv = shlex.split(commands[0])
    assert argv[0] == "skactivelab"
    assert cli.main(argv[1:]) == 0
    capsys.readouterr()
    for lang, name, body in outputs:
        written = (tmp_path / name).read_text(encoding="utf-8")
        if lang == "json":
            assert json.loads(written) == json.loads(body)
        else:
            assert written.rstrip("\n") == body
    assert (tmp_path / "round2" / "consensus.csv").exists()
    assert (tmp_path / "round2" / "annotators.csv").exists()
