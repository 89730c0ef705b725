"""The tracking loop: crop each face from its previous landmarks, run the network on all faces in
one batch, and call the detector only when it can find something new.

Per frame:
1. Every live track is cropped from its last landmarks (smoothed, see 4) with the model's crop rule
   and all crops go through the pipeline in one batch. A track whose face score falls under
   ``score_threshold`` ends.
2. Two tracks whose landmark boxes overlap by more than ``merge_iou`` have converged on the same
   face: the younger one ends (the older id stays).
3. The detector runs when there is no track, when a track ended this frame, or when
   ``detect_every`` frames have passed since its last call (0 disables the periodic call), and only
   while fewer than ``max_faces`` faces are tracked. A box that overlaps a live track (IoU above
   ``overlap_iou`` or either centre inside the other box) is ignored. Every other box is cropped
   with the detector's own calibration, run through the network (plus one refinement pass from the
   predicted landmarks) and becomes a track only when the face score confirms it. A face found again
   within ``reuse_id_frames`` frames of a loss, overlapping the lost track's box or within one face
   size of it, gets that track's id back.
4. Landmarks and pose are smoothed per track (One Euro, reset when a track starts). The next crop
   comes from the smoothed landmarks (``crop_from_smoothed``): a crop that follows the network's
   own flicker feeds it back, and the filter lags a quarter frame at most at fast motion. On the
   shared videos this cut the output jitter from 0.73 to 0.61 % of the face size (BENCHMARKS.md).

A track also ends when its landmarks are not finite or span less than ``min_face_px``.
Frames that change size end every track (their coordinates mean nothing in the new frame).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..core.crop import crop_affine, params_from_landmarks
from ..detection import Detector, create_detector
from ..core.face import Face, box_iou, centre_inside, landmark_box
from ..core.frames import as_bgr
from .smoothing import FaceSmoother, SmoothingConfig


@dataclass
class TrackerStats:
    frames: int = 0
    frames_with_face: int = 0
    detector_calls: int = 0
    tracks_started: int = 0  # new ids
    tracks_resumed: int = 0  # a lost face found again under its old id
    tracks_lost: int = 0
    merges: int = 0
    size_resets: int = 0
    pipeline_calls: int = 0

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


@dataclass(eq=False)  # tracks compare by identity
class _Track:
    id: int
    landmarks: np.ndarray  # raw network output
    pose: np.ndarray
    score: float
    first_frame: int
    smoother: FaceSmoother | None
    smoothed: np.ndarray | None = None  # last output landmarks; the next crop comes from these

    @property
    def box(self) -> tuple[float, float, float, float]:
        # The smoothed landmarks are the steadier estimate of where the face is: one wild raw
        # prediction before a loss must not move the box that a re-detection is matched against.
        return landmark_box(self.smoothed if self.smoothed is not None else self.landmarks)


def _valid_box(box: tuple) -> bool:
    return len(box) == 4 and bool(np.all(np.isfinite(box))) and box[2] > 0 and box[3] > 0


def _centre_distance(a: tuple, b: tuple) -> float:
    """Distance between box centres in units of ``b``'s larger side. A face that moved too fast to
    be followed (the usual reason for a loss) is found again about this far from where it was."""
    d = np.hypot(a[0] + a[2] / 2 - b[0] - b[2] / 2, a[1] + a[3] / 2 - b[1] - b[3] / 2)
    return float(d / max(b[2], b[3], 1e-9))


def _overlaps(a: tuple, b: tuple, iou: float) -> bool:
    return box_iou(a, b) > iou or centre_inside(a, b) or centre_inside(b, a)


class Tracker:
    """Multi-face tracker. ``track(frame)`` returns the faces of that frame as ``Face`` records.

    ``pipeline``: an object with ``.info`` (ModelInfo) and ``.run(frame, affines)``; when None, one
    is created from ``model``/``backend``/``threads``. ``detector``: a name (``haar``, ``yunet``,
    ``blazeface``, ``yunet:/path/model.onnx``) or an object with ``detect(frame)`` and
    ``calibration``.
    """

    def __init__(
        self,
        pipeline: Any = None,
        detector: "str | Detector" = "blazeface",
        *,
        model: str | None = None,
        backend: str = "auto",
        threads: int = 1,
        max_faces: int = 4,
        score_threshold: float = 0.5,
        confirm_threshold: float | None = None,
        detect_every: int = 90,
        refine: bool = True,
        overlap_iou: float = 0.3,
        merge_iou: float = 0.5,
        reuse_id_frames: int = 15,
        min_face_px: float = 12.0,
        smooth: bool = True,
        crop_from_smoothed: bool = True,
        smoothing: SmoothingConfig = SmoothingConfig(),
        fps: float = 30.0,
    ) -> None:
        if max_faces < 1:
            raise ValueError(f"max_faces must be at least 1, got {max_faces}")
        if detect_every < 0:
            raise ValueError(f"detect_every must be >= 0 (0 = no periodic detection), got {detect_every}")
        self.detector = create_detector(detector)  # first: a missing detector fails before a model loads
        if pipeline is None:
            from ..runtime import create_pipeline

            pipeline = create_pipeline(model=model, backend=backend, threads=threads, max_faces=max_faces)
        self.pipeline = pipeline
        self.rule = pipeline.info.crop_rule
        self.scheme = pipeline.info.scheme
        self.max_faces = max_faces
        self.score_threshold = score_threshold
        self.confirm_threshold = score_threshold if confirm_threshold is None else confirm_threshold
        self.detect_every, self.refine = detect_every, refine
        self.overlap_iou, self.merge_iou, self.reuse_id_frames = overlap_iou, merge_iou, reuse_id_frames
        self.min_face_px = min_face_px
        self.smooth, self.smoothing, self.fps = smooth, smoothing, fps
        self.crop_from_smoothed = crop_from_smoothed
        self.stats = TrackerStats()
        self._last_id = 0  # ids never repeat, not even after reset()
        self.reset()

    def reset(self) -> None:
        """Forget every track (the counters keep counting)."""
        self._tracks: list[_Track] = []
        self._lost: list[tuple[int, tuple, int]] = []  # (id, last box, frame lost)
        self._shape: tuple[int, int] | None = None
        self._since_detect = 0

    @property
    def num_tracks(self) -> int:
        return len(self._tracks)

    def track(self, frame: np.ndarray, timestamp: float | None = None) -> list[Face]:
        """Faces in one frame (BGR, grey or BGRA uint8). ``timestamp`` in seconds drives the
        smoothing; without it frames are taken to be ``1/fps`` apart."""
        frame = as_bgr(frame)
        index = self.stats.frames
        self.stats.frames += 1
        t = index / self.fps if timestamp is None else float(timestamp)
        if self._shape is not None and frame.shape[:2] != self._shape and (self._tracks or self._lost):
            self.stats.size_resets += 1
            self.reset()
        self._shape = frame.shape[:2]

        lost_now = self._update_tracks(frame, index)
        lost_now |= self._merge_tracks()  # a merged face may hide another one: look again
        self._since_detect += 1
        wants = not self._tracks or lost_now or (self.detect_every and self._since_detect >= self.detect_every)
        if wants and len(self._tracks) < self.max_faces:
            self._detect(frame, index)
        self._lost = [x for x in self._lost if index - x[2] <= self.reuse_id_frames]

        faces = [self._output(tr, index, t) for tr in self._tracks]
        self.stats.frames_with_face += bool(faces)
        return faces

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
        affines = [self._affine(tr.smoothed if self.crop_from_smoothed and tr.smoothed is not None else tr.landmarks)
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
                if score < self.score_threshold or not self._plausible(lm):
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
        return bool(np.all(np.isfinite(landmarks))) and float(np.ptp(landmarks, axis=0).max()) >= self.min_face_px

    def _end(self, tr: _Track, index: int) -> None:
        self.stats.tracks_lost += 1
        self._lost.append((tr.id, tr.box, index))

    def _merge_tracks(self) -> bool:
        keep: list[_Track] = []
        for tr in sorted(self._tracks, key=lambda x: x.first_frame):  # oldest first
            if any(box_iou(tr.box, k.box) > self.merge_iou for k in keep):
                self.stats.merges += 1
                # Crossing faces merge while one hides the other; when it shows again near here
                # it gets its id back.
                self._lost.append((tr.id, tr.box, self.stats.frames - 1))
                continue
            keep.append(tr)
        merged = len(keep) < len(self._tracks)
        self._tracks = sorted(keep, key=lambda x: x.id)
        return merged

    def _detect(self, frame: np.ndarray, index: int) -> None:
        self.stats.detector_calls += 1
        self._since_detect = 0
        boxes = [d.box for d in self.detector.detect(frame) if _valid_box(d.box)]
        boxes = [b for b in boxes if not any(_overlaps(b, tr.box, self.overlap_iou) for tr in self._tracks)]
        boxes = boxes[: self.max_faces - len(self._tracks)]
        if not boxes:
            return
        calib = self.detector.calibration
        affines = [crop_affine(calib.crop_params(b, self.rule.landmark_scale), self.rule.size) for b in boxes]
        res = self._run(frame, affines)
        landmarks, pose, score = res.landmarks, res.pose, res.face_score
        if self.refine:
            # The box crop is rougher than a landmark crop; one pass from the predicted landmarks
            # gives the crop the track will use next frame, so its score is the one that counts.
            ok = [i for i in range(len(boxes)) if np.all(np.isfinite(landmarks[i]))]
            refined = [self._affine(np.asarray(landmarks[i], dtype=np.float64)) for i in ok]
            ok = [i for i, a in zip(ok, refined) if a is not None]
            if not ok:
                return
            res = self._run(frame, [a for a in refined if a is not None])
            landmarks, pose, score = res.landmarks, res.pose, res.face_score
        for i in range(len(landmarks)):
            lm = np.asarray(landmarks[i], dtype=np.float64)
            if float(score[i]) < self.confirm_threshold or not self._plausible(lm):
                continue
            box = landmark_box(lm)
            if any(box_iou(box, tr.box) > self.merge_iou for tr in self._tracks):
                continue  # two boxes on one face, or the refinement walked onto a tracked face
            self._tracks.append(self._start(lm, np.asarray(pose[i], dtype=np.float64), float(score[i]), index))
        self._tracks.sort(key=lambda x: x.id)

    def _start(self, landmarks: np.ndarray, pose: np.ndarray, score: float, index: int) -> _Track:
        box = landmark_box(landmarks)
        near = [x for x in self._lost if _overlaps(box, x[1], self.overlap_iou) or _centre_distance(box, x[1]) < 1.0]
        old = min(near, key=lambda x: _centre_distance(box, x[1]), default=None)
        if old is not None and all(tr.id != old[0] for tr in self._tracks):
            self._lost.remove(old)
            self.stats.tracks_resumed += 1
            track_id = old[0]
        else:
            self.stats.tracks_started += 1
            self._last_id += 1
            track_id = self._last_id
        smoother = FaceSmoother(self.smoothing) if self.smooth else None
        return _Track(track_id, landmarks, pose, score, index, smoother)

    def _output(self, tr: _Track, index: int, t: float) -> Face:
        if tr.smoother is not None:
            lm, pose = tr.smoother(tr.landmarks, tr.pose, t)
            tr.smoothed = lm
        else:
            lm, pose = tr.landmarks, tr.pose
        return Face(id=tr.id, box=landmark_box(lm), landmarks=lm.astype(np.float32),
                    pose=tuple(float(v) for v in pose), score=tr.score, age=index - tr.first_frame)
