"""Distillation from a trained teacher (``train.teacher`` in a config): the teacher sees the same
augmented batch and the student is also pulled towards its outputs.

Terms: Wing on the landmark difference (crop pixels, face draws only: every point, so AFLW's
partial labels and AFLW2000's free jaw get the teacher's points), smooth-L1 on the pose
difference (face draws), BCE of the face logit against the teacher's probability (all draws),
and the mean squared difference of stage 1's 28x28 features relative to the teacher's feature
variance (all draws): stage 2 starts as the teacher's, so features that match keep its pose and
face score valid while stage 1 changes.
"""
from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F

from .losses import wing
from .model import ATPN


class Teacher:
    def __init__(self, checkpoint: str | Path):
        from .export import load_checkpoint

        self.model, _ = load_checkpoint(checkpoint)
        self.model = self.model.to(memory_format=torch.channels_last).eval()
        for p in self.model.parameters():
            p.requires_grad_(False)

    @torch.no_grad()
    def __call__(self, images: torch.Tensor) -> dict[str, torch.Tensor]:
        return outputs(self.model, images)


def outputs(model: ATPN, images: torch.Tensor) -> dict[str, torch.Tensor]:
    """The model's forward pass with stage 1's features kept (same as ``ATPN.forward``)."""
    landmarks, features = model.stage1(images)
    pose, face_logit = model.stage2(features, model.heatmap(landmarks))
    return {"landmarks": landmarks, "features": features, "pose": pose, "face_logit": face_logit}


def distill_loss(student: dict[str, torch.Tensor], teacher: dict[str, torch.Tensor], face: torch.Tensor, size: int,
                 wing_w: float, wing_eps: float, w_landmarks: float, w_pose: float, w_face: float,
                 w_features: float, pose_beta: float = 1.0) -> tuple[torch.Tensor, dict[str, float]]:
    """Total distillation loss and its parts; ``face`` [N] is 1 for face draws."""
    pos = face.view(-1)
    n_pos = pos.sum().clamp(min=1.0)
    err = (student["landmarks"] - teacher["landmarks"]).abs() * size
    lm = (wing(err, wing_w, wing_eps).sum(-1).mean(-1) * pos).sum() / n_pos
    pose = (F.smooth_l1_loss(student["pose"], teacher["pose"], beta=pose_beta, reduction="none").mean(-1) * pos).sum() / n_pos
    face_loss = F.binary_cross_entropy_with_logits(student["face_logit"], torch.sigmoid(teacher["face_logit"]))
    t_feat = teacher["features"]
    feat = (student["features"] - t_feat).pow(2).mean() / t_feat.var().clamp(min=1e-8)
    total = w_landmarks * lm + w_pose * pose + w_face * face_loss + w_features * feat
    return total, {"kd_lm": lm.item(), "kd_pose": pose.item(), "kd_face": face_loss.item(), "kd_feat": feat.item()}
