"""A tiny random ATPN-shaped model (stage 1, stage 2, fused ONNX with SPEC I/O and ModelInfo
metadata), built with torch in the test that needs it, so the runtime tests run everywhere.
The fused graph renders the heatmap with the SPEC section 4 formula in torch, so it is an
independent reference for the split pipeline (native kernels between two sessions)."""
from __future__ import annotations

import warnings
from dataclasses import replace
from pathlib import Path

from atpn_edge.core.model_info import ModelInfo

INFO = ModelInfo(
    graph="stage1",
    model_version="tiny-test",
    landmark_scheme="ibug68",
    num_landmarks=68,
    input_size=112,
    channel_order="RGB",
    mean=(0.485, 0.456, 0.406),
    std=(0.229, 0.224, 0.225),
    heatmap_size=(28, 28),
    heatmap_sigma=1.5,
    feature_channels=8,
    crop_landmark_scale=1.4,
    crop_box_scale=1.4,
    crop_box_shift_y=0.0,
)


def _modules(info: ModelInfo):
    import torch
    from torch import nn

    torch.manual_seed(0)
    k, c = info.num_landmarks, info.feature_channels
    hh, wh = info.heatmap_size

    class Stage1(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = nn.Sequential(nn.Conv2d(3, c, 4, stride=4), nn.ReLU())
            self.head = nn.Linear(c, 2 * k)

        def forward(self, image):
            f = self.body(image)
            lm = torch.sigmoid(self.head(f.mean(dim=(2, 3))) * 3.0).reshape(-1, k, 2)
            return lm, f

    class Stage2(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(c + 1, 8, 3, padding=1)
            self.head = nn.Linear(8, 4)

        def forward(self, features, heatmap):
            h = torch.relu(self.conv(torch.cat([features, heatmap * 4.0], dim=1))).mean(dim=(2, 3))
            out = self.head(h) * 20.0
            return out[:, :3], out[:, 3:]

    def render(lm):
        xs = torch.arange(wh, dtype=torch.float32) + 0.5
        ys = torch.arange(hh, dtype=torch.float32) + 0.5
        dx = xs[None, None, None, :] - wh * lm[:, :, 0, None, None]
        dy = ys[None, None, :, None] - hh * lm[:, :, 1, None, None]
        g = torch.exp(-(dx * dx + dy * dy) / (2.0 * info.heatmap_sigma**2))
        return g.amax(dim=1, keepdim=True)

    s1, s2 = Stage1().eval(), Stage2().eval()

    class Fused(nn.Module):
        def __init__(self):
            super().__init__()
            self.s1, self.s2 = s1, s2

        def forward(self, image):
            lm, f = self.s1(image)
            pose, logit = self.s2(f, render(lm))
            return lm, pose, logit

    return s1, s2, Fused().eval()


def _export(module, args, path: Path, inputs, outputs, info: ModelInfo) -> None:
    import onnx
    import torch

    axes = {n: {0: "N"} for n in inputs + outputs}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the legacy exporter warns that it is legacy; it works offline
        torch.onnx.export(module, args, str(path), input_names=inputs, output_names=outputs,
                          dynamic_axes=axes, opset_version=17, dynamo=False)
    model = onnx.load(str(path))
    for key, value in info.to_metadata().items():
        model.metadata_props.add(key=key, value=value)
    onnx.save(model, str(path))


def make_tiny_model(directory: Path, info: ModelInfo = INFO) -> Path:
    """Write stage1.onnx, stage2.onnx and fused.onnx into ``directory``; returns it."""
    import torch

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    s1, s2, fused = _modules(info)
    for p in fused.parameters():
        p.requires_grad_(False)
    s = info.input_size
    image = torch.zeros(2, 3, s, s)
    feats = torch.zeros(2, info.feature_channels, *info.heatmap_size)
    heat = torch.zeros(2, 1, *info.heatmap_size)
    _export(s1, (image,), directory / "stage1.onnx", ["image"], ["landmarks", "features"], replace(info, graph="stage1"))
    _export(s2, (feats, heat), directory / "stage2.onnx", ["features", "heatmap"], ["pose", "face_logit"], replace(info, graph="stage2"))
    _export(fused, (image,), directory / "fused.onnx", ["image"], ["landmarks", "pose", "face_logit"], replace(info, graph="fused"))
    return directory
