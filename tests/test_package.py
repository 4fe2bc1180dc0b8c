"""The package's top level: public names imported on first use, none of the heavy
dependencies imported by ``import skactivelab`` alone."""

import ast
import json
import pathlib
import subprocess
import sys

import pytest

import skactivelab as sk

HEAVY = ("sklearn", "pandas", "pyarrow", "dask")


def _run(code):
    """Run ``code`` in a fresh interpreter (this one has imported everything already);
    return what it printed as JSON."""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def test_import_alone_loads_no_heavy_dependency_and_no_submodule():
    loaded = _run(
        "import json, sys\n"
        "before = set(sys.modules)\n"
        "import skactivelab\n"
        "new = sorted(set(sys.modules) - before)\n"
        "print(json.dumps(new))\n"
    )
    assert "skactivelab" in loaded
    assert not [m for m in loaded if m.split(".")[0] in HEAVY], loaded
    assert not [m for m in loaded if m.startswith("skactivelab.")], loaded


def test_every_public_name_resolves_in_a_fresh_interpreter():
    found = _run(
        "import json, skactivelab\n"
        "names = {n: getattr(skactivelab, n).__module__ for n in skactivelab.__all__}\n"
        "ns = {}\n"
        "exec('from skactivelab import *', ns)\n"
        "print(json.dumps({'modules': names, 'star': sorted(n for n in ns if not n.startswith('__')),\n"
        "                  'dir': dir(skactivelab)}))\n"
    )
    assert sorted(found["modules"]) == sorted(sk.__all__)
    assert all(m.startswith("skactivelab.") for m in found["modules"].values()), found["modules"]
    assert found["star"] == sorted(sk.__all__)
    assert set(sk.__all__) <= set(found["dir"]) and "__version__" in found["dir"]


def test_public_names_are_the_real_objects():
    from skactivelab.activelab import get_active_learning_scores
    from skactivelab.strategies import ActiveLabQuery

    assert sk.get_active_learning_scores is get_active_learning_scores
    assert sk.ActiveLabQuery is ActiveLabQuery
    assert sk.strategies.PoolRows.__module__ == "skactivelab.strategies"  # a submodule, on first use
    with pytest.raises(AttributeError, match="no attribute 'not_a_name'"):
        sk.not_a_name


def test_the_three_lists_of_public_names_agree():
    """``__all__``, the lazy table and the block read by type checkers name the same objects."""
    tree = ast.parse(pathlib.Path(sk.__file__).read_text())
    checked = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and getattr(node.test, "id", None) == "TYPE_CHECKING":
            for imp in node.body:
                checked |= {(imp.module, alias.name) for alias in imp.names}
    table = {(module, name) for name, module in sk._EXPORTS.items()}
    assert checked == table
    assert {name for _, name in table} == set(sk.__all__)
    assert len(sk.__all__) == len(set(sk.__all__))
