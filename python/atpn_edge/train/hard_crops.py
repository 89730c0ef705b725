"""Hard crops: the crops the tracker itself sends the network, stored by
``scripts/refit_face_head.py collect --save-crops``, as an extra share of every training batch
(``train.hard_crops``).

Why: the face score is otherwise trained on random windows of non-face images and windows shifted
off faces, never on what the detector boxes on an animal's face or the tracker's crop of a face
looking down look like. Refitting the face head alone on such crops cannot separate what the
features do not; this trains stage 1 and stage 2 on them.

Labels are hard, never the teacher's face probability on a negative (a teacher that confirms a
cat's face would teach exactly that): detector/tracking crops of annotated faces are 1, detector
crops on non-face images, windows off the face and non-face windows 0. Video crops carry no label
of their own: they count as faces where the stored teacher logit says so (``>= 0``) and are left
out otherwise (never negatives). Groups named ``val_*`` are the model's validation split: never
trained on, used by ``validate``.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import Dataset

from .augment import PhotoAug, photometric

POSITIVE = ("det_pos", "track_pos")
NEGATIVE = ("det_neg", "offface", "nonface")
WEAK = ("video",)  # labelled by the stored teacher logit, positives only


def labels_for(group: np.ndarray, teacher_logit: np.ndarray) -> np.ndarray:
    """Face label per crop: 1, 0, or NaN (not used). ``val_`` groups get their group's label."""
    base = np.char.replace(group.astype(str), "val_", "")
    y = np.full(len(group), np.nan, np.float32)
    y[np.isin(base, POSITIVE)] = 1.0
    y[np.isin(base, NEGATIVE)] = 0.0
    weak = np.isin(base, WEAK)
    y[weak & (teacher_logit >= 0.0)] = 1.0  # NaN logits (collected without --teacher) stay unused
    return y


class HardCrops(Dataset):
    """Stored uint8 BGR crops with hard face labels. ``train=True``: the groups named in ``shares``
    (no ``val_``), random flips and the training data's photometric noise; ``train=False``: the
    ``val_`` groups (at most ``limit`` crops, a fixed evenly spaced subset), as stored."""

    def __init__(self, folder: str | Path, shares: dict[str, float], mean, std, train: bool = True, seed: int = 0,
                 limit: int | None = None):
        folder = Path(folder)
        for name in ("crops.npz", "images.npy"):
            if not (folder / name).is_file():
                raise FileNotFoundError(f"{folder / name} not found: make it with "
                                        f"`scripts/refit_face_head.py collect --save-crops --out {folder}`")
        meta = np.load(folder / "crops.npz")
        images = np.load(folder / "images.npy", mmap_mode="r")
        group = meta["group"].astype(str)
        if len(images) != len(group):
            raise ValueError(f"{folder}: images.npy has {len(images)} crops, crops.npz {len(group)}")
        unknown = set(shares) - set(POSITIVE + NEGATIVE + WEAK)
        if unknown:
            raise ValueError(f"train.hard_groups: unknown groups {sorted(unknown)}; known: {list(POSITIVE + NEGATIVE + WEAK)}")
        y = labels_for(group, meta["teacher"].astype(np.float32))
        keep = np.isfinite(y) & (np.isin(group, [g for g, s in shares.items() if s > 0]) if train
                                 else np.char.startswith(group, "val_"))
        idx = np.flatnonzero(keep)
        if not train and limit is not None and len(idx) > limit:
            idx = idx[np.linspace(0, len(idx) - 1, limit).round().astype(int)]
        if train and len(idx) == 0:  # (no validation crops is allowed: nothing to score)
            raise ValueError(f"{folder}: no training crops in the groups {sorted(shares)}")
        self.images = np.ascontiguousarray(images[idx])
        self.labels, self.groups = y[idx], group[idx]
        self.shares, self.train, self.seed = shares, train, seed
        self.mean = np.asarray(mean, np.float32).reshape(3, 1, 1)
        self.std = np.asarray(std, np.float32).reshape(3, 1, 1)
        self.aug = PhotoAug()
        self.rng = np.random.default_rng(seed)

    def reseed(self, epoch: int) -> None:
        self.rng = np.random.default_rng([self.seed, 7919, epoch])

    def __len__(self) -> int:
        return len(self.labels)

    def counts(self) -> dict[str, int]:
        g, n = np.unique(self.groups, return_counts=True)
        return {str(k): int(v) for k, v in zip(g, n)}

    def sample_weights(self) -> torch.Tensor:
        """Per-crop weights so each group is drawn with its configured share."""
        w = np.zeros(len(self.groups))
        for g, share in self.shares.items():
            m = self.groups == g
            if m.any():
                w[m] = share / m.sum()
        return torch.tensor(w, dtype=torch.double)

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        crop = self.images[i]
        if self.train:
            if self.rng.random() < 0.5:
                crop = crop[:, ::-1]
            crop = photometric(np.ascontiguousarray(crop), self.rng, self.aug)
        image = (crop[:, :, ::-1].transpose(2, 0, 1).astype(np.float32) / 255.0 - self.mean) / self.std
        return {"image": torch.from_numpy(np.ascontiguousarray(image)), "face": torch.tensor([self.labels[i]])}


def hard_loss(student: dict[str, torch.Tensor], teacher: dict[str, torch.Tensor] | None, face: torch.Tensor, size: int,
              t_cfg) -> tuple[torch.Tensor, dict[str, float]]:
    """Hard-label BCE of the face logit, plus (``t_cfg.hard_kd``, with a teacher) the distillation
    of landmarks and pose on the positives and of stage 1's features on every crop, with the
    teacher's face probability left out."""
    from .distill import distill_loss

    bce = F.binary_cross_entropy_with_logits(student["face_logit"], face.view_as(student["face_logit"]))
    total = t_cfg.w_hard_face * bce
    parts = {"hard_face": bce.item()}
    if teacher is not None and t_cfg.hard_kd:
        kd, kd_parts = distill_loss(student, teacher, face, size, t_cfg.wing_w, t_cfg.wing_eps, t_cfg.kd_landmarks,
                                    t_cfg.kd_pose, 0.0, t_cfg.kd_features, t_cfg.pose_beta)
        total = total + kd
        parts["hard_kd_feat"] = kd_parts["kd_feat"]
    return total, parts


@torch.no_grad()
def validate_hard(model, ds: HardCrops, batch_size: int = 128) -> dict[str, float]:
    """On the stored validation crops: AUC, TPR (positives) and FPR (negatives) at 0.5."""
    from torch.utils.data import DataLoader

    from ..eval.metrics import roc_auc

    model.eval()
    logits = np.concatenate([model(b["image"])[2].numpy().ravel() for b in DataLoader(ds, batch_size=batch_size)])
    model.train()
    y = ds.labels
    out = {"hard_auc": roc_auc(logits, y) if 0 < y.sum() < len(y) else float("nan")}
    if (y == 1).any():
        out["hard_tpr"] = float((logits[y == 1] >= 0).mean())
    if (y == 0).any():
        out["hard_fpr"] = float((logits[y == 0] >= 0).mean())
    return out
