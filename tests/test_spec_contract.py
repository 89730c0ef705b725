"""docs/SPEC.md says what the code does: the facts it lists are compared with the code here, so a
change to one without the other fails."""
from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from atpn_edge.cli import COMMANDS
from atpn_edge.commands.eval import TARGETS
from atpn_edge.core.model_info import ModelInfo
from atpn_edge.runtime.models import GRAPH_IO
from atpn_edge.runtime.pipeline import STAGES
from atpn_edge.runtime.select import BACKENDS

SPEC = (Path(__file__).resolve().parents[1] / "docs" / "SPEC.md").read_text(encoding="utf-8")


def section(title: str) -> str:
    m = re.search(rf"^#+ {re.escape(title)}\n(.*?)(?=^#+ |\Z)", SPEC, re.S | re.M)
    assert m, f"docs/SPEC.md has no section {title!r}"
    return m.group(1)


def test_graph_io_names():
    table = section("Model files and their I/O")
    for kind, label in (("stage1", "stage 1"), ("stage2", "stage 2"), ("fused", "fused")):
        row = next(line for line in table.splitlines() if line.startswith(f"| {label} |"))
        inputs, outputs = row.split("|")[2:4]
        assert set(re.findall(r"`(\w+)`", inputs)) == set(GRAPH_IO[kind][0]), kind
        assert set(re.findall(r"`(\w+)`", outputs)) == set(GRAPH_IO[kind][1]), kind


def test_metadata_keys():
    text = section("Metadata")
    required_text, optional_text = text.split("Required:")[1].split("\n\n")[0].split("Optional:")
    required = {f.name for f in dataclasses.fields(ModelInfo)
                if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING}
    optional = {f.name for f in dataclasses.fields(ModelInfo)} - required
    assert set(re.findall(r"`(\w+)`", required_text)) >= required
    named_optional = set(re.findall(r"`(\w+)`", optional_text))
    assert optional <= named_optional
    assert not (required & named_optional)


def test_stages_backends_and_commands():
    runtime = section("What the runtime returns")
    assert re.findall(r"`(\w+)`", runtime.split("stage:")[1].split(")")[0]) == list(STAGES)
    for name in BACKENDS:
        assert f"`{name}`" in runtime
    cli = section("Command line")
    first_sentence = cli.split("`--model`")[0]  # "`atpn-edge COMMAND` (...): `track`, `bench`, ..."
    listed = set(re.findall(r"`(\w+)`", first_sentence))
    assert set(COMMANDS) <= listed, set(COMMANDS) - listed
    for target in TARGETS:
        assert f"`eval {target}" in cli, target


def test_heatmap_formula_is_the_trainings():
    kernels = section("Kernels")
    assert "heat[n, 0, y, x] = max_k exp( -((x + 0.5 - W*l[n,k,0])^2 + (y + 0.5 - H*l[n,k,1])^2) / (2 s^2) )" in kernels
    torch_form = (Path(__file__).resolve().parents[1] / "python" / "atpn_edge" / "train" / "heatmap.py").read_text()
    assert "max_k exp(-((x + 0.5 - W*l[n,k,0])^2 + (y + 0.5 - H*l[n,k,1])^2) / (2 s^2))" in torch_form
