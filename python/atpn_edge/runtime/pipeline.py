"""The `Pipeline` interface (docs/CONTRIBUTING_INTERNAL.md) and what every backend shares.

A backend implements `_infer`: batched crop -> stage 1 -> heatmap -> stage 2, returning the raw
network outputs in the crop's terms. This base class validates the inputs once, at the public
boundary (`atpn_edge.core.validate`, so every backend rejects bad frames and affines with the same
exception and message), so backends call the native kernels directly, without re-checking; and it
does the postprocessing (inverse affine, pose from crop to frame axes, sigmoid) on the host, in one
native call: it is a few hundred floats per face.

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
from ..core.validate import check_affines as _check_affines, check_frame

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
        frame = check_frame(frame)
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
        """Run crop, stage 1, heatmap and stage 2 for a C-contiguous frame and finite affines
        f64 [N, 2, 3], 1 <= N <= max_faces (singular ones are for the crop kernel to reject)."""

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


def check_affines(affines: object, max_faces: int) -> np.ndarray:
    """Affines as contiguous float64 [N, 2, 3]; a single [2, 3] affine counts as N = 1. NaN/inf
    and singular affines are rejected by the crop kernel, which inverts them anyway (its
    ValueError names the face). Arrays already in that form skip the numpy checks: a numpy call
    before the network costs more than itself (~5-10 us, measured interleaved)."""
    a = affines
    if not (type(a) is np.ndarray and a.dtype == np.float64 and a.ndim == 3 and a.shape[1:] == (2, 3)
            and a.flags.c_contiguous):
        a = np.asarray(a)
        a = _check_affines(a, batched=a.ndim != 2)
    if a.shape[0] > max_faces:
        raise ValueError(f"{a.shape[0]} faces but this pipeline was created with max_faces={max_faces}")
    return a


def postprocess(raw: RawOutputs, affines: np.ndarray, size: int) -> PipelineResult:
    """Crop-normalised landmarks -> frame pixels, crop-axes pose -> frame axes, logit -> score, in
    one native call (new arrays: ``raw`` holds views of buffers the next frame overwrites).
    ``affines`` must be invertible (the crop kernel has checked them)."""
    global _native
    if _native is None:
        from .. import _cpu as _native
    landmarks, crop, pose, score = _native.postprocess(raw.landmarks_crop, raw.pose_crop, raw.face_logit, affines, size)
    return PipelineResult(landmarks=landmarks, landmarks_crop=crop, pose=pose, face_score=score)


_native = None  # atpn_edge._cpu, imported at the first postprocess
