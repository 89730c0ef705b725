"""Finding a model directory and checking that its ONNX graphs have the I/O names of docs/SPEC.md ("Model files and their I/O").

A model is a directory with ``stage1.onnx``, ``stage2.onnx`` and (optionally) ``fused.onnx``.
``model=None`` means the shipped default, ``atpn68s`` (the slim network, 0.37x MediaPipe's step
on one x86 core; ``atpn68``, the larger network, stays shipped and selectable by name): inside
the installed package (``atpn_edge/engines/atpn68s``, where CMake installs ``engines/``) or,
running from a source checkout, the repository's ``engines/atpn68s``. ``ATPN_EDGE_MODEL``
overrides the default.
"""
from __future__ import annotations

import os
import platform
from dataclasses import dataclass
from pathlib import Path

from ..core.model_info import ModelInfo

DEFAULT_MODEL = "atpn68s"
INT8_DEFAULT_MACHINES = ("x86_64", "amd64")

# graph kind -> (input names, output names); order does not matter, names do.
GRAPH_IO: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "stage1": (("image",), ("landmarks", "features")),
    "stage2": (("features", "heatmap"), ("pose", "face_logit")),
    "fused": (("image",), ("landmarks", "pose", "face_logit")),
}


@dataclass(frozen=True)
class ModelFiles:
    directory: Path
    stage1: Path
    stage2: Path
    fused: Path | None

    @property
    def name(self) -> str:
        return self.directory.name

    def has_int8(self) -> bool:
        return all((self.directory / f"{kind}.int8.onnx").is_file() for kind in ("stage1", "stage2"))

    def default_precision(self, machine: str | None = None) -> str:
        """The CPU backend's default: int8 where the model ships both INT8 graphs and the CPU is
        x86-64 (where INT8 was measured faster at equal accuracy), else fp32. On aarch64 (the
        Jetson's CPU) INT8 is unmeasured, so fp32 stays the default there; pass
        precision="int8" to try it (BENCHMARKS.md, "Runtime")."""
        machine = (machine or platform.machine()).lower()
        return "int8" if self.has_int8() and machine in INT8_DEFAULT_MACHINES else "fp32"

    def graph(self, kind: str, precision: str = "fp32") -> Path:
        """The ONNX file of ``kind`` ("stage1"/"stage2") for the CPU backend's ``precision``:
        fp32, or int8 (Q/DQ graphs written by `atpn-edge quantize`)."""
        if precision == "fp32":
            return getattr(self, kind)
        if precision != "int8":
            raise ValueError(f"unknown ONNX precision {precision!r}; choose fp32 or int8")
        path = self.directory / f"{kind}.int8.onnx"
        if not path.is_file():
            raise FileNotFoundError(f"{path} not found: make the INT8 graphs with "
                                    f"`atpn-edge quantize {self.directory} --faces DIR`")
        return path


def engine_search_dirs() -> list[Path]:
    """Where named models live: the installed package first, then the source checkout."""
    package = Path(__file__).resolve().parents[1]  # .../atpn_edge
    return [package / "engines", package.parents[1] / "engines"]


def default_model_dir() -> Path:
    override = os.environ.get("ATPN_EDGE_MODEL")
    if override:
        return Path(override)
    for base in engine_search_dirs():
        if (base / DEFAULT_MODEL / "stage1.onnx").is_file():
            return base / DEFAULT_MODEL
    searched = ", ".join(str(b / DEFAULT_MODEL) for b in engine_search_dirs())
    raise FileNotFoundError(
        f"the default model {DEFAULT_MODEL!r} is not installed (looked in {searched}); "
        "pass --model DIR (a directory with stage1.onnx and stage2.onnx) or set ATPN_EDGE_MODEL"
    )


def resolve_model(model: str | os.PathLike | None = None) -> ModelFiles:
    """A model directory, a model name under ``engines/``, or None for the default."""
    if model is None:
        directory = default_model_dir()
    else:
        directory = Path(model)
        if not directory.exists() and not directory.is_absolute() and len(directory.parts) == 1:
            for base in engine_search_dirs():
                if (base / directory).is_dir():
                    directory = base / directory
                    break
    if directory.is_file():
        raise ValueError(f"{directory}: pass the model directory (with stage1.onnx and stage2.onnx), not a file")
    if not directory.is_dir():
        raise FileNotFoundError(f"model directory not found: {directory}")
    missing = [n for n in ("stage1.onnx", "stage2.onnx") if not (directory / n).is_file()]
    if missing:
        raise FileNotFoundError(f"{directory}: missing {', '.join(missing)} (a model needs stage1.onnx and stage2.onnx)")
    fused = directory / "fused.onnx"
    return ModelFiles(directory, directory / "stage1.onnx", directory / "stage2.onnx", fused if fused.is_file() else None)


def check_io_names(source: str, kind: str, inputs: list[str], outputs: list[str]) -> None:
    """Raise a clear error when a graph (ONNX session or engine) lacks the SPEC tensors."""
    want_in, want_out = GRAPH_IO[kind]
    lacking = [f"input {n!r}" for n in want_in if n not in inputs]
    lacking += [f"output {n!r}" for n in want_out if n not in outputs]
    if lacking:
        raise ValueError(
            f"{source}: not an ATPN {kind} graph: it lacks {', '.join(lacking)} "
            f"(it has inputs {inputs}, outputs {outputs}; see docs/SPEC.md, 'Model files and their I/O')"
        )


def load_info(files: ModelFiles) -> ModelInfo:
    """Metadata of the model, from stage 1, checked against stage 2."""
    info = ModelInfo.from_onnx(files.stage1)
    info2 = ModelInfo.from_onnx(files.stage2)
    for name, kind in ((files.stage1, info.graph), (files.stage2, info2.graph)):
        expected = Path(name).stem
        if kind != expected:
            raise ValueError(f"{name}: metadata says graph={kind!r}, expected {expected!r}")
    if (info2.model_version, info2.num_landmarks, info2.heatmap_size) != (info.model_version, info.num_landmarks, info.heatmap_size):
        raise ValueError(f"{files.directory}: stage1.onnx and stage2.onnx come from different models (metadata disagree)")
    return info
