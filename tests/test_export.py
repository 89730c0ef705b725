"""Export parity: each ONNX graph against torch, and the split pipeline (stage 1 -> native heatmap
kernel -> stage 2) against the fused graph. A tiny random model keeps this to seconds."""
from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="export tests need torch (train extra)")
ort = pytest.importorskip("onnxruntime")

from atpn_edge.core.model_info import ModelInfo  # noqa: E402
from atpn_edge.train.export import export_model, load_checkpoint  # noqa: E402
from atpn_edge.train.model import ATPN, ModelConfig  # noqa: E402

TINY = ModelConfig(stem=8, shallow=8, mid=16, deep=16, blocks=(1, 1, 1), expand=2, embed=32,
                   feature_channels=8, head=(16, 16), heatmap_sigma=1.25)
PRE = {"mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225], "landmark_scheme": "ibug68",
       "crop_rule": {"size": 112, "landmark_scale": 1.4, "box_scale": 1.5, "box_shift_y": 0.1}}


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    torch.manual_seed(0)
    model = ATPN(TINY)
    with torch.no_grad():  # non-trivial BN statistics and landmarks spread over the crop
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-0.2, 0.2)
                m.running_var.uniform_(0.5, 1.5)
        model.stage1.landmarks.bias.uniform_(0.1, 0.9)
    model.eval()
    out = tmp_path_factory.mktemp("model")
    paths = export_model(model, out, PRE, version="test-tiny", data_card="test")
    return model, paths


def _session(path):
    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])


def _images(n=3):
    return np.random.default_rng(1).standard_normal((n, 3, 112, 112)).astype(np.float32)


def test_metadata(exported):
    model, paths = exported
    for kind, path in paths.items():
        info = ModelInfo.from_onnx(path)
        assert info.graph == kind
        assert info.num_landmarks == 68 and info.heatmap_size == (28, 28) and info.heatmap_sigma == 1.25
        assert info.feature_channels == TINY.feature_channels
        assert info.crop_box_scale == 1.5 and info.crop_box_shift_y == 0.1
        assert info.mean == tuple(PRE["mean"]) and info.channel_order == "RGB"
        assert path.stat().st_size > 1000 and not list(path.parent.glob("*.data"))  # one self-contained file


def test_graphs_match_torch(exported):
    model, paths = exported
    x = _images()
    with torch.no_grad():
        lm, feat = model.stage1(torch.from_numpy(x))
        heat = model.heatmap(lm)
        pose, logit = model.stage2(feat, heat)
    s1 = _session(paths["stage1"]).run(None, {"image": x})
    np.testing.assert_allclose(s1[0], lm.numpy(), atol=1e-5)
    np.testing.assert_allclose(s1[1], feat.numpy(), atol=1e-4)
    s2 = _session(paths["stage2"]).run(None, {"features": feat.numpy(), "heatmap": heat.numpy()})
    np.testing.assert_allclose(s2[0], pose.numpy(), atol=1e-4)
    np.testing.assert_allclose(s2[1], logit.numpy(), atol=1e-4)
    fused = _session(paths["fused"]).run(None, {"image": x})
    for got, want in zip(fused, (lm, pose, logit)):
        np.testing.assert_allclose(got, want.numpy(), atol=1e-4)
    assert s1[0].shape == (3, 68, 2) and fused[1].shape == (3, 3) and fused[2].shape == (3, 1)


def test_split_pipeline_with_native_heatmap_matches_fused(exported):
    kernels = pytest.importorskip("atpn_edge.kernels", reason="native kernels not built (pip install . builds them)")
    _, paths = exported
    x = _images(2)
    lm, feat = _session(paths["stage1"]).run(None, {"image": x})
    heat = kernels.render_heatmap(lm, 28, 28, TINY.heatmap_sigma)
    pose, logit = _session(paths["stage2"]).run(None, {"features": feat, "heatmap": heat})
    f_lm, f_pose, f_logit = _session(paths["fused"]).run(None, {"image": x})
    np.testing.assert_allclose(lm, f_lm, atol=1e-6)
    np.testing.assert_allclose(pose, f_pose, atol=1e-4)
    np.testing.assert_allclose(logit, f_logit, atol=1e-4)


def test_checkpoint_roundtrip(exported, tmp_path):
    model, _ = exported
    ckpt = {"model": model.state_dict(), "model_config": TINY.to_dict(), "preprocess": PRE}
    torch.save(ckpt, tmp_path / "c.pt")
    loaded, _ = load_checkpoint(tmp_path / "c.pt")
    x = torch.from_numpy(_images(1))
    with torch.no_grad():
        for a, b in zip(loaded(x), model(x)):
            assert torch.equal(a, b)
    with pytest.raises(ValueError, match="not an atpn-edge training checkpoint"):
        torch.save({"weights": 1}, tmp_path / "bad.pt")
        load_checkpoint(tmp_path / "bad.pt")
