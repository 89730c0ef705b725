"""Checkpoint -> stage1.onnx, stage2.onnx, fused.onnx (docs/SPEC.md, Model files and their I/O) with ModelInfo metadata.

Legacy exporter (``dynamo=False``) at opset 17: works offline, writes one self-contained file per
graph (no external data), and its graphs load in ONNX Runtime and TensorRT alike. Batch is dynamic.
"""
from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from ..core.model_info import ModelInfo
from ..core.crop import CropRule
from .checkpoint import read_checkpoint
from .model import ATPN, ModelConfig

OPSET = 17


class _Fused(nn.Module):
    # Created in eval mode: the exporter restores each module's mode afterwards, and a wrapper left
    # in training mode would switch the wrapped model's BatchNorm back to batch statistics.
    def __init__(self, model: ATPN):
        super().__init__()
        self.model = model

    def forward(self, image: torch.Tensor):
        return self.model(image)


def load_checkpoint(path: str | Path) -> tuple[ATPN, dict]:
    """The model (eval mode) and the checkpoint dict of a file written by the training loop."""
    ckpt = read_checkpoint(path, need=("model", "model_config"))
    model = ATPN(ModelConfig.from_dict(ckpt["model_config"]))
    model.load_state_dict(ckpt["model"])
    return model.eval(), ckpt


def model_info(model: ATPN, graph: str, preprocess: dict, version: str, data_card: str = "", extra: dict | None = None) -> ModelInfo:
    cfg = model.cfg
    rule = CropRule(**preprocess["crop_rule"])
    return ModelInfo(
        graph=graph, model_version=version, landmark_scheme=preprocess.get("landmark_scheme", "ibug68"),
        num_landmarks=cfg.num_landmarks, input_size=cfg.input_size, channel_order="RGB",
        mean=tuple(preprocess["mean"]), std=tuple(preprocess["std"]),
        heatmap_size=(cfg.heatmap_size, cfg.heatmap_size), heatmap_sigma=cfg.heatmap_sigma,
        feature_channels=cfg.feature_channels, crop_landmark_scale=rule.landmark_scale,
        crop_box_scale=rule.box_scale, crop_box_shift_y=rule.box_shift_y, data_card=data_card,
        extra=dict(extra or {}),
    )


def _write_metadata(path: Path, info: ModelInfo) -> None:
    import onnx

    proto = onnx.load(str(path))
    del proto.metadata_props[:]
    info.check(str(path))
    for key, value in info.to_metadata().items():
        proto.metadata_props.add(key=key, value=value)
    proto.producer_name = "atpn-edge"
    onnx.checker.check_model(proto)
    onnx.save(proto, str(path))


def export_model(model: ATPN, out_dir: str | Path, preprocess: dict, version: str = "dev",
                 data_card: str = "", extra: dict | None = None) -> dict[str, Path]:
    """Write the three graphs into ``out_dir``; returns graph kind -> path."""
    model = model.eval()
    cfg = model.cfg
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    image = torch.zeros(1, 3, cfg.input_size, cfg.input_size)
    with torch.no_grad():
        _, features = model.stage1(image)
    heat = torch.zeros(1, 1, cfg.heatmap_size, cfg.heatmap_size)
    batch = {0: "N"}
    graphs = {
        "stage1": (model.stage1, (image,), ["image"], ["landmarks", "features"]),
        "stage2": (model.stage2, (features, heat), ["features", "heatmap"], ["pose", "face_logit"]),
        "fused": (_Fused(model).eval(), (image,), ["image"], ["landmarks", "pose", "face_logit"]),
    }
    paths = {}
    for kind, (module, args, inputs, outputs) in graphs.items():
        path = out / f"{kind}.onnx"
        torch.onnx.export(
            module, args, str(path), dynamo=False, opset_version=OPSET, input_names=inputs,
            output_names=outputs, dynamic_axes={name: batch for name in inputs + outputs},
            do_constant_folding=True,
        )
        _write_metadata(path, model_info(model, kind, preprocess, version, data_card, extra))
        paths[kind] = path
    return paths
