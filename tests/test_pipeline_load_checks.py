"""create_pipeline checks what it is given before anything runs: nonsense options are refused
naming the option (before the model is even looked for), and a model whose metadata is out of range
is refused when it loads, naming the key and the file (not a crash or garbage later)."""
from __future__ import annotations

import math
import shutil
from pathlib import Path

import pytest

from atpn_edge.runtime import create_pipeline

SHIPPED = Path(__file__).resolve().parents[1] / "engines" / "atpn68"


@pytest.mark.parametrize("option, value, error", [
    ("threads", 0, ValueError), ("threads", -2, ValueError), ("max_faces", 0, ValueError),
    ("threads", 1.5, TypeError), ("max_faces", True, TypeError), ("threads", math.nan, TypeError),
])
def test_nonsense_options_are_refused_before_the_model_is_looked_for(tmp_path, option, value, error):
    with pytest.raises(error, match=option):
        create_pipeline(tmp_path / "no-such-model", backend="onnxruntime", **{option: value})


@pytest.mark.parametrize("key, text", [("atpn.heatmap_sigma", "0"), ("atpn.input_size", "-112"),
                                       ("atpn.std", "[0.5, 0.0, 0.5]"), ("atpn.mean", "\"grey\"")])
def test_a_model_with_bad_metadata_is_refused_when_it_loads(tmp_path, key, text):
    onnx = pytest.importorskip("onnx", reason="onnx rewrites the model's metadata")
    model = tmp_path / "model"
    model.mkdir()
    for name in ("stage1.onnx", "stage2.onnx"):
        shutil.copy(SHIPPED / name, model / name)
    proto = onnx.load(str(model / "stage1.onnx"))
    entry = next(p for p in proto.metadata_props if p.key == key)
    entry.value = text
    onnx.save(proto, str(model / "stage1.onnx"))
    with pytest.raises(ValueError) as exc:
        create_pipeline(model, backend="onnxruntime")
    assert key in str(exc.value) and str(model / "stage1.onnx") in str(exc.value), str(exc.value)
