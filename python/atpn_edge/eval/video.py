"""Tracking quality on a video without ground truth (the command: ``atpn-edge eval video PATH``).

Three passes over the video with one network:
1. the tracker as `atpn-edge track` runs it (smoothing on; capture thread; timed end to end),
2. the same tracker with smoothing off (the raw network output along the track),
3. the per-frame baseline: the detector on every frame, the network on the largest box's crop
   (one pass, the detector's calibrated crop), i.e. "detection + landmarks" without tracking.

Metrics (faces are compared on frames where both sides have one; for several faces, the oldest
track, matched to the baseline face nearest to it):
- ``face_share``: frames with a face / frames; ``detector_share``: detector calls / frames;
- ``id_switches``: frames whose oldest face has another id than on the previous frame (both with a face);
- ``jitter``: mean over consecutive frames of the same face of
  ``RMS_k || (l_t[k] - l_{t-1}[k]) - m(l_{t-1}[k]) || / s_t``, where ``m`` is the affine map
  (translation, rotation, scale, shear) fitted by least squares to the frame-to-frame motion of all
  points, the smooth motion of the whole face, and ``s_t`` = sqrt(w * h) of the landmark box. The
  residual is flicker (plus real non-rigid motion such as speech, which is the same for every
  method compared on one video). In percent of the face size.
- ``pose_jitter``: mean over runs of three frames of the same face of the second difference
  ``|| p_{t+1} - 2 p_t + p_{t-1} ||`` of (yaw, pitch, roll), in degrees (steady turning costs nothing).
- ``agreement_nme``: NME (normalised by sqrt(w * h) of the baseline's landmark box, in percent)
  between the tracker and the per-frame baseline: how far tracking drifts from what the network
  says on a fresh crop.
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Callable

import numpy as np

from .metrics import nme_box


def flicker(prev: np.ndarray, cur: np.ndarray) -> float:
    """Residual frame-to-frame motion of landmarks [K, 2] after removing the best affine motion,
    RMS over points, divided by sqrt(w * h) of ``cur``'s box (a fraction)."""
    prev, cur = np.asarray(prev, np.float64), np.asarray(cur, np.float64)
    design = np.hstack([prev - prev.mean(axis=0), np.ones((len(prev), 1))])
    motion, *_ = np.linalg.lstsq(design, cur - prev, rcond=None)
    resid = (cur - prev) - design @ motion
    extent = np.ptp(cur, axis=0)
    return float(np.sqrt(np.mean(np.sum(resid ** 2, axis=1))) / max(np.sqrt(extent[0] * extent[1]), 1e-9))


def jitter(track: list[tuple[int, np.ndarray] | None]) -> float | None:
    """Mean flicker over consecutive frames that show the same face id (None entries: no face)."""
    values = [flicker(a[1], b[1]) for a, b in zip(track, track[1:]) if a is not None and b is not None and a[0] == b[0]]
    return float(np.mean(values)) if values else None


def pose_jitter(track: list[tuple | None]) -> float | None:
    """Mean norm of the pose's second difference over three consecutive frames of one face id."""
    values = [float(np.linalg.norm(np.asarray(c[2]) - 2 * np.asarray(b[2]) + np.asarray(a[2])))
              for a, b, c in zip(track, track[1:], track[2:])
              if a is not None and b is not None and c is not None and a[0] == b[0] == c[0]]
    return float(np.mean(values)) if values else None


def _primary(faces) -> tuple[int, np.ndarray, tuple] | None:
    if not faces:
        return None
    f = min(faces, key=lambda x: x.id)
    return f.id, np.asarray(f.landmarks, np.float64).copy(), tuple(f.pose)


def _track_pass(path: Path, tracker, max_frames: int, on_frame: Callable[[], None]) -> tuple[list, float]:
    from ..io.sources import FrameSource

    out = []
    t0 = time.perf_counter()
    with FrameSource(str(path)) as src:
        for frame in src:
            out.append(_primary(tracker.track(frame.image, timestamp=frame.timestamp)))
            on_frame()
            if max_frames and len(out) >= max_frames:
                break
    return out, time.perf_counter() - t0


def _baseline_pass(path: Path, pipeline, detector, threshold: float, max_frames: int, on_frame: Callable[[], None]) -> list:
    from ..io.sources import FrameSource
    from ..core.crop import crop_affine
    from ..core.frames import as_bgr

    rule, out = pipeline.info.crop_rule, []
    with FrameSource(str(path)) as src:
        for frame in src:
            image = as_bgr(frame.image)
            dets = detector.detect(image)
            face = None
            if dets:
                params = detector.calibration.crop_params(dets[0].box, rule.landmark_scale)
                res = pipeline.run(image, crop_affine(params, rule.size)[None].astype(np.float32))
                if float(res.face_score[0]) >= threshold:
                    face = (0, np.asarray(res.landmarks[0], np.float64), tuple(float(v) for v in res.pose[0]))
            out.append(face)
            on_frame()
            if max_frames and len(out) >= max_frames:
                break
    return out


def _pct(x: float | None) -> float | None:
    return None if x is None else round(100.0 * x, 3)


def _deg(x: float | None) -> float | None:
    return None if x is None else round(x, 3)


def evaluate_video(path: "str | Path", pipeline=None, *, detector: str = "blazeface", detect_every: int | None = None,
                   max_faces: int = 4, score_threshold: float = 0.5, baseline: bool = True,
                   max_frames: int = 0, model: str | None = None, backend: str = "auto", threads: int = 1,
                   on_frame: Callable[[], None] = lambda: None) -> dict[str, Any]:
    """The metrics above for one video; ``on_frame`` is called after every frame of every pass (progress)."""
    from ..runtime import create_pipeline
    from ..detection import create_detector
    from ..tracking.tracker import Tracker

    if detect_every is None:  # the tracker's own default, as `atpn-edge track` runs it
        from ..tracking.config import TrackerConfig

        detect_every = TrackerConfig().detect_every
    path = Path(path)
    if pipeline is None:
        pipeline = create_pipeline(model=model, backend=backend, threads=threads, max_faces=max_faces)
    opts = dict(detector=detector, max_faces=max_faces, score_threshold=score_threshold)
    if detect_every is not None:  # None: the tracker's default
        opts["detect_every"] = detect_every
    with Tracker(pipeline, **opts) as tracker:
        smoothed, elapsed = _track_pass(path, tracker, max_frames, on_frame)
    with Tracker(pipeline, smooth=False, **opts) as raw_tracker:
        raw, _ = _track_pass(path, raw_tracker, max_frames, on_frame)
    n, s = len(smoothed), tracker.stats
    ids = [f[0] if f is not None else None for f in smoothed]
    res: dict[str, Any] = {
        "video": path.name, "frames": n, "frames_with_face": s.frames_with_face,
        "face_share": round(s.frames_with_face / n, 4) if n else 0.0,
        "detector_calls": s.detector_calls, "detector_share": round(s.detector_calls / n, 4) if n else 0.0,
        "tracks": s.tracks_started, "tracks_resumed": s.tracks_resumed,
        "id_switches": sum(1 for a, b in zip(ids, ids[1:]) if a is not None and b is not None and a != b),
        "jitter": _pct(jitter(smoothed)), "jitter_raw": _pct(jitter(raw)),
        "pose_jitter": _deg(pose_jitter(smoothed)), "pose_jitter_raw": _deg(pose_jitter(raw)),
        "fps": round(n / elapsed, 1) if elapsed > 0 else 0.0, "backend": getattr(pipeline, "backend", "?"),
        "latency_ms": tracker.latency(),
    }
    if baseline:
        base = _baseline_pass(path, pipeline, create_detector(detector), score_threshold, max_frames, on_frame)
        pairs = [(a[1], b[1]) for a, b in zip(smoothed, base) if a is not None and b is not None]
        res["baseline_face_share"] = round(sum(b is not None for b in base) / max(len(base), 1), 4)
        res["baseline_jitter"] = _pct(jitter(base))
        res["baseline_pose_jitter"] = _deg(pose_jitter(base))
        res["agreement_nme"] = _pct(float(np.mean(nme_box(np.array([p[0] for p in pairs]), np.array([p[1] for p in pairs]))))) if pairs else None
    return res
