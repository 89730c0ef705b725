"""The tracking loop: crop each face from its previous landmarks, run the network on all faces in
one batch, and search for new faces off the critical path.

Per frame (the knobs are ``TrackerConfig`` fields, config.py):
1. A hard shot cut (cuts.py) ends every track, forgets the lost ones and drops a search in flight:
   no id survives a cut.
2. Every live track is cropped from its last landmarks (smoothed, see 5) with the model's crop rule
   and all crops go through the pipeline in one batch. A track whose face score falls under
   ``score_threshold`` ends. Two tracks whose landmark boxes overlap by more than ``merge_iou``
   have converged on one face: the younger one ends (the older id stays).
3. The detector is wanted when there is no track, when a track ended this frame, or every
   ``detect_every`` frames, and only while fewer than ``max_faces`` faces are tracked. With no
   track it runs on the frame itself (nothing is tracked that could wait, and a still image gets
   its faces at once). Otherwise it runs on a worker thread (async_detector.py) on a copy of this
   frame and its result is merged later: exactly ``detect_lag`` frames later in ``deterministic``
   mode (the same output on every run), on the first frame after it finishes in ``realtime`` mode.
4. Merging (new_faces.py): a box that overlaps a live track, where it is now or where it was on
   the searched frame, is ignored. The other candidates, ranked by score x size, are cropped with
   the detector's calibration (turned to the eye line when the detector gives eye keypoints), run
   through the network in batches, refined once from the predicted landmarks, and start a track
   when the face score confirms them. A face found again within ``reuse_id_frames`` frames of a
   loss, overlapping the lost box or within one face size of it, gets that id back.
5. Landmarks and pose are smoothed per track (One Euro); the next crop comes from the smoothed
   landmarks (``crop_from_smoothed``).

A track also ends when its landmarks are not finite or span less than ``min_face_px``. Frames that
change size end every track. ``track`` is not re-entrant: a second thread calling it while a call
runs gets a RuntimeError. ``close()`` (or ``with Tracker() as t:``) ends the worker thread.
"""
from __future__ import annotations

import dataclasses
import math
import threading
import time
import weakref
from typing import Any, Callable

import numpy as np

from ..core.crop import crop_affine, params_from_landmarks
from ..core.face import Face, box_iou, landmark_box
from ..core.frames import as_bgr
from ..core.threads import SearchGate
from ..detection import BoxCalibration, Detector, create_detector
from ..detection.turned import detect_half_turned
from .async_detector import DetectorWorker
from .new_faces import NewFaces
from .config import TrackerConfig
from .cuts import CutDetector
from .tracks import LatencyLog, Track, TrackerStats, merge_searches, overlaps

__all__ = ["Tracker", "TrackerConfig", "TrackerStats"]


class Tracker(NewFaces):
    """Multi-face tracker. ``track(frame)`` returns the faces of that frame as ``Face`` records.

    ``pipeline``: an object with ``.info`` (ModelInfo) and ``.run(frame, affines)``; when None, one
    is created from ``model``/``backend``/``threads``. ``detector``: a name (``haar``, ``yunet``,
    ``blazeface``, ``yunet:/path/model.onnx``) or an object with ``detect(frame)`` and a
    ``calibration`` (``detection.BoxCalibration``). ``config``: a ``TrackerConfig``; keyword options override its fields
    (``Tracker(max_faces=2)``).
    """

    def __init__(self, pipeline: Any = None, detector: "str | Detector" = "blazeface", *, model: str | None = None,
                 backend: str = "auto", threads: int = 1, config: TrackerConfig | None = None, **options: Any) -> None:
        if config is not None and not isinstance(config, TrackerConfig):
            raise TypeError(f"config must be a TrackerConfig, got {type(config).__name__}")
        unknown = sorted(set(options) - set(TrackerConfig.field_names()))
        if unknown:
            raise TypeError(f"unknown tracker option(s) {', '.join(unknown)}; TrackerConfig has {', '.join(TrackerConfig.field_names())}")
        self.config = cfg = dataclasses.replace(config or TrackerConfig(), **options)
        self.detector = create_detector(detector)  # first: a missing detector fails before a model loads
        if not isinstance(getattr(self.detector, "calibration", None), BoxCalibration):
            raise TypeError(f"detector {type(self.detector).__name__} needs a calibration (atpn_edge.detection.BoxCalibration, "
                            "e.g. BoxCalibration() for boxes that are landmark boxes): the tracker builds first crops from it")
        if pipeline is None:
            from ..runtime import create_pipeline

            pipeline = create_pipeline(model=model, backend=backend, threads=threads, max_faces=cfg.max_faces)
        self.pipeline = pipeline
        self.rule, self.scheme = pipeline.info.crop_rule, pipeline.info.scheme
        self.stats = TrackerStats()
        self._frame_ms, self._detector_ms = LatencyLog(), LatencyLog()
        self._worker = DetectorWorker(self.detector)
        weakref.finalize(self, self._worker.close)  # a tracker dropped without close() leaves no thread
        self._cuts = CutDetector()
        self._call_lock = threading.Lock()
        self._closed = False
        self._last_id = 0  # ids never repeat, not even after reset()
        self._doubted = False  # a track started from a first crop that may have shown it upside down (new_faces.py)
        self._crop_memo: dict | None = None  # network results by crop during one search (new_faces.py)
        # Detectors trained on upright faces only (BlazeFace) say so; with them new faces are
        # checked for being upside down (upside_down_check, upside_down_search).
        self._upright_only = bool(getattr(self.detector, "upright_only", False))
        self._requested_at = 0  # frame of the search in flight
        self._shot = 0  # counts cuts, size changes and resets: a search from an earlier shot is dropped
        self.reset()

    # -- public --------------------------------------------------------------------------------

    def reset(self) -> None:
        """Forget every track and any search in flight (the counters keep counting)."""
        self._tracks: list[Track] = []
        self._lost: list[tuple[int, tuple, int]] = []  # (id, last box, frame lost)
        self._shape: tuple[int, int] | None = None
        self._since_detect = 0
        self._last_t: float | None = None
        self._shot += 1
        self._worker.discard()
        self._cuts.reset()

    @property
    def num_tracks(self) -> int:
        return len(self._tracks)

    @property
    def search_gate(self) -> SearchGate:
        """The turns the detector's worker takes with a file's decoder (``FrameSource.defer_to``)."""
        return self._worker.gate

    def track(self, frame: np.ndarray, timestamp: float | None = None) -> list[Face]:
        """Faces in one frame (BGR, grey or BGRA uint8). ``timestamp`` in seconds drives the
        smoothing; without it frames are taken to be ``1/fps`` apart. A timestamp that does not
        increase is replaced by the previous one plus ``1/fps``; NaN or inf raises ValueError."""
        if not self._call_lock.acquire(blocking=False):
            raise RuntimeError("Tracker.track was called from two threads at once; a Tracker follows one "
                               "video, so use one Tracker per thread (or serialise the calls)")
        try:
            if self._closed:
                raise RuntimeError("Tracker.track called after close()")
            t0 = time.perf_counter()
            faces = self._track(frame, timestamp)
            self._frame_ms.add(time.perf_counter() - t0)
            return faces
        finally:
            self._call_lock.release()

    def latency(self) -> dict[str, float | int | None]:
        """Per-frame time of ``track`` (ms; p50/p90/p99 over the last 16384 frames) and the
        detector's own time per call (``detector_p50``...; on the worker thread when asynchronous)."""
        out: dict[str, float | int | None] = dict(self._frame_ms.percentiles_ms())
        out.update({f"detector_{k}": v for k, v in self._detector_ms.percentiles_ms().items()})
        out["detector_calls"] = len(self._detector_ms)
        return out

    def close(self) -> None:
        """End the detector thread (waiting for a search in progress). Idempotent."""
        self._closed = True
        self._worker.close()

    def __enter__(self) -> "Tracker":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- one frame -----------------------------------------------------------------------------

    def _track(self, frame: np.ndarray, timestamp: float | None) -> list[Face]:
        frame = as_bgr(frame)  # the one frame check (core.validate)
        t = self._time(timestamp)  # may raise: before any state changes
        index = self.stats.frames
        self.stats.frames += 1
        if self._shape is not None and frame.shape[:2] != self._shape and (self._tracks or self._lost or self._worker.busy):
            self.stats.size_resets += 1
            self.reset()
        self._shape = frame.shape[:2]
        if self.config.cut_detection and self._cuts.update(frame):
            self.stats.cuts += 1
            self._end_shot(index)
        self._last_t = t

        lost_now = self._update_tracks(frame, index)
        lost_now |= self._merge_tracks()  # a merged face may hide another one: look again
        self._collect(frame, index)
        self._since_detect += 1
        cfg = self.config
        wants = lost_now or (cfg.detect_every and self._since_detect >= cfg.detect_every)
        if len(self._tracks) < cfg.max_faces:
            if not self._tracks or (wants and cfg.detection == "sync"):
                self._detect_now(frame, index)
            elif wants and not self._worker.busy:
                self._submit(frame, index)
        self._lost = [x for x in self._lost if index - x[2] <= cfg.reuse_id_frames]

        faces = [self._output(tr, index, t) for tr in self._tracks]
        self.stats.frames_with_face += bool(faces)
        return faces

    def _time(self, timestamp: float | None) -> float:
        step = 1.0 / self.config.fps
        if timestamp is None:
            t = self.stats.frames * step
        else:
            try:
                t = float(timestamp)
            except (TypeError, ValueError):
                raise TypeError(f"timestamp must be a number of seconds, got {timestamp!r}") from None
            if not math.isfinite(t):
                raise ValueError(f"timestamp must be a finite number of seconds, got {timestamp!r}")
        if self._last_t is not None and t <= self._last_t:
            t = self._last_t + step  # time going backwards would freeze or blow up the smoothing
        return t

    def _end_shot(self, index: int) -> None:
        self.stats.tracks_lost += len(self._tracks)
        self._tracks, self._lost = [], []  # a face of the next shot must not take an old id
        self._shot += 1
        self._worker.discard()

    # -- steps ---------------------------------------------------------------------------------

    def _run(self, frame: np.ndarray, affines: list[np.ndarray]):
        self.stats.pipeline_calls += 1
        return self.pipeline.run(frame, np.stack(affines).astype(np.float32))

    def _affine(self, landmarks: np.ndarray) -> np.ndarray | None:
        try:
            return crop_affine(params_from_landmarks(landmarks, self.rule, self.scheme), self.rule.size)
        except ValueError:  # degenerate or non-finite landmarks: the track cannot continue
            return None

    def _update_tracks(self, frame: np.ndarray, index: int) -> bool:
        if not self._tracks:
            return False
        use_smoothed = self.config.crop_from_smoothed
        affines = [self._affine(tr.smoothed if use_smoothed and tr.smoothed is not None else tr.landmarks)
                   for tr in self._tracks]
        live = [tr for tr, a in zip(self._tracks, affines) if a is not None]
        lost = len(live) < len(self._tracks)
        for tr in self._tracks:
            if tr not in live:
                self._end(tr, index)
        if live:
            res = self._run(frame, [a for a in affines if a is not None])
            kept = []
            for i, tr in enumerate(live):
                score = float(res.face_score[i])
                lm = np.asarray(res.landmarks[i], dtype=np.float64)
                if score < self.config.score_threshold or not self._plausible(lm):
                    self._end(tr, index)
                    lost = True
                    continue
                tr.landmarks, tr.pose, tr.score = lm, np.asarray(res.pose[i], dtype=np.float64), score
                kept.append(tr)
            live = kept
        self._tracks = live
        return lost

    def _plausible(self, landmarks: np.ndarray) -> bool:
        # A face that collapses to a few pixels would shrink its own next crop, frame after frame.
        return bool(np.all(np.isfinite(landmarks))) and float(np.ptp(landmarks, axis=0).max()) >= self.config.min_face_px

    def _end(self, tr: Track, index: int) -> None:
        self.stats.tracks_lost += 1
        self._lost.append((tr.id, tr.box, index))

    def _merge_tracks(self) -> bool:
        keep: list[Track] = []
        for tr in sorted(self._tracks, key=lambda x: x.first_frame):  # oldest first
            if any(box_iou(tr.box, k.box) > self.config.merge_iou for k in keep):
                self.stats.merges += 1
                # Crossing faces merge while one hides the other; when it shows again near here
                # it gets its id back.
                self._lost.append((tr.id, tr.box, self.stats.frames - 1))
                continue
            keep.append(tr)
        merged = len(keep) < len(self._tracks)
        self._tracks = sorted(keep, key=lambda x: x.id)
        return merged

    # -- detection -----------------------------------------------------------------------------

    def _detect_now(self, frame: np.ndarray, index: int) -> None:
        self.stats.detector_calls += 1
        self._since_detect = 0
        t0 = time.perf_counter()
        tracked = self._tracked_test()
        detections = list(self.detector.detect(frame) if tracked is None else self.detector.detect(frame, tracked=tracked))
        self._detector_ms.add(time.perf_counter() - t0)
        if not (self.config.upside_down_search and self._upright_only and not self._tracks):
            self._add_faces(frame, index, detections, {})
            return
        # Nothing tracked: when the search starts no track, or a face it starts may be upside down
        # (its first crop scored low), the frame turned half round is searched too and every
        # candidate of both searches is tried again (faces found on both: the higher detector
        # score). Upright faces never pass here a second time (their first crops score >= 0.999),
        # nor does a frame whose doubtful candidates all failed while others started tracks (a
        # false box next to a face: measured, no upside-down face lost).
        before = (list(self._lost), self._last_id, self.stats.tracks_started, self.stats.tracks_resumed)
        self._doubted = False
        self._crop_memo = {}
        try:
            self._add_faces(frame, index, detections, {})
            if self._tracks and not self._doubted:
                return
            self.stats.detector_calls += 1
            t0 = time.perf_counter()
            turned = detect_half_turned(self.detector, frame)
            self._detector_ms.add(time.perf_counter() - t0)
            if not turned:
                return
            self._tracks = []
            self._lost, self._last_id, self.stats.tracks_started, self.stats.tracks_resumed = before
            self._add_faces(frame, index, merge_searches(detections, turned, self.config.overlap_iou), {})
        finally:
            self._crop_memo = None

    def _submit(self, frame: np.ndarray, index: int) -> None:
        self.stats.detector_calls += 1
        self._since_detect = 0
        self._requested_at = index
        # A copy: the caller may reuse its frame buffer while the worker reads it.
        self._worker.submit(frame.copy(), (index, {tr.id: tr.box for tr in self._tracks}, self._shot), self._tracked_test())

    def _tracked_test(self) -> Callable[[tuple], bool] | None:
        """For a detector that takes one: whether a box lies on a face tracked now (the test
        ``_add_faces`` drops detections by), so the detector spends no second look on it."""
        if not self._tracks or not getattr(self.detector, "takes_tracked", False):
            return None
        boxes, iou = [tr.box for tr in self._tracks], self.config.overlap_iou
        return lambda box: any(overlaps(box, b, iou) for b in boxes)

    def _collect(self, frame: np.ndarray, index: int) -> None:
        if not self._worker.busy:
            return
        if self.config.detection == "deterministic":
            result = self._worker.wait() if index - self._requested_at >= self.config.detect_lag else None
        else:
            result = self._worker.poll()
        if result is None:
            return
        self._detector_ms.add(result.seconds)
        _, searched_boxes, shot = result.tag
        if shot != self._shot:
            self.stats.detections_dropped += 1
            return
        self._add_faces(frame, index, result.detections, searched_boxes)

    def _output(self, tr: Track, index: int, t: float) -> Face:
        if tr.smoother is not None:
            lm, pose = tr.smoother(tr.landmarks, tr.pose, t)
            tr.smoothed = lm
        else:
            lm, pose = tr.landmarks, tr.pose
        return Face(id=tr.id, box=landmark_box(lm), landmarks=lm.astype(np.float32),
                    pose=tuple(float(v) for v in pose), score=tr.score, age=index - tr.first_frame)
