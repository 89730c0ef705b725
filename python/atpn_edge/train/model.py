"""Our reconstruction of ATPN (Xia et al., arXiv 2103.07615; only the abstract is available to us).

Stage 1 (image -> landmarks, features): an inverted-residual backbone 112 -> 56 -> 28 -> 14 -> 7.
The 28x28 stage output (shallow features, which respond to facial boundaries) is carried by a
shortcut to the deep 7x7 stage (average-pooled, concatenated, mixed by a 1x1 conv); the landmark
head regresses K crop-normalised points from that fused map through a global depthwise conv
(keeps where things are, unlike global average pooling). Stage 1 also hands stage 2 a 28x28
feature map: the shallow features plus the deep ones upsampled, i.e. both ends of the shortcut.

Stage 2 (features, heatmap -> pose, face_logit): the cheap heatmap rendered from the predicted
landmarks is concatenated with the features at 28x28 and reduced by a few depthwise-separable
convs to the pose (yaw, pitch, roll in degrees, crop axes) and the tracking logit.

ReLU everywhere (ONNX Runtime and TensorRT fuse Conv+BN+ReLU into one kernel); the layer count is
kept low because small CNNs on a CPU pay a per-layer overhead (about 4-6 us a layer measured with ONNX Runtime on one core).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn
import torch.nn.functional as F

from .heatmap import render_heatmap


@dataclass(frozen=True)
class ModelConfig:
    num_landmarks: int = 68
    input_size: int = 112
    stem: int = 16  # 56x56
    shallow: int = 24  # 28x28, the shortcut's source
    mid: int = 48  # 14x14
    deep: int = 96  # 7x7
    blocks: tuple[int, int, int] = (2, 3, 3)  # inverted-residual blocks at 28, 14, 7
    expand: int | tuple[int, int, int] = 4  # expansion of the blocks at 28, 14, 7 (one value: all three)
    stem_block: bool = True  # the separable block at 56x56 after the first conv
    shortcut: str = "avg"  # 28x28 -> 7x7 pooling of the shortcut: "avg", or "dwconv" (a 4x4 stride-4 depthwise conv, starts as the average)
    embed: int = 256  # width of the landmark embedding
    feature_channels: int = 32  # stage 1 -> stage 2 features
    heatmap_size: int = 28
    heatmap_sigma: float = 1.0
    head: tuple[int, int] = (64, 128)  # stage 2 widths at 14x14 and 7x7

    def expansions(self) -> tuple[int, int, int]:
        e = self.expand
        return (e, e, e) if isinstance(e, int) else tuple(e)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "ModelConfig":
        d = dict(d)
        if isinstance(d.get("expand"), list):
            d["expand"] = tuple(d["expand"])
        for key in ("blocks", "head"):
            if key in d:
                d[key] = tuple(d[key])
        unknown = set(d) - set(cls.__dataclass_fields__)
        if unknown:
            raise ValueError(f"unknown model config keys: {sorted(unknown)}")
        return cls(**d)


def conv_bn(cin: int, cout: int, k: int = 1, stride: int = 1, groups: int = 1, act: bool = True) -> nn.Sequential:
    layers: list[nn.Module] = [nn.Conv2d(cin, cout, k, stride, k // 2, groups=groups, bias=False), nn.BatchNorm2d(cout)]
    if act:
        layers.append(nn.ReLU(inplace=True))
    return nn.Sequential(*layers)


class InvertedResidual(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int, expand: int):
        super().__init__()
        hidden = cin * expand
        layers = [conv_bn(cin, hidden)] if expand != 1 else []
        layers += [conv_bn(hidden, hidden, 3, stride, groups=hidden), conv_bn(hidden, cout, act=False)]
        self.body = nn.Sequential(*layers)
        self.residual = stride == 1 and cin == cout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.body(x)
        return x + y if self.residual else y


def _stage(cin: int, cout: int, n: int, expand: int) -> nn.Sequential:
    return nn.Sequential(*[InvertedResidual(cin if i == 0 else cout, cout, 2 if i == 0 else 1, expand) for i in range(n)])


class SepBlock(nn.Module):
    """Depthwise 3x3 + pointwise: the cheap block of stage 2."""

    def __init__(self, cin: int, cout: int, stride: int):
        super().__init__()
        self.body = nn.Sequential(conv_bn(cin, cin, 3, stride, groups=cin), conv_bn(cin, cout))
        self.residual = stride == 1 and cin == cout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.body(x)
        return x + y if self.residual else y


class Stage1(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        if cfg.input_size != 112 or cfg.heatmap_size != 28:
            # The strides (and the 7x7 global depthwise conv) are laid out for 112 -> 28 -> 7.
            raise ValueError("this architecture expects input_size 112 and heatmap_size 28")
        self.num_landmarks = cfg.num_landmarks
        stem: list[nn.Module] = [conv_bn(3, cfg.stem, 3, 2)]
        if cfg.stem_block:
            stem.append(InvertedResidual(cfg.stem, cfg.stem, 1, 1))
        self.stem = nn.Sequential(*stem)
        e28, e14, e7 = cfg.expansions()
        self.s28 = _stage(cfg.stem, cfg.shallow, cfg.blocks[0], e28)
        self.s14 = _stage(cfg.shallow, cfg.mid, cfg.blocks[1], e14)
        self.s7 = _stage(cfg.mid, cfg.deep, cfg.blocks[2], e7)
        # 28x28 -> 7x7: shallow boundary features reach the deep layers. "dwconv" computes the same
        # average at first (weights 1/16) but runs as one INT8 depthwise conv in ONNX Runtime, which
        # was ~10 us faster than its INT8 average pool on one core.
        if cfg.shortcut == "avg":
            self.shortcut: nn.Module = nn.AvgPool2d(4)
        elif cfg.shortcut == "dwconv":
            self.shortcut = nn.Conv2d(cfg.shallow, cfg.shallow, 4, 4, groups=cfg.shallow, bias=False)
            nn.init.constant_(self.shortcut.weight, 1.0 / 16)
        else:
            raise ValueError(f"shortcut must be 'avg' or 'dwconv', not {cfg.shortcut!r}")
        self.fuse = conv_bn(cfg.deep + cfg.shallow, cfg.embed)
        self.gdconv = nn.Sequential(nn.Conv2d(cfg.embed, cfg.embed, 7, groups=cfg.embed, bias=False), nn.BatchNorm2d(cfg.embed))
        self.landmarks = nn.Linear(cfg.embed, 2 * cfg.num_landmarks)
        self.deep_to_map = conv_bn(cfg.embed, 16)
        self.features = conv_bn(cfg.shallow + 16, cfg.feature_channels)

    def forward(self, image: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        shallow = self.s28(self.stem(image))
        deep = self.s7(self.s14(shallow))
        fused = self.fuse(torch.cat([deep, self.shortcut(shallow)], dim=1))
        emb = self.gdconv(fused).flatten(1)
        landmarks = self.landmarks(emb).view(-1, self.num_landmarks, 2)
        up = F.interpolate(self.deep_to_map(fused), scale_factor=4.0, mode="nearest")
        features = self.features(torch.cat([shallow, up], dim=1))
        return landmarks, features


class Stage2(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        c14, c7 = cfg.head
        cin = cfg.feature_channels + 1
        self.body = nn.Sequential(SepBlock(cin, c14, 2), SepBlock(c14, c14, 1), SepBlock(c14, c7, 2))
        self.gdconv = nn.Sequential(nn.Conv2d(c7, c7, 7, groups=c7, bias=False), nn.BatchNorm2d(c7))
        self.pose = nn.Linear(c7, 3)
        self.face = nn.Linear(c7, 1)

    def forward(self, features: torch.Tensor, heatmap: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        emb = self.gdconv(self.body(torch.cat([features, heatmap], dim=1))).flatten(1)
        return self.pose(emb), self.face(emb)


class ATPN(nn.Module):
    """Both stages; ``forward`` renders the heatmap in between (the fused graph)."""

    def __init__(self, cfg: ModelConfig = ModelConfig()):
        super().__init__()
        self.cfg = cfg
        self.stage1 = Stage1(cfg)
        self.stage2 = Stage2(cfg)

    def heatmap(self, landmarks: torch.Tensor) -> torch.Tensor:
        # Detached: the heatmap is an input to stage 2 exactly as the runtime's kernel renders it,
        # so pose/face gradients never pull the landmarks towards what helps pose (the landmark
        # loss alone owns them), and the max over K would route gradients to a single point anyway.
        n = self.cfg.heatmap_size
        return render_heatmap(landmarks.detach(), n, n, self.cfg.heatmap_sigma)

    def forward(self, image: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        landmarks, features = self.stage1(image)
        pose, face_logit = self.stage2(features, self.heatmap(landmarks))
        return landmarks, pose, face_logit

    def load_matching(self, state: dict[str, torch.Tensor]) -> list[str]:
        """Warm start from another size's weights: copy every tensor whose name and shape match;
        residual blocks that are wholly new start as identities (last BN scale 0), so a deeper
        model begins exactly where the shallower one ended. Returns the names left at their init."""
        own = self.state_dict()
        matched = {k: v for k, v in state.items() if k in own and own[k].shape == v.shape}
        self.load_state_dict(matched, strict=False)
        fresh = sorted(set(own) - set(matched))
        with torch.no_grad():
            for name, module in self.named_modules():
                if isinstance(module, (InvertedResidual, SepBlock)) and module.residual:
                    if all(f"{name}.{k}" in fresh for k in module.state_dict()):
                        module.body[-1][1].weight.zero_()  # conv_bn's BatchNorm
        return fresh

    def init_landmark_bias(self, mean_shape: torch.Tensor) -> None:
        """Start the regression at the mean face (crop-normalised [K, 2]): faster, steadier training."""
        with torch.no_grad():
            self.stage1.landmarks.bias.copy_(mean_shape.reshape(-1).to(self.stage1.landmarks.bias))
            self.stage1.landmarks.weight.mul_(0.1)
