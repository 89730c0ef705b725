"""The layer rule (docs/ARCHITECTURE.md): a module never imports a layer above its own.

    core < kernels (kernels.py, _cpu, _cuda, cuda/) < runtime < detection < tracking
         < io < eval, bench < commands, cli

``datasets`` is a side branch that may use ``core`` only and is used by eval, bench, commands and
train. ``train`` (PyTorch) is imported by nothing but the commands that run it. Every import in
every module counts, also the ones inside functions, so a lazy import cannot hide an upward edge.
"""
from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "python" / "atpn_edge"

RANKS = {"core": 0, "kernels": 1, "_cpu": 1, "_cuda": 1, "cuda": 1, "runtime": 2,
         "detection": 3, "tracking": 4, "io": 5, "eval": 6, "bench": 6, "commands": 7, "cli": 7,
         "__main__": 7}
# The package root re-exports Tracker and Face: importing it loads the tracker, so it ranks there.
ROOT_RANK = RANKS["tracking"]
SIDE = {"datasets": {"core", "datasets"}, "train": None}  # allowed imports (None: anything below cli)
TRAIN_USERS = {"commands", "train"}
DATASET_USERS = {"eval", "bench", "commands", "train", "datasets"}


MODULE_PATH = re.compile(r"^atpn_edge(\.\w+)+$")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def is_submodule(name: str) -> bool:
    """A package, a .py file or a native module (``_cpu``/``_cuda``, built or not) of that name."""
    return (PACKAGE / name).is_dir() or (PACKAGE / f"{name}.py").exists() or name in ("_cpu", "_cuda")


def imported_modules(path: Path) -> set[str]:
    """Absolute names of the atpn_edge modules (or names from the package root) a file imports."""
    mod = module_name(path)
    package = mod if path.name == "__init__.py" else mod.rpartition(".")[0]
    found: set[str] = set()
    tree = ast.parse(path.read_text(), str(path))
    if "import_module" in path.read_text():  # importlib.import_module("atpn_edge.x") by name
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and MODULE_PATH.match(node.value):
                found.add(node.value)
            elif isinstance(node, ast.JoinedStr) and node.values and isinstance(node.values[0], ast.Constant):
                prefix = str(node.values[0].value).rstrip(".")
                if MODULE_PATH.match(prefix):
                    found.add(prefix)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.split(".")[0] == "atpn_edge")
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.split(".")[0] != "atpn_edge":
                continue
            if target == "atpn_edge":  # `from atpn_edge import x`: x may be a module or a root name
                found.update(f"atpn_edge.{a.name}" if is_submodule(a.name) else "atpn_edge" for a in node.names)
            else:
                found.add(target)
    return found


def top(name: str) -> str:
    """Layer key of a module name: its first part below atpn_edge ('' for the package root)."""
    parts = name.split(".")
    return parts[1] if len(parts) > 1 else ""


def rank(key: str) -> int:
    return ROOT_RANK if key == "" else RANKS[key]


def violation(src: str, dst: str) -> str | None:
    a, b = top(src), top(dst)
    if a == b:
        return None
    if b == "train" and a not in TRAIN_USERS:
        return "train is imported only by the commands that run it"
    if b == "datasets" and a not in DATASET_USERS:
        return f"datasets is used by {sorted(DATASET_USERS - {'datasets'})} only"
    if a in SIDE:
        allowed = SIDE[a]
        if allowed is not None and b not in allowed:
            return f"{a} may import only {sorted(allowed)}"
        if allowed is None and b in ("commands", "cli", "__main__"):
            return f"{a} must not import the command line"
        return None
    if b in SIDE:
        return None
    if a not in RANKS and a != "":
        return f"{a} has no layer: add it to RANKS in tests/test_layers.py and docs/ARCHITECTURE.md"
    if b not in RANKS and b != "":
        return f"{b} has no layer"
    if a == "" or rank(b) <= rank(a):
        return None
    return f"upward: {a or 'atpn_edge'} (layer {rank(a)}) imports {b or 'atpn_edge'} (layer {rank(b)})"


def all_edges() -> list[tuple[str, str]]:
    edges = []
    for path in sorted(PACKAGE.rglob("*.py")):
        src = module_name(path)
        edges += [(src, dst) for dst in sorted(imported_modules(path))]
    return edges


def test_layer_walk_sees_the_package():
    edges = all_edges()
    assert len({s for s, _ in edges}) > 40, "the import walk found too few modules"
    assert ("atpn_edge.tracking.tracker", "atpn_edge.runtime") in edges


def test_no_upward_import():
    bad = [f"{s} -> {d}: {why}" for s, d in all_edges() if (why := violation(s, d))]
    assert not bad, "layer rule broken (docs/ARCHITECTURE.md):\n" + "\n".join(bad)


@pytest.mark.parametrize("src,dst", [("atpn_edge.core.crop", "atpn_edge.runtime"),
                                     ("atpn_edge.runtime.pipeline", "atpn_edge.tracking.tracker"),
                                     ("atpn_edge.kernels", "atpn_edge"),
                                     ("atpn_edge.tracking.tracker", "atpn_edge.train.model"),
                                     ("atpn_edge.runtime.quantize", "atpn_edge.datasets"),
                                     ("atpn_edge.datasets.sample", "atpn_edge.runtime")])
def test_rule_catches_upward_edges(src, dst):
    assert violation(src, dst) is not None


def test_string_imports_count():
    edges = all_edges()
    assert ("atpn_edge.commands.eval", "atpn_edge.commands.eval_video") in edges  # importlib by name
    assert ("atpn_edge.cli", "atpn_edge.commands") in edges  # f"atpn_edge.commands.{name}"


def test_runtime_tracker_and_cli_help_load_no_torch():
    """The runtime, the tracker, the sources and the whole command-line parser (``--help``) work
    without the training extra."""
    code = ("import sys, atpn_edge.runtime, atpn_edge.tracking.tracker, atpn_edge.io.sources, atpn_edge.cli; "
            "atpn_edge.cli.build_parser(); "
            "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'torchvision', 'scipy', 'yaml')); "
            "print(bad); raise SystemExit(1 if bad else 0)")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, f"importing the runtime loaded training-only modules: {res.stdout}{res.stderr}"
