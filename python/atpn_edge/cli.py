"""`atpn-edge` and its subcommands. Each subcommand lives in ``atpn_edge.commands.<name>`` with
``add_arguments(parser)`` and ``run(args) -> int``; modules import heavy things (torch, TensorRT)
only inside ``run``, so ``atpn-edge --help`` stays fast and works without them."""
from __future__ import annotations

import argparse
import importlib
import sys

DESCRIPTION = """\
Real-time face tracking for edge devices: 68 landmarks, head pose (yaw, pitch, roll) and a face
score per face, from a camera, a video file, an RTSP stream, a GStreamer pipeline, a photo or a
folder of photos. Runs on the CPU with ONNX Runtime, or with TensorRT on a Jetson."""

EPILOG = """\
examples:
  atpn-edge track video.mp4 --output tracked.mp4 --jsonl faces.jsonl
  atpn-edge track 0 --display                     webcam, in a window
  atpn-edge track rtsp://user:pass@camera/live --jsonl - | jq .
  atpn-edge bench                                 how fast is it here
  atpn-edge eval video clip.mp4                   tracking quality without ground truth

`atpn-edge COMMAND --help` explains each command."""

COMMANDS = {
    "track": "track faces in a camera, video file, image, folder, RTSP URL or GStreamer pipeline",
    "bench": "time the pipeline stages and the whole tracking step (or the kernels)",
    "eval": "measure accuracy (300w, aflw2000) or tracking quality (video)",
    "build": "build TensorRT engines from the ONNX model, on the device",
    "quantize": "write INT8 Q/DQ graphs of a model for the CPU backend, calibrated on labelled faces",
    "export": "export a trained checkpoint to stage 1, stage 2 and fused ONNX graphs",
    "train": "train an ATPN model from a YAML or TOML config",
    "validate": "a model's validation numbers (NME, pose MAE, face-score AUC) on a held-out split",
}

# A module a command needs but the base install lacks -> the extra that brings it.
EXTRAS = {"torch": "train", "onnx": "train", "yaml": "train", "scipy": "eval", "matplotlib": "eval",
          "tensorrt": None, "cuda": "cuda"}


def build_parser() -> argparse.ArgumentParser:
    from . import __version__

    parser = argparse.ArgumentParser(prog="atpn-edge", description=DESCRIPTION, epilog=EPILOG,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"atpn-edge {__version__}", help="print the version and exit")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, help_text in COMMANDS.items():
        module = importlib.import_module(f"atpn_edge.commands.{name}")
        p = sub.add_parser(name, help=help_text, description=help_text)
        module.add_arguments(p)
        p.set_defaults(_run=module.run)
    return parser


def missing_extra_message(command: str, exc: ModuleNotFoundError) -> str | None:
    """One line naming what to install, for a module an optional extra provides; None otherwise."""
    top = (exc.name or "").split(".")[0]
    if top not in EXTRAS:
        return None
    extra = EXTRAS[top]
    if top == "torch":
        how = ("pip install torch --index-url https://download.pytorch.org/whl/cpu (the CPU build), "
               "then pip install 'atpn-edge[train]'")
    elif extra is None:
        how = "TensorRT comes with JetPack on a Jetson (python3-libnvinfer)"
    else:
        how = f"pip install 'atpn-edge[{extra}]'"
    return f"atpn-edge {command}: needs {top}, which is not installed: {how}"


def main(argv: list[str] | None = None) -> int:
    from .io.redact import redact

    args = build_parser().parse_args(argv)
    try:
        return int(args._run(args) or 0)
    except KeyboardInterrupt:
        print("atpn-edge: interrupted", file=sys.stderr)
        return 130
    except ModuleNotFoundError as exc:
        target = getattr(args, "target", None)  # eval's data set
        message = missing_extra_message(f"{args.command} {target}" if target else args.command, exc)
        if message is None:
            raise
        print(message, file=sys.stderr)
        return 2
    except (ValueError, FileNotFoundError, RuntimeError, OSError) as exc:
        print(f"atpn-edge {args.command}: error: {redact(exc)}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
