"""Model metadata is untrusted input: every ``atpn.*`` value is checked (type and range) when a
model loads, and the error names the file and the key."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from atpn_edge.core.model_info import ModelInfo

REPO = Path(__file__).resolve().parents[1]
SHIPPED = REPO / "engines" / "atpn68" / "stage1.onnx"


@pytest.fixture(scope="module")
def meta() -> dict[str, str]:
    import onnxruntime as ort

    sess = ort.InferenceSession(str(SHIPPED), providers=["CPUExecutionProvider"])
    return dict(sess.get_modelmeta().custom_metadata_map)


def test_shipped_metadata_passes(meta):
    info = ModelInfo.from_metadata(meta, source="stage1.onnx")
    assert info.graph == "stage1" and info.num_landmarks == 68
    assert ModelInfo.from_onnx(SHIPPED) == info


BAD = [
    ("input_size", -112), ("input_size", 0), ("input_size", 1.5), ("input_size", True), ("input_size", "112"),
    ("num_landmarks", 98), ("mean", [0.5, 0.5]), ("mean", ["a", "b", "c"]), ("std", [0.5, 0.0, 0.5]),
    ("std", None), ("heatmap_size", [28, -1]), ("heatmap_size", {"h": 28}), ("heatmap_sigma", 0),
    ("feature_channels", 0), ("crop_landmark_scale", -1.0), ("crop_box_scale", "big"),
    ("crop_box_shift_y", 5.0), ("channel_order", "BGR"), ("graph", "stage3"), ("landmark_scheme", "wflw99"),
    ("model_version", ""), ("model_version", 2), ("extra", [1]), ("pose_units", "radians"),
]


@pytest.mark.parametrize("key,value", BAD, ids=[f"{k}={v!r}" for k, v in BAD])
def test_bad_metadata_value_names_key_and_file(meta, key, value):
    bad = dict(meta, **{f"atpn.{key}": json.dumps(value)})
    with pytest.raises(ValueError) as exc:
        ModelInfo.from_metadata(bad, source="/models/x/stage1.onnx")
    assert "/models/x/stage1.onnx" in str(exc.value) and (f"atpn.{key}" in str(exc.value)
                                                           or key == "num_landmarks"), str(exc.value)


def test_non_json_and_nan_are_refused(meta):
    for text in ("{not json", "NaN", "[" * 100_000):
        with pytest.raises(ValueError, match="atpn.heatmap_sigma"):
            ModelInfo.from_metadata(dict(meta, **{"atpn.heatmap_sigma": text}), source="m.onnx")
    with pytest.raises(ValueError, match="lacks 'atpn.std'"):
        ModelInfo.from_metadata({k: v for k, v in meta.items() if k != "atpn.std"}, source="m.onnx")
