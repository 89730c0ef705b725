"""The second shipped model folder, engines/atpn68s, loads like the default one: metadata checked
by the loader, both precisions present, the same I/O as atpn68 and outputs of the right shapes."""
from __future__ import annotations

import numpy as np
import pytest

ort = pytest.importorskip("onnxruntime", reason="needs onnxruntime")

from atpn_edge.runtime.models import load_info, resolve_model  # noqa: E402
from helpers import REPO_ROOT  # noqa: E402


def test_atpn68s_loads_with_both_precisions_and_atpn68s_io():
    files = resolve_model(REPO_ROOT / "engines" / "atpn68s")
    info = load_info(files)
    ref = load_info(resolve_model(REPO_ROOT / "engines" / "atpn68"))
    assert info.model_version == "atpn68s-v3" and files.has_int8()
    for field in ("num_landmarks", "input_size", "mean", "std", "heatmap_size", "feature_channels", "crop_landmark_scale"):
        assert getattr(info, field) == getattr(ref, field), field
    x = np.random.default_rng(0).normal(size=(2, 3, 112, 112)).astype(np.float32)
    outs = {}
    for precision in ("fp32", "int8"):
        sess = ort.InferenceSession(str(files.graph("stage1", precision)), providers=["CPUExecutionProvider"])
        lm, feats = sess.run(["landmarks", "features"], {"image": x})
        assert lm.shape == (2, 68, 2) and feats.shape == (2, info.feature_channels, 28, 28)
        outs[precision] = lm
    assert np.abs(outs["fp32"] - outs["int8"]).max() < 0.05  # same weights, quantised
