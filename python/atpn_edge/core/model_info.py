"""What a model file says about itself: the ONNX ``metadata_props`` keys (docs/SPEC.md, Model files).

Export writes them, every runtime reads them; nothing here is duplicated as a constant elsewhere.
Every value is stored as a JSON string under the key ``atpn.<field>``, and every value read is
checked (type and range) before anything uses it: a model file is untrusted input.
"""
from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Callable

from .landmarks import LandmarkScheme, scheme_by_name
from .crop import CropRule

PREFIX = "atpn."
GRAPH_KINDS = ("stage1", "stage2", "fused")
_OPTIONAL = ("pose_units", "pose_order", "data_card", "extra")


def _is(value: Any, kind: str) -> bool:
    if kind == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "float":
        return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if kind.startswith("tuple"):  # "tuple3float", "tuple2int"
        n, inner = int(kind[5]), kind[6:]
        return isinstance(value, tuple) and len(value) == n and all(_is(v, inner) for v in value)
    return isinstance(value, {"str": str, "dict": dict}[kind])


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


# field -> (type, range check, what is expected); the ranges are generous sanity bounds.
_CHECKS: dict[str, tuple[str, Callable[[Any], bool], str]] = {
    "graph": ("str", lambda v: True, "a string"),
    "model_version": ("str", lambda v: 0 < len(v) <= 200, "a non-empty string"),
    "landmark_scheme": ("str", lambda v: True, "a string"),
    "num_landmarks": ("int", lambda v: 1 <= v <= 10_000, "an integer in [1, 10000]"),
    "input_size": ("int", lambda v: 8 <= v <= 4096, "an integer in [8, 4096]"),
    "channel_order": ("str", lambda v: v == "RGB", '"RGB"'),
    "mean": ("tuple3float", lambda v: all(-10 <= x <= 10 for x in v), "3 finite numbers in [-10, 10]"),
    "std": ("tuple3float", lambda v: all(1e-6 <= x <= 1e3 for x in v), "3 finite numbers in [1e-6, 1000]"),
    "heatmap_size": ("tuple2int", lambda v: all(1 <= x <= 1024 for x in v), "2 integers in [1, 1024]"),
    "heatmap_sigma": ("float", lambda v: 0 < v <= 1000, "a finite number in (0, 1000]"),
    "feature_channels": ("int", lambda v: 1 <= v <= 65_536, "an integer in [1, 65536]"),
    "crop_landmark_scale": ("float", lambda v: 0 < v <= 100, "a finite number in (0, 100]"),
    "crop_box_scale": ("float", lambda v: 0 < v <= 100, "a finite number in (0, 100]"),
    "crop_box_shift_y": ("float", lambda v: -1 <= v <= 1, "a finite number in [-1, 1]"),
    "pose_units": ("str", lambda v: v == "degrees", '"degrees"'),
    "pose_order": ("str", lambda v: v == "yaw,pitch,roll", '"yaw,pitch,roll"'),
    "data_card": ("str", lambda v: True, "a string"),
    "extra": ("dict", lambda v: True, "a JSON object"),
}


@dataclass(frozen=True)
class ModelInfo:
    graph: str  # "stage1", "stage2" or "fused"
    model_version: str
    landmark_scheme: str
    num_landmarks: int
    input_size: int
    channel_order: str  # "RGB"
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    heatmap_size: tuple[int, int]  # (Hh, Wh)
    heatmap_sigma: float
    feature_channels: int
    crop_landmark_scale: float
    crop_box_scale: float
    crop_box_shift_y: float
    pose_units: str = "degrees"
    pose_order: str = "yaw,pitch,roll"
    data_card: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def scheme(self) -> LandmarkScheme:
        return scheme_by_name(self.landmark_scheme)

    @property
    def crop_rule(self) -> CropRule:
        return CropRule(
            size=self.input_size,
            landmark_scale=self.crop_landmark_scale,
            box_scale=self.crop_box_scale,
            box_shift_y=self.crop_box_shift_y,
        )

    def to_metadata(self) -> dict[str, str]:
        return {PREFIX + k: json.dumps(v) for k, v in asdict(self).items()}

    def check(self, source: str = "model") -> "ModelInfo":
        """Raise ``ValueError`` naming ``source`` and the key when a field has the wrong type or
        lies out of range; returns self. Export and every load call it, so a model file from
        elsewhere cannot hand the runtime a negative size, a zero std or a NaN sigma."""
        for name, (kind, ok, want) in _CHECKS.items():
            value = getattr(self, name)
            if not _is(value, kind) or not ok(value):
                raise ValueError(f"{source}: metadata {PREFIX + name!r} = {_short(value)} is invalid: expected {want}")
        if self.graph not in GRAPH_KINDS:
            raise ValueError(f"{source}: metadata {PREFIX}graph={self.graph!r}, expected one of {GRAPH_KINDS}")
        try:
            scheme = self.scheme
        except ValueError as exc:
            raise ValueError(f"{source}: metadata {PREFIX}landmark_scheme: {exc}") from None
        if scheme.num_points != self.num_landmarks:
            raise ValueError(f"{source}: metadata {PREFIX}num_landmarks={self.num_landmarks} but the "
                             f"{scheme.name} scheme has {scheme.num_points} points")
        return self

    @classmethod
    def from_metadata(cls, meta: dict[str, str], source: str = "model") -> "ModelInfo":
        values = {}
        for f in fields(cls):
            key = PREFIX + f.name
            if key not in meta:
                if f.name in _OPTIONAL:
                    continue
                raise ValueError(f"{source}: ONNX metadata lacks {key!r}; was it written by `atpn-edge export`?")
            try:
                values[f.name] = json.loads(meta[key])
            except (json.JSONDecodeError, RecursionError) as exc:
                raise ValueError(f"{source}: metadata {key!r} is not valid JSON: {exc}") from None
        for name in ("mean", "std", "heatmap_size"):
            if isinstance(values[name], list):
                values[name] = tuple(values[name])
        return cls(**values).check(source)

    @classmethod
    def from_onnx(cls, path: str | Path) -> "ModelInfo":
        """Read the metadata of an ONNX file (through ONNX Runtime, which the runtime has anyway)."""
        import onnxruntime as ort

        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"model file not found: {path}")
        try:
            sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        except Exception as exc:  # ORT raises its own exception types for corrupt files
            raise ValueError(f"{path}: not a readable ONNX model ({exc})") from None
        return cls.from_metadata(sess.get_modelmeta().custom_metadata_map, source=str(path))
