"""`atpn-edge` and its subcommands. Each subcommand lives in ``atpn_edge.commands.<name>`` with
``add_arguments(parser)`` and ``run(args) -> int``; modules import heavy things (torch, TensorRT)
only inside ``run``, so ``atpn-edge --help`` stays fast and works without them."""
from __future__ import annotations

import argparse
import importlib
import sys

COMMANDS = {
    "track": "track faces in a camera, video file, RTSP URL or GStreamer pipeline",
    "bench": "time the pipeline stages and the whole tracking step (or the kernels)",
    "eval": "measure accuracy (300w, aflw2000) or tracking quality (video)",
    "build": "build TensorRT engines from the ONNX model, on the device",
    "export": "export a trained checkpoint to stage 1, stage 2 and fused ONNX graphs",
    "train": "train an ATPN model from a YAML or TOML config",
    "validate": "a model's validation numbers (NME, pose MAE, face-score AUC) on a held-out split",
}


def build_parser() -> argparse.ArgumentParser:
    from . import __version__

    parser = argparse.ArgumentParser(prog="atpn-edge", description=__doc__.split("\n")[0])
    parser.add_argument("--version", action="version", version=f"atpn-edge {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, help_text in COMMANDS.items():
        module = importlib.import_module(f"atpn_edge.commands.{name}")
        p = sub.add_parser(name, help=help_text, description=help_text)
        module.add_arguments(p)
        p.set_defaults(_run=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args._run(args) or 0)
    except KeyboardInterrupt:
        print("atpn-edge: interrupted", file=sys.stderr)
        return 130
    except (ValueError, FileNotFoundError, RuntimeError, OSError) as exc:
        print(f"atpn-edge {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
