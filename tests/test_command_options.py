"""--model/--backend/--threads are declared once (commands/options.py) and checked at parse time."""
from __future__ import annotations

import argparse

import pytest

from atpn_edge.cli import build_parser
from atpn_edge.commands import options


def _subparsers(parser: argparse.ArgumentParser, prefix: str = ""):
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield f"{prefix}{name}", sub
                yield from _subparsers(sub, f"{prefix}{name} ")


def _option(p: argparse.ArgumentParser, flag: str):
    return next((a for a in p._actions if flag in a.option_strings), None)


def test_every_command_declares_the_shared_options_the_same_way():
    reference = argparse.ArgumentParser()
    options.add_model_options(reference)
    seen = 0
    for name, sub in _subparsers(build_parser()):
        for flag in ("--model", "--backend", "--threads"):
            got, want = _option(sub, flag), _option(reference, flag)
            if got is None:
                continue
            seen += 1
            assert (got.type, got.default, got.choices, got.help) == (want.type, want.default, want.choices, want.help), \
                f"`atpn-edge {name}` declares {flag} itself; use commands/options.py"
    assert seen >= 10


@pytest.mark.parametrize("argv", [["track", "0", "--threads", "0"], ["track", "0", "--backend", "gpu"],
                                  ["eval", "video", "v.mp4", "--threads", "-1"],
                                  ["eval", "video", "v.mp4", "--score-threshold", "1.5"],
                                  ["eval", "300w", "root", "--threads", "two"], ["bench", "--threads", "0"]])
def test_bad_shared_options_stop_at_parse_time(argv, capsys):
    with pytest.raises(SystemExit) as exc:
        build_parser().parse_args(argv)
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "--threads" in err or "--backend" in err or "--score-threshold" in err


def test_option_types():
    assert options.positive_int("3") == 3 and options.non_negative_int("0") == 0
    assert options.open_unit_float("0.5") == 0.5
    for fn, text in [(options.positive_int, "0"), (options.non_negative_int, "-1"), (options.open_unit_float, "nan"),
                     (options.open_unit_float, "0"), (options.positive_int, "1.5")]:
        with pytest.raises(argparse.ArgumentTypeError):
            fn(text)
