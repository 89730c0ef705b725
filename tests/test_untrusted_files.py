"""Files from elsewhere (checkpoints, model files, data set side files, configs) are data, never
code: nothing in the package unpickles freely, evals, execs or yaml.load's with a full loader.
An ast scan of every module holds the rule; the unsafe forms are named here once:

- ``pickle.load(s)``, ``marshal.load(s)``, ``shelve.open``, ``dill``/``joblib`` loads;
- ``eval(`` and ``exec(`` (the builtins; ``model.eval()`` is a method and fine);
- ``yaml.load`` without ``Loader=yaml.SafeLoader`` (or CSafeLoader), ``yaml.unsafe_load``, ``yaml.full_load``;
- ``torch.load`` without ``weights_only=True``;
- ``np.load``/``numpy.load`` with ``allow_pickle=True``;
- a ``pickle.Unpickler`` used or subclassed without a ``find_class`` that restricts what loads.
"""
from __future__ import annotations

import ast
import pickle
from pathlib import Path

import numpy as np
import pytest

from helpers import Planted

PACKAGE = Path(__file__).resolve().parents[1] / "python" / "atpn_edge"
SAFE_YAML_LOADERS = {"SafeLoader", "CSafeLoader", "BaseLoader"}


def _dotted(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    return ""


def _kw(call: ast.Call, name: str) -> ast.AST | None:
    return next((k.value for k in call.keywords if k.arg == name), None)


def _is_true(node: ast.AST | None) -> bool:
    return isinstance(node, ast.Constant) and node.value is True


def unsafe_calls(source: str, filename: str = "<src>") -> list[str]:
    found = []
    tree = ast.parse(source, filename)
    for node in ast.walk(tree):
        where = f"{filename}:{getattr(node, 'lineno', '?')}"
        if isinstance(node, ast.ClassDef):
            bases = {_dotted(b).split(".")[-1] for b in node.bases}
            methods = {n.name for n in node.body if isinstance(n, ast.FunctionDef)}
            if "Unpickler" in bases and "find_class" not in methods:
                found.append(f"{where}: Unpickler subclass {node.name} without find_class")
            continue
        if not isinstance(node, ast.Call):
            continue
        name = _dotted(node.func)
        last = name.split(".")[-1]
        if isinstance(node.func, ast.Name) and name in ("eval", "exec"):
            found.append(f"{where}: {name}(")
        elif name in ("pickle.load", "pickle.loads", "cPickle.load", "cPickle.loads", "marshal.load",
                      "marshal.loads", "shelve.open", "dill.load", "dill.loads", "joblib.load", "pickle.Unpickler"):
            found.append(f"{where}: {name}(")
        elif name in ("yaml.unsafe_load", "yaml.full_load", "yaml.load_all"):
            found.append(f"{where}: {name}(")
        elif name == "yaml.load":
            loader = _kw(node, "Loader") or (node.args[1] if len(node.args) > 1 else None)
            if loader is None or _dotted(loader).split(".")[-1] not in SAFE_YAML_LOADERS:
                found.append(f"{where}: yaml.load without a safe Loader")
        elif name == "torch.load" or (last == "load" and name.startswith("torch.")):
            if not _is_true(_kw(node, "weights_only")):
                found.append(f"{where}: {name} without weights_only=True")
        elif name in ("np.load", "numpy.load") and _is_true(_kw(node, "allow_pickle")):
            found.append(f"{where}: {name}(allow_pickle=True)")
    return found


def test_package_loads_no_code_from_files():
    bad = []
    for path in sorted(PACKAGE.rglob("*.py")):
        bad += unsafe_calls(path.read_text(), str(path.relative_to(PACKAGE.parent)))
    assert not bad, "unsafe loading of untrusted data:\n" + "\n".join(bad)


@pytest.mark.parametrize("code", [
    "import pickle\npickle.loads(b)", "pickle.load(f)", "x = eval(s)", "exec(s)", "yaml.load(t)",
    "yaml.load(t, Loader=yaml.FullLoader)", "yaml.unsafe_load(t)", "torch.load(p)",
    "torch.load(p, weights_only=False)", "np.load(p, allow_pickle=True)", "pickle.Unpickler(f).load()",
    "class U(pickle.Unpickler):\n    pass",
])
def test_scan_catches_unsafe_forms(code):
    assert unsafe_calls(code)


@pytest.mark.parametrize("code", [
    "model.eval()", "yaml.safe_load(t)", "yaml.load(t, Loader=yaml.SafeLoader)",
    "torch.load(p, map_location='cpu', weights_only=True)", "np.load(p)", "np.load(p, allow_pickle=False)",
    "class U(pickle.Unpickler):\n    def find_class(self, m, n):\n        raise pickle.UnpicklingError(n)",
])
def test_scan_passes_safe_forms(code):
    assert not unsafe_calls(code)


def test_planted_broken_frames_file_is_refused_without_running(tmp_path):
    from atpn_edge.datasets.vw300 import read_broken_frames

    ran = tmp_path / "ran"
    arr = np.empty((), dtype=object)
    arr[()] = {"401": Planted(ran)}
    np.save(tmp_path / "broken_frames.npy", arr, allow_pickle=True)
    with pytest.raises(ValueError, match="broken_frames.npy.*refusing to load"):
        read_broken_frames(tmp_path / "broken_frames.npy")
    assert not ran.exists()
    ok = np.empty((), dtype=object)
    ok[()] = {"401": [731, 732]}
    np.save(tmp_path / "ok.npy", ok, allow_pickle=True)
    assert read_broken_frames(tmp_path / "ok.npy") == {"401": {731, 732}}
    (tmp_path / "junk.npy").write_bytes(pickle.dumps({"401": [1]}))
    with pytest.raises(ValueError, match="junk.npy"):
        read_broken_frames(tmp_path / "junk.npy")
