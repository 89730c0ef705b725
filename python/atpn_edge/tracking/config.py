"""Every knob of the tracker in one frozen, validated record: ``Tracker(config=TrackerConfig(...))``.

``Tracker()`` uses the defaults; ``Tracker(max_faces=2)`` is shorthand for
``Tracker(config=TrackerConfig(max_faces=2))``. A wrong value fails here, in ``__post_init__``,
with a ``ValueError`` (or ``TypeError`` for a wrong type) naming the option, before a model loads.
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

from ..core.validate import check_int_option, check_number_option
from .smoothing import SmoothingConfig

DETECTION_MODES = ("deterministic", "realtime", "sync")
# A new face must score this to start a track (a live one ends below score_threshold): with each
# non-face image left out of atpn68-v2.1's face-head fit in turn (scripts/refit_face_head.py),
# crops of 3 of its 67 images reached 0.5 and none 0.7, while every upright, 45 and 180 deg
# validation face still reached 0.7. The default atpn68s-v3: 2 of the 84 non-face images reach
# 0.5 with their first crop, none 0.7 (engines/atpn68s/MODEL_CARD.md).
DEFAULT_CONFIRM = 0.7


@dataclass(frozen=True)
class TrackerConfig:
    max_faces: int = 4
    """Most faces tracked at once; the detector's extra candidates are ranked by score x size."""
    score_threshold: float = 0.5
    """A track ends when the network's face score falls below this, in (0, 1)."""
    confirm_threshold: float | None = None
    """Face score a detection needs to start a track, in (0, 1); None = the larger of
    ``DEFAULT_CONFIRM`` (0.7) and ``score_threshold``."""
    detect_every: int = 12
    """Also look for new faces every N frames while faces are tracked; 0 = only on a loss. With
    ``detect_lag`` a new face is found within 15 frames (0.5 s at 30 fps)."""
    detection: str = "deterministic"
    """How the detector runs while faces are tracked (with none tracked it runs on the frame itself):
    ``deterministic``: on a worker thread, its result merged exactly ``detect_lag`` frames later (the
    same output on every run: files); ``realtime``: on a worker thread, merged on the first frame
    after it finishes (cameras, streams); ``sync``: on the frame that asks, the frame waits."""
    detect_lag: int = 3
    """Frames between a detection request and its merge in ``deterministic`` mode (>= 1)."""
    cut_detection: bool = True
    """End every track at a hard shot cut (no id survives a cut) and search the new shot."""
    orientation_search: bool = False
    """Crop each new face at its detected angle and three more quarter turns, keep the turn the
    face score prefers (4x the crops of a new face). For detectors whose eye keypoints fail on
    faces turned 90 deg or more: with BlazeFace it cut the NME of 300W faces turned 90 deg from
    24.6 to 6.1 %; upside down the face score cannot tell the turns apart well (52.8 %)."""
    upside_down_check: bool = True
    """With a detector trained on upright faces (``upright_only``, BlazeFace): a new face whose
    first crop scores below 0.999 (and its refined crop below 0.9999) is also cropped turned half
    round (and a quarter turn either way when its refined crop is confirmed), and the other turn
    is kept when, refined twice, the face score prefers it. BlazeFace reads most upside-down faces
    (and a few faces turned 90 deg) as upright; upright faces score >= 0.999 at once and cost nothing."""
    upside_down_search: bool = True
    """With such a detector and nothing tracked: when the search starts no track, or a track from a
    doubtful first crop, the frame turned 180 deg is searched too (BlazeFace misses about a fifth of upside-down
    faces; on a frame with no face this is a second detector call)."""
    refine: bool = True
    """Crop a new face a second time from its predicted landmarks before confirming it."""
    overlap_iou: float = 0.3
    """A detection overlapping a live track by more than this IoU (or a centre inside) is ignored."""
    merge_iou: float = 0.5
    """Two tracks overlapping by more than this IoU have converged on one face: the younger ends."""
    reuse_id_frames: int = 15
    """A face found again within N frames of a loss, near where it was lost, keeps its id."""
    min_face_px: float = 12.0
    """A track whose landmarks span fewer pixels than this ends."""
    smooth: bool = True
    """One Euro smoothing of landmarks and pose per track."""
    crop_from_smoothed: bool = True
    """Build the next crop from the smoothed landmarks (with ``smooth``)."""
    smoothing: SmoothingConfig = field(default_factory=SmoothingConfig)
    """The One Euro filter's parameters."""
    fps: float = 30.0
    """Frame rate assumed when ``track`` gets no timestamp."""

    def __post_init__(self) -> None:
        _int(self, "max_faces", 1)
        _int(self, "detect_every", 0)
        _int(self, "detect_lag", 1)
        _int(self, "reuse_id_frames", 0)
        _unit(self, "score_threshold")
        if self.confirm_threshold is not None:
            _unit(self, "confirm_threshold")
        _unit(self, "overlap_iou", closed=True)
        _unit(self, "merge_iou", closed=True)
        _positive(self, "min_face_px", allow_zero=True)
        _positive(self, "fps")
        for name in ("refine", "smooth", "crop_from_smoothed", "cut_detection", "orientation_search",
                     "upside_down_check", "upside_down_search"):
            if not isinstance(getattr(self, name), bool):
                raise TypeError(f"TrackerConfig.{name} must be True or False, got {getattr(self, name)!r}")
        if self.detection not in DETECTION_MODES:
            raise ValueError(f"TrackerConfig.detection must be one of {', '.join(DETECTION_MODES)}, got {self.detection!r}")
        if not isinstance(self.smoothing, SmoothingConfig):
            raise TypeError(f"TrackerConfig.smoothing must be a SmoothingConfig, got {type(self.smoothing).__name__}")
        for name in ("min_cutoff", "d_cutoff", "pose_scale_deg"):
            check_number_option(getattr(self.smoothing, name), f"TrackerConfig.smoothing.{name}", 0.0, low_open=True)
        check_number_option(self.smoothing.beta, "TrackerConfig.smoothing.beta", 0.0)

    @property
    def confirm(self) -> float:
        """The face score that confirms a detection."""
        if self.confirm_threshold is None:
            return max(DEFAULT_CONFIRM, self.score_threshold)
        return self.confirm_threshold

    @classmethod
    def field_names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))

    @classmethod
    def from_args(cls, args: Any, *, live: bool = False) -> "TrackerConfig":
        """The config of ``atpn-edge track``'s options (``--max-faces``, ``--detect-every``,
        ``--score-threshold``, ``--no-smooth``); ``live`` sources get ``detection="realtime"``."""
        return cls(max_faces=args.max_faces, detect_every=args.detect_every, score_threshold=args.score_threshold,
                   smooth=not args.no_smooth, detection="realtime" if live else "deterministic")


# The checks are the package's one set of option checks (core/validate.py): TypeError for a wrong
# type, ValueError for a value out of range, the option named.
def _int(cfg: TrackerConfig, name: str, low: int) -> None:
    check_int_option(getattr(cfg, name), f"TrackerConfig.{name}", low)


def _unit(cfg: TrackerConfig, name: str, closed: bool = False) -> None:
    check_number_option(getattr(cfg, name), f"TrackerConfig.{name}", 0.0, 1.0, low_open=not closed, high_open=not closed)


def _positive(cfg: TrackerConfig, name: str, allow_zero: bool = False) -> None:
    check_number_option(getattr(cfg, name), f"TrackerConfig.{name}", 0.0, low_open=not allow_zero)
