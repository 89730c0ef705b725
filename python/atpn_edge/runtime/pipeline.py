"""The `Pipeline` interface (docs/CONTRIBUTING_INTERNAL.md) and what every backend shares.

A backend implements `_infer`: batched crop -> stage 1 -> heatmap -> stage 2, returning the raw
network outputs in the crop's terms. This base class validates the inputs once, so every backend
rejects bad frames and affines with the same message, and does the postprocessing (inverse affine,
pose from crop to frame axes, sigmoid) on the host: it is a few hundred floats per face.

N = 0 faces returns an empty result (arrays with a leading 0) instead of raising, so a tracking
loop with no live track needs no special case; N > max_faces raises.
"""
from __future__ import annotations

import threading
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass, field

import numpy as np

from ..core.model_info import ModelInfo
from ..core.validate import check_frame as _check_frame
from .crop_pose import poses_crop_to_frame

STAGES = ("warp_crop", "stage1", "heatmap", "stage2", "postprocess")


@dataclass
class PipelineResult:
    landmarks: np.ndarray  # f32 [N, K, 2], frame pixels
    landmarks_crop: np.ndarray  # f32 [N, K, 2], crop-normalised
    pose: np.ndarray  # f32 [N, 3], (yaw, pitch, roll) degrees, frame axes
    face_score: np.ndarray  # f32 [N], sigmoid of the face logit
    timings: dict[str, float] = field(default_factory=dict)  # stage -> seconds, when asked for

    def __len__(self) -> int:
        return int(self.landmarks.shape[0])


@dataclass
class RawOutputs:
    """What the network gives for a batch, before postprocessing (views into backend buffers)."""

    landmarks_crop: np.ndarray  # [N, K, 2]
    pose_crop: np.ndarray  # [N, 3], crop axes
    face_logit: np.ndarray  # [N, 1] or [N]


class Pipeline(ABC):
    """Frame + N crop affines -> landmarks (frame pixels), pose (frame axes), face score."""

    backend: str = "?"
    backend_reason: str = ""  # set by create_pipeline: why this backend was chosen

    def __init__(self, info: ModelInfo, max_faces: int) -> None:
        if max_faces < 1:
            raise ValueError(f"max_faces must be >= 1, got {max_faces}")
        self.info = info
        self.max_faces = int(max_faces)
        # Backends reuse their input/output buffers between calls: calls from several threads
        # take turns (each gets its own correct result) instead of overwriting each other's.
        self._run_lock = threading.Lock()

    def run(self, frame: np.ndarray, affines: np.ndarray, timed: bool = False) -> PipelineResult:
        """Track N faces: ``frame`` BGR uint8 [H, W, 3], ``affines`` [N, 2, 3] frame -> crop pixels.

        With ``timed=True`` the result's ``timings`` holds seconds per stage (`STAGES`): wall time
        on the CPU, GPU time between CUDA events with TensorRT (docs/RUNTIME.md).
        """
        check_frame(frame)
        aff = check_affines(affines, self.max_faces)
        n = aff.shape[0]
        if n == 0:
            return self._empty()
        timings: dict[str, float] | None = {} if timed else None
        with self._run_lock:
            raw = self._infer(frame, aff, timings)
            t0 = time.perf_counter()
            result = postprocess(raw, aff, self.info.input_size)
        if timings is not None:
            timings["postprocess"] = time.perf_counter() - t0
            result.timings = timings
        return result

    @abstractmethod
    def _infer(self, frame: np.ndarray, affines: np.ndarray, timings: dict[str, float] | None) -> RawOutputs:
        """Run crop, stage 1, heatmap and stage 2 for affines f32 [N, 2, 3], 1 <= N <= max_faces."""

    def close(self) -> None:
        """Release sessions, engines and buffers (also done by garbage collection)."""

    def __enter__(self) -> "Pipeline":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _empty(self) -> PipelineResult:
        k = self.info.num_landmarks
        return PipelineResult(
            landmarks=np.zeros((0, k, 2), np.float32),
            landmarks_crop=np.zeros((0, k, 2), np.float32),
            pose=np.zeros((0, 3), np.float32),
            face_score=np.zeros((0,), np.float32),
        )


def check_frame(frame: object) -> None:
    """The package's one frame check (TypeError for type/dtype, ValueError for shape/emptiness)."""
    _check_frame(frame)


def check_affines(affines: object, max_faces: int) -> np.ndarray:
    """Affines as contiguous float32 [N, 2, 3]; a single [2, 3] affine counts as N = 1."""
    aff = np.asarray(affines)
    if aff.ndim == 2:
        aff = aff[None]
    if aff.ndim != 3 or aff.shape[1:] != (2, 3):
        raise ValueError(f"affines must be [N, 2, 3] (frame -> crop pixels), got shape {list(aff.shape)}")
    if aff.shape[0] > max_faces:
        raise ValueError(f"{aff.shape[0]} faces but this pipeline was created with max_faces={max_faces}")
    if not np.all(np.isfinite(aff)):
        bad = sorted({int(i) for i in np.argwhere(~np.isfinite(aff))[:, 0]})
        raise ValueError(f"affines contain NaN or inf (faces {bad})")
    det = aff[:, 0, 0] * aff[:, 1, 1] - aff[:, 0, 1] * aff[:, 1, 0]
    if np.any(np.abs(det) < 1e-12):
        raise ValueError("an affine is singular (zero scale): it cannot be inverted to map landmarks back")
    return np.ascontiguousarray(aff, dtype=np.float32)


def postprocess(raw: RawOutputs, affines: np.ndarray, size: int) -> PipelineResult:
    """Crop-normalised landmarks -> frame pixels, crop-axes pose -> frame axes, logit -> score."""
    lm_crop = np.array(raw.landmarks_crop, dtype=np.float32)  # copy: raw views die with the next run
    a = affines.astype(np.float64)
    # frame = M^-1 (crop_px - t), batched over faces.
    inv_t = np.linalg.inv(a[:, :, :2]).transpose(0, 2, 1)
    landmarks = np.matmul(lm_crop * size - 0.5 - a[:, None, :, 2], inv_t).astype(np.float32)
    angles = np.arctan2(a[:, 0, 1], a[:, 0, 0])
    pose = poses_crop_to_frame(np.asarray(raw.pose_crop, np.float64).reshape(-1, 3), angles).astype(np.float32)
    logit = np.asarray(raw.face_logit, dtype=np.float64).reshape(-1)
    score = (1.0 / (1.0 + np.exp(-logit))).astype(np.float32)
    return PipelineResult(landmarks=landmarks, landmarks_crop=lm_crop, pose=pose, face_score=score)
