"""Multi-task loss: Wing on landmarks, smooth-L1 on pose, BCE on the face logit.

Landmark and pose terms count only positives and only the labelled points/angles (masks), each
normalised by how many labels the batch holds, so partial labels (AFLW: 14 points, yaw only) and
the share of negatives do not rescale the other terms.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F


def wing(err: torch.Tensor, w: float, eps: float) -> torch.Tensor:
    """Wing loss (Feng et al. 2018) of absolute errors: log-shaped below ``w`` (keeps gradients
    for small errors, which L2 loses), linear above it."""
    c = w - w * math.log1p(w / eps)
    return torch.where(err < w, w * torch.log1p(err / eps), err - c)


def multitask_loss(pred: tuple[torch.Tensor, torch.Tensor, torch.Tensor], batch: dict[str, torch.Tensor],
                   size: int, wing_w: float = 10.0, wing_eps: float = 2.0, w_landmarks: float = 1.0,
                   w_pose: float = 0.1, w_face: float = 1.0, pose_beta: float = 1.0) -> tuple[torch.Tensor, dict[str, float]]:
    """Total loss and its parts (floats, for logging). Landmark errors in crop pixels (x ``size``)."""
    landmarks, pose, face_logit = pred
    pos = batch["face"].view(-1, 1)
    lm_mask = batch["landmarks_mask"] * pos  # [N, K]
    err = (landmarks - batch["landmarks"]).abs() * size  # [N, K, 2]
    lm_loss = (wing(err, wing_w, wing_eps).sum(-1) * lm_mask).sum() / lm_mask.sum().clamp(min=1.0)
    pose_mask = batch["pose_mask"] * pos
    pose_err = F.smooth_l1_loss(pose, batch["pose"], beta=pose_beta, reduction="none")
    pose_loss = (pose_err * pose_mask).sum() / pose_mask.sum().clamp(min=1.0)
    face_loss = F.binary_cross_entropy_with_logits(face_logit, batch["face"].view_as(face_logit))
    total = w_landmarks * lm_loss + w_pose * pose_loss + w_face * face_loss
    return total, {"lm": lm_loss.item(), "pose": pose_loss.item(), "face": face_loss.item()}
