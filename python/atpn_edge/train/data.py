"""Training and validation crops as torch Datasets over the ``atpn_edge.datasets`` loaders.

Images are read once and kept in RAM, downscaled so the face's crop side is at most
``preload_side`` px: a sample then costs one small warp. Crops come from the runtime's own crop
function (``params_from_landmarks`` + ``CropParams.jittered`` + ``crop_affine``), warped like the
runtime's ``warp_crop`` (bilinear, constant 0 border) and normalised with the metadata's mean/std.

Partial labels (AFLW's 21 points, 14 of which map onto the 68) get their crop from a similarity fit
of the mean 68-point face to the visible points, so they are framed like full-label crops.
Targets: landmarks crop-normalised with a per-point mask; pose in the crop's axes with a per-angle
mask; face = 1 for well-framed crops, 0 for shifted/scaled-off crops and non-face images.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import torch
from torch.utils.data import Dataset

from ..datasets import FaceSample
from ..core.landmarks import IBUG68
from ..core.pose import flip_pose, rotate_pose_in_image
from ..core.crop import CropParams, CropRule, crop_affine, params_from_landmarks, to_crop_normalised
from ..core.crop_windows import nonface_window, offface_window
from .augment import PhotoAug, photometric
from .config import DataConfig

JAW = slice(0, 17)  # iBUG 68 jaw outline
MIN_VISIBLE = 5  # partial labels with fewer mapped points are not used (the crop fit is unreliable)


@dataclass
class Record:
    name: str
    source: str  # "300w", "aflw2000", "aflw_crops", "negatives"
    image: np.ndarray  # uint8 BGR, downscaled
    landmarks: np.ndarray  # [K, 2] pixels of ``image``, NaN rows for missing points
    pose: np.ndarray  # [3] yaw, pitch, roll (degrees, frame axes), NaN unknown
    params: CropParams | None  # the unjittered crop; None for non-face images


def crop_rule(cfg: DataConfig, size: int = 112) -> CropRule:
    return CropRule(size=size, landmark_scale=cfg.landmark_scale, box_scale=cfg.box_scale, box_shift_y=cfg.box_shift_y)


def mean_shape(landmark_sets: list[np.ndarray], rule: CropRule) -> np.ndarray:
    """Mean crop-normalised face [K, 2] over complete annotations, in the crops the rule makes."""
    us = [to_crop_normalised(lm, crop_affine(params_from_landmarks(lm, rule), rule.size), rule.size)
          for lm in landmark_sets if np.isfinite(lm).all()]
    if not us:
        raise ValueError("mean_shape needs at least one complete annotation")
    return np.mean(us, axis=0)


def params_from_partial(points: np.ndarray, template: np.ndarray, size: int) -> CropParams | None:
    """Crop for partial landmarks: the similarity (Umeyama) that maps the template's visible points
    (crop pixels) onto the annotation (frame pixels) is the crop -> frame transform."""
    vis = np.isfinite(points).all(axis=1)
    if vis.sum() < MIN_VISIBLE:
        return None
    src = template[vis] * size - 0.5
    dst = points[vis].astype(np.float64)
    ms, md = src.mean(0), dst.mean(0)
    a, b = src - ms, dst - md
    u, sv, vt = np.linalg.svd(b.T @ a)
    d = np.diag([1.0, np.sign(np.linalg.det(u @ vt))])
    rot = u @ d @ vt
    scale = float(np.trace(np.diag(sv) @ d) / (a ** 2).sum())
    if not scale > 0:
        return None
    t = md - scale * rot @ ms
    centre = scale * rot @ np.full(2, (size - 1) / 2.0) + t
    return CropParams(center=(float(centre[0]), float(centre[1])), side=scale * size,
                      angle=float(np.arctan2(rot[1, 0], rot[0, 0])))


def _downscale(img: np.ndarray, factor: float) -> tuple[np.ndarray, np.ndarray]:
    """Image scaled by ``factor`` (<= 1, INTER_AREA) and the per-axis scale actually applied."""
    h, w = img.shape[:2]
    if factor >= 1.0:
        return img, np.ones(2)
    nw, nh = max(1, round(w * factor)), max(1, round(h * factor))
    return cv2.resize(img, (nw, nh), interpolation=cv2.INTER_AREA), np.array([nw / w, nh / h])


def preload(samples: list[FaceSample], source: str, rule: CropRule, preload_side: float,
            template: np.ndarray | None = None) -> list[Record]:
    """Read and downscale the images of face samples (or non-face images with ``is_face=False``)."""
    out = []
    for s in samples:
        img = cv2.imread(str(s.image), cv2.IMREAD_COLOR)
        if img is None:
            raise FileNotFoundError(f"cannot read image {s.image}")
        if not s.is_face:
            img, _ = _downscale(img, 400.0 / max(img.shape[:2]))
            out.append(Record(s.name, source, img, s.landmarks, s.pose, None))
            continue
        lm = s.landmarks.astype(np.float64)
        params = params_from_landmarks(lm, rule) if s.has_all_points else params_from_partial(lm, template, rule.size)
        if params is None:
            continue
        img, k = _downscale(img, preload_side / params.side)
        lm = (lm + 0.5) * k - 0.5  # pixel centres under OpenCV's resize geometry
        params = params_from_landmarks(lm, rule) if s.has_all_points else params_from_partial(lm, template, rule.size)
        out.append(Record(s.name, source, img, lm.astype(np.float32), s.pose, params))
    return out


def _pose_in_crop(pose: np.ndarray, angle: float) -> np.ndarray:
    if np.isfinite(pose).all():
        return rotate_pose_in_image(pose, angle).astype(np.float32)
    # Only yaw known (AFLW): an in-plane rotation moves yaw only through pitch/roll, which we lack.
    return pose.copy()


class FaceCrops(Dataset):
    """Crops of a list of records. ``train=True``: random jitter, flips, off-face negatives and
    photometric noise drawn from ``reseed(epoch)``'s generator; ``train=False``: fixed crops
    (unjittered positives, then one off-face negative per face and 8 crops per non-face image)."""

    def __init__(self, records: list[Record], cfg: DataConfig, size: int = 112, train: bool = True, seed: int = 0):
        self.records, self.cfg, self.size, self.train, self.seed = records, cfg, size, train, seed
        self.mean = np.asarray(cfg.mean, np.float32).reshape(3, 1, 1)
        self.std = np.asarray(cfg.std, np.float32).reshape(3, 1, 1)
        self.aug = PhotoAug()
        self.rng = np.random.default_rng(seed)
        if train:
            self.index = [(i, "auto") for i in range(len(records))]
        else:
            faces = [i for i, r in enumerate(records) if r.params is not None]
            self.index = [(i, "face") for i in faces] + [(i, "offface") for i in faces]
            self.index += [(i, "nonface") for i, r in enumerate(records) if r.params is None for _ in range(8)]

    def reseed(self, epoch: int) -> None:
        self.rng = np.random.default_rng([self.seed, epoch])

    def __len__(self) -> int:
        return len(self.index)

    def sample_weights(self, weights: dict[str, float]) -> torch.Tensor:
        """Per-item weights so each source is drawn with the configured share."""
        counts: dict[str, int] = {}
        for r in self.records:
            counts[r.source] = counts.get(r.source, 0) + 1
        return torch.tensor([weights.get(r.source, 0.0) / counts[r.source] for r in self.records], dtype=torch.double)

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        idx, mode = self.index[i]
        rng = self.rng if self.train else np.random.default_rng([self.seed, i])
        rec = self.records[idx]
        if mode == "auto":
            mode = "nonface" if rec.params is None else ("offface" if rng.random() < self.cfg.offface_p else "face")
        params = self._window(rec, mode, rng)
        affine = crop_affine(params, self.size)
        crop = cv2.warpAffine(rec.image, affine, (self.size, self.size), flags=cv2.INTER_LINEAR,
                              borderMode=cv2.BORDER_CONSTANT, borderValue=0)
        k = rec.landmarks.shape[0]
        lm, lm_mask = np.zeros((k, 2), np.float32), np.zeros(k, np.float32)
        pose, pose_mask = np.zeros(3, np.float32), np.zeros(3, np.float32)
        if mode == "face":
            u = to_crop_normalised(rec.landmarks, affine, self.size)
            lm_mask = np.isfinite(u).all(axis=1).astype(np.float32) * self.cfg.landmark_weights.get(rec.source, 1.0)
            if rec.source in self.cfg.jaw_free:
                lm_mask[JAW] = 0.0
            lm = np.nan_to_num(u).astype(np.float32)
            p = _pose_in_crop(rec.pose, params.angle)
            pose_mask = np.isfinite(p).astype(np.float32)
            pose = np.nan_to_num(p).astype(np.float32)
        if self.train and rng.random() < self.cfg.flip_p:
            crop = crop[:, ::-1]
            flip = list(IBUG68.flip) if k == IBUG68.num_points else None
            if flip is None:
                raise ValueError(f"no flip map for {k} landmarks")
            lm, lm_mask = lm[flip], lm_mask[flip]
            lm[:, 0] = np.where(lm_mask > 0, 1.0 - lm[:, 0], 0.0)
            pose = flip_pose(pose).astype(np.float32)
        if self.train and self.cfg.photometric:
            crop = photometric(np.ascontiguousarray(crop), rng, self.aug)
        image = (crop[:, :, ::-1].transpose(2, 0, 1).astype(np.float32) / 255.0 - self.mean) / self.std
        return {
            "image": torch.from_numpy(np.ascontiguousarray(image)),
            "landmarks": torch.from_numpy(lm), "landmarks_mask": torch.from_numpy(lm_mask),
            "pose": torch.from_numpy(pose), "pose_mask": torch.from_numpy(pose_mask),
            "face": torch.tensor([1.0 if mode == "face" else 0.0]),
        }

    def _window(self, rec: Record, mode: str, rng: np.random.Generator) -> CropParams:
        if mode == "nonface":
            return nonface_window(rec.image.shape[0], rec.image.shape[1], rng)
        if mode == "offface":
            return offface_window(rec.params, rng)
        if not self.train:
            return rec.params
        cfg = self.cfg
        shift = np.clip(rng.normal(0, cfg.shift, 2), -2.5 * cfg.shift, 2.5 * cfg.shift)
        scale = float(np.exp(np.clip(rng.normal(0, cfg.scale), -2.5 * cfg.scale, 2.5 * cfg.scale)))
        rotate = float(np.radians(np.clip(rng.normal(0, cfg.rotate_deg), -3 * cfg.rotate_deg, 3 * cfg.rotate_deg)))
        return rec.params.jittered(shift=(float(shift[0]), float(shift[1])), scale=scale, rotate=rotate)


def load_records(cfg: DataConfig, root: Path, rule: CropRule, split_path: Path, limit: int | None = None,
                 pose_cache: Path | None = None) -> tuple[list[Record], list[Record], np.ndarray, dict]:
    """(train records, validation records, mean shape, split) from the shared data folder. The
    split file is read if it exists, else drawn (seeded) and written there. 300W faces get the
    fitted pose labels of ``atpn_edge.datasets.pose_labels`` (cached in ``pose_cache``)."""
    from ..datasets import load_aflw2000, load_aflw_crops, load_ibug_folder, load_negatives
    from ..datasets.pose_labels import attach_fitted_poses
    from .split import load_or_make_split

    faces = {
        "300w": load_ibug_folder(root / "300w"),
        "aflw2000": load_aflw2000(root / "aflw2000"),
        "aflw_crops": load_aflw_crops(root / "aflw_crops"),
        "negatives": load_negatives(root / "negatives"),
    }
    if limit is not None:
        faces = {k: v[:limit] for k, v in faces.items()}
    attach_fitted_poses(faces["300w"], root / "aflw2000", cache_csv=pose_cache)
    split = load_or_make_split(
        split_path, [s.name for s in faces["300w"]], [s.name for s in faces["aflw2000"]],
        [s.name for s in faces["negatives"]],
        fractions=(cfg.val_fraction_300w, cfg.val_fraction_aflw2000, cfg.val_fraction_negatives), seed=cfg.split_seed)
    held = {k: set(split.get(k, [])) for k in faces}
    train_s = {k: [s for s in v if s.name not in held[k]] for k, v in faces.items()}
    val_s = {k: [s for s in v if s.name in held[k]] for k, v in faces.items()}
    template = mean_shape([s.landmarks for k in ("300w", "aflw2000") for s in train_s[k]], rule)
    train, val = [], []
    for k in faces:
        train += preload(train_s[k], k, rule, cfg.preload_side, template)
        val += preload(val_s[k], k, rule, cfg.preload_side, template)
    return train, val, template, split
