"""What a user meets first: `atpn-edge --help`, help on every option, nonsense options refused by
argparse, one line (no traceback) when an optional extra is missing, and the README's test command."""
from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import pytest

from atpn_edge.cli import build_parser, main

REPO = Path(__file__).resolve().parents[1]


def test_top_level_help_describes_the_product():
    r = subprocess.run([sys.executable, "-m", "atpn_edge", "--help"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0
    assert "Real-time face tracking" in r.stdout and "examples:" in r.stdout and "Each subcommand lives" not in r.stdout


def _options_without_help(parser: argparse.ArgumentParser, path: str) -> list[str]:
    missing = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                missing += _options_without_help(sub, f"{path} {name}")
        elif not action.help or action.help == argparse.SUPPRESS:
            missing.append(f"{path} {'/'.join(action.option_strings) or action.dest}")
    return missing


def test_every_option_of_every_command_has_help():
    assert _options_without_help(build_parser(), "atpn-edge") == []


@pytest.mark.parametrize("option, value, says", [
    ("--score-threshold", "0", "strictly between 0 and 1"), ("--score-threshold", "1.5", "strictly between 0 and 1"),
    ("--score-threshold", "nan", "finite"), ("--max-frames", "0", "at least 1"), ("--max-frames", "-3", "at least 1"),
    ("--threads", "0", "at least 1"), ("--max-faces", "0", "at least 1"), ("--detect-every", "-1", "at least 0"),
    ("--read-timeout", "0", "more than 0"), ("--open-timeout", "-2", "more than 0"), ("--reconnect", "-1", "at least 0"),
    ("--threads", "two", "integer expected"),
])
def test_track_refuses_nonsense_options_before_anything_runs(tmp_path, capsys, option, value, says):
    with pytest.raises(SystemExit) as stop:
        main(["track", str(tmp_path / "missing.mp4"), option, value])
    err = capsys.readouterr().err
    assert stop.value.code == 2 and f"argument {option}" in err and says in err


BLOCK = "import sys\nfor m in {mods!r}: sys.modules[m] = None  # as if not installed\n" \
        "from atpn_edge.cli import main\nsys.exit(main(sys.argv[1:]))\n"


@pytest.mark.parametrize("argv, blocked, extra", [
    (["train", "configs/atpn68.yaml"], ("torch", "yaml"), "torch"),
    (["export", "best.pt", "--out", "model"], ("torch",), "torch"),
    (["eval", "aflw2000", "{root}"], ("scipy",), "atpn-edge[eval]"),
])
def test_a_missing_extra_is_one_line_naming_what_to_install(tmp_path, argv, blocked, extra):
    (tmp_path / "image00002.jpg").write_bytes(b"")
    (tmp_path / "image00002.mat").write_bytes(b"")
    argv = [a.replace("{root}", str(tmp_path)) for a in argv]
    r = subprocess.run([sys.executable, "-c", BLOCK.format(mods=blocked), *argv], capture_output=True, text=True,
                       timeout=60, cwd=REPO)
    assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and extra in lines[0] and "pip install" in lines[0], r.stderr


def test_readme_and_ci_run_the_same_test_command_and_say_how_to_get_cpu_torch():
    readme, ci = (REPO / "README.md").read_text(), (REPO / ".ci" / "run").read_text()
    assert "scripts/test.sh" in readme and "\nscripts/test.sh" in ci
    assert "pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu" in readme
