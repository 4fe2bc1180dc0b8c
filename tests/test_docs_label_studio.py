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
    inputs = [(lang, name, body) for lang, name, body in blocks if not name.startswith("round")]
    outputs = [(lang, name, body) for lang, name, body in blocks if name.startswith("round")]
    assert {n for _, n, _ in inputs} == {"export.json", "probs.csv", "export2.json"}
    assert {n for _, n, _ in outputs} == {"round2/next_batch.csv", "round2/import.json",
                                          "round3/consensus.csv"}
    for _, name, body in inputs:
        (tmp_path / name).write_text(body + "\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    commands = [c.replace("\\\n", " ") for c in BASH.findall(text)]
    assert len(commands) == 2  # the first round, and the next from the second export
    for command in commands:
        argv = shlex.split(command)
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
    # the import file names each example in its data, which the next export carries back
    imported = json.loads((tmp_path / "round2" / "import.json").read_text(encoding="utf-8"))
    assert all(t["data"]["skactivelab_example_id"] == t["meta"]["example_id"] for t in imported)
    assert (tmp_path / "round2" / "annotators.csv").exists()
