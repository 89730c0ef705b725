"""What a model file says about itself (SPEC section 3): the ONNX ``metadata_props`` keys.

Export writes them, every runtime reads them; nothing here is duplicated as a constant elsewhere.
Every value is stored as a JSON string under the key ``atpn.<field>``.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from .landmarks import LandmarkScheme, scheme_by_name
from .crop import CropRule

PREFIX = "atpn."
GRAPH_KINDS = ("stage1", "stage2", "fused")
_OPTIONAL = ("pose_units", "pose_order", "data_card", "extra")


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
            except json.JSONDecodeError as exc:
                raise ValueError(f"{source}: metadata {key!r} is not valid JSON: {exc}") from None
        for name in ("mean", "std", "heatmap_size"):
            values[name] = tuple(values[name])
        info = cls(**values)
        if info.graph not in GRAPH_KINDS:
            raise ValueError(f"{source}: metadata graph={info.graph!r}, expected one of {GRAPH_KINDS}")
        return info

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
