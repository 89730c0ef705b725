"""`atpn-edge eval TARGET ...`: accuracy on a data set. Each target lives in its own module with
``add_arguments(parser)`` and ``run(args) -> int`` (``args.target`` says which target ran); add a
target by adding a line to ``TARGETS``."""
from __future__ import annotations

import argparse
import importlib

TARGETS: dict[str, tuple[str, str]] = {
    "300w": ("landmarks on a folder of images + iBUG .pts: NME (inter-ocular), FR and AUC at 0.10",
             "atpn_edge.commands.eval_images"),
    "aflw2000": ("head pose and landmarks on AFLW2000-3D (images + .mat): pose MAE, NME (box)",
                 "atpn_edge.commands.eval_images"),
    "video": ("tracking quality on a video without ground truth: face share, detector calls, id switches, jitter, agreement",
              "atpn_edge.commands.eval_video"),
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="target", required=True, metavar="TARGET")
    for name, (help_text, module_name) in TARGETS.items():
        module = importlib.import_module(module_name)
        p = sub.add_parser(name, help=help_text, description=help_text)
        module.add_arguments(p)
        p.set_defaults(_eval_run=module.run)


def run(args: argparse.Namespace) -> int:
    return int(args._eval_run(args) or 0)
