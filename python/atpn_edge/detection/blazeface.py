"""MediaPipe's BlazeFace face detectors, shipped as ONNX in engines/blazeface/ (MODEL_CARD.md there
says where they come from and how they were converted and measured).

Two models: ``short`` (128x128 input, faces that fill a good part of the frame, selfie range) and
``full`` (192x192, faces down to a few percent of the frame). The frame is letterboxed to the model
input (any size and aspect); optional square ``tiles`` over the long side look again at wide
frames at a higher resolution. Anchors, decoding and weighted NMS follow MediaPipe's graphs
(anchors.py, decode.py, nms.py); running the network is a runner's job (runner.py), so the same
decoding serves ONNX Runtime and TensorRT.

Each detection carries MediaPipe's 6 keypoints in frame pixels (pixel centres, as landmarks):
right eye, left eye, nose tip, mouth centre, right ear tragion, left ear tragion (the person's
right, so the right eye is on the image's left for a frontal face).
"""
from __future__ import annotations

import dataclasses
import platform
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from ..core.frames import as_bgr
from .anchors import FULL_RANGE, SHORT_RANGE, AnchorSpec, ssd_anchors
from .base import Box, BoxCalibration, Detection, DetectorUnavailable
from .decode import decode
from .keypoint_fit import load_keypoint_fit
from .letterbox import letterbox
from .nms import weighted_nms
from .runner import DetectorRunner, create_runner
from .upright import eye_angle, upright_keypoints


@dataclass(frozen=True)
class BlazeFaceModel:
    name: str
    filename: str
    anchors: AnchorSpec
    score_threshold: float
    calibration: BoxCalibration
    widened: str | None = None
    """The same graph with channels widened to multiples of 16 (zero channels), which ONNX
    Runtime runs faster on x86 CPUs (blocked layout, no layout changes around the channel pads)."""


# Score thresholds: MediaPipe's (0.5 short, 0.6 full range). Calibrations: medians of
# scripts/research/calibrate_detector.py --detector blazeface:NAME over the 300W faces (HELEN train + AFW,
# 1207 faces; short found all, full 1142): short extent p10-p90 0.89-1.06, shift 0.00-0.10; full
# 0.83-1.03, 0.07-0.14.
MODELS = {
    "short": BlazeFaceModel("short", "face_detection_short_range.onnx", SHORT_RANGE, 0.5,
                            BoxCalibration(extent_ratio=0.963, shift_y=0.061),
                            widened="face_detection_short_range.widened16.onnx"),
    "full": BlazeFaceModel("full", "face_detection_full_range.onnx", FULL_RANGE, 0.6,
                           BoxCalibration(extent_ratio=0.908, shift_y=0.101)),
}
# The keypoints -> landmark window fits of both models (keypoint_fit.py; scripts/fit_first_crop.py).
FIRST_CROP_FIT = "first_crop_fit.json"
DEFAULT_MODEL = "short"  # measured: higher recall on the stills and on turned faces (model card)


def model_dir() -> Path:
    """engines/blazeface of the installed package, else of the source checkout."""
    from ..runtime.models import engine_search_dirs

    for base in engine_search_dirs():
        if (base / "blazeface").is_dir():
            return base / "blazeface"
    searched = ", ".join(str(b / "blazeface") for b in engine_search_dirs())
    raise DetectorUnavailable(f"the BlazeFace models are not installed (looked in {searched})")


def blocked_layout_cpu() -> bool:
    """Whether ONNX Runtime's CPU provider runs convolutions in its blocked channel layout here:
    x86-64 with AVX2 or AVX-512 (8 or 16 channels a block). ARM CPUs and older x86 ones run the
    plain layout, where the zero channels would be extra work."""
    if platform.machine().lower() not in ("x86_64", "amd64"):
        return False
    from ..kernels import simd_level

    return simd_level() in ("avx2", "avx512")


def onnxruntime_file(spec: BlazeFaceModel, path: Path) -> Path:
    """The file ONNX Runtime should load for a named model: the widened graph on x86 when it is
    installed next to the plain one, else the plain one."""
    if spec.widened and path.name == spec.filename and blocked_layout_cpu() and (path.parent / spec.widened).is_file():
        return path.parent / spec.widened
    return path


def resolve(model: "str | Path") -> tuple[BlazeFaceModel, Path]:
    """A model name (``short``/``full``) or a path to one of the two .onnx files (told apart by
    their input size once loaded; the file name decides first)."""
    if str(model) in MODELS:
        spec = MODELS[str(model)]
        return spec, model_dir() / spec.filename
    path = Path(model)
    if path.suffix.lower() != ".onnx" and not path.exists():
        raise ValueError(f"unknown BlazeFace model {str(model)!r}: choose {', '.join(MODELS)} or a path to an .onnx file")
    spec = next((m for m in MODELS.values() if m.filename == path.name), None)
    return spec, path


def square_tiles(w: int, h: int, overlap: float = 0.2) -> list[tuple[int, int, int]]:
    """Square windows (x0, y0, side) of the short side's length covering the long side with at
    least ``overlap`` of a side shared between neighbours; none when the frame is square-ish."""
    side, long = min(w, h), max(w, h)
    if long < side * 1.3:
        return []
    n = int(np.ceil((long - side * overlap) / (side * (1 - overlap))))
    starts = np.linspace(0, long - side, n).round().astype(int)
    return [(int(s), 0, side) if w >= h else (0, int(s), side) for s in starts]


class BlazeFaceDetector:
    name = "blazeface"
    upright_only = True  # misses or misreads upside-down faces: the tracker checks them (detection/turned.py)
    takes_tracked = True  # detect() accepts ``tracked`` (no second look at faces the caller tracks)

    def __init__(self, model_path: "str | Path" = DEFAULT_MODEL, score_threshold: float | None = None,
                 nms_iou: float = 0.3, tiles: bool = False, tile_overlap: float = 0.2, backend: str = "onnxruntime", threads: int = 1,
                 calibration: BoxCalibration | None = None, runner: DetectorRunner | None = None,
                 upright_above_deg: float | None = 8.0, flip_above_deg: float = 20.0) -> None:
        """``model_path``: ``short`` (default), ``full`` or a path to one of the .onnx files; a
        ``+tiles`` suffix (``short+tiles``) turns ``tiles`` on.
        ``tiles``: also run on square tiles of a wide or tall frame (finds smaller faces, costs a
        network pass per tile). ``runner``: an already built runner (tests, other backends).
        ``upright_above_deg``: faces whose eye line is turned more than this get their keypoints
        from a second look on a window turned upright (upright.py; one to four more network
        passes per such face, one for a slightly tilted face); None turns that off.
        ``flip_above_deg``: after that look, a face still turned more than this is also tried the
        other way round (0: always, which finds upside-down faces' eye line at one more pass)."""
        if isinstance(model_path, str) and model_path.endswith("+tiles"):  # --detector blazeface:short+tiles
            model_path, tiles = model_path[: -len("+tiles")] or DEFAULT_MODEL, True
        spec, path = resolve(model_path)
        shipped = spec is not None  # a named model or one of the shipped files: its keypoint fit applies
        if runner is None and backend == "onnxruntime" and spec is not None and str(model_path) in MODELS:
            path = onnxruntime_file(spec, path)
        self.runner = runner if runner is not None else create_runner(path, backend=backend, threads=threads)
        if spec is None:  # a user's file under another name: tell the two apart by input size
            spec = next((m for m in MODELS.values() if m.anchors.input_size == self.runner.input_size), None)
            if spec is None:
                raise ValueError(f"{path}: input {self.runner.input_size}x{self.runner.input_size} is neither BlazeFace model's")
        if (self.runner.input_size, self.runner.num_anchors) != (spec.anchors.input_size, spec.anchors.count):
            raise ValueError(f"{path}: input {self.runner.input_size} with {self.runner.num_anchors} anchors does not match "
                             f"BlazeFace {spec.name} ({spec.anchors.input_size}, {spec.anchors.count})")
        self.model = spec
        self.anchors = ssd_anchors(spec.anchors)
        self.score_threshold = spec.score_threshold if score_threshold is None else float(score_threshold)
        self.nms_iou, self.tiles, self.tile_overlap = nms_iou, bool(tiles), float(tile_overlap)
        if calibration is None:
            calibration = spec.calibration
            if shipped:
                calibration = dataclasses.replace(calibration, keypoint_fit=load_keypoint_fit(model_dir() / FIRST_CROP_FIT, spec.name))
        self.calibration = calibration
        self.upright_above = None if upright_above_deg is None else np.radians(float(upright_above_deg))
        self.flip_above_deg = float(flip_above_deg)

    def _infer(self, blob: np.ndarray, scale: float = 1.0, offset: tuple[float, float] = (0.0, 0.0),
               shift: tuple[float, float] = (0.0, 0.0)) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Thresholded candidates of one input blob (before NMS), in input pixel edges or mapped
        to ``(p - offset) / scale + shift``."""
        reg, logits = self.runner.run(blob)
        return decode(reg, logits, self.anchors, self.model.anchors.input_size, self.score_threshold, scale, offset, shift)

    def _candidates(self, image: np.ndarray, x0: float, y0: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Decoded boxes/keypoints (frame pixel edges) and scores of one view of the frame."""
        blob, lb = letterbox(image, self.model.anchors.input_size)
        return self._infer(blob, lb.scale, lb.offset, (float(x0), float(y0)))

    def detect(self, frame_bgr: np.ndarray, tracked: Callable[[Box], bool] | None = None) -> list[Detection]:
        """Faces in a BGR uint8 frame (grey and BGRA are converted), largest first. ``tracked``
        tells the boxes of faces the caller tracks already: those come back with the model's
        own keypoints, without the second look at a tilted face (the tracker drops them, and a
        look costs as much as the search)."""
        frame_bgr = as_bgr(frame_bgr)
        h, w = frame_bgr.shape[:2]
        views = [self._candidates(frame_bgr, 0, 0)]
        if self.tiles:
            for tx, ty, side in square_tiles(w, h, self.tile_overlap):
                views.append(self._candidates(frame_bgr[ty:ty + side, tx:tx + side], tx, ty))
        boxes, kps, scores = (np.concatenate(parts) for parts in zip(*views))
        if not len(scores):
            return []
        boxes, scores, kps = weighted_nms(boxes, scores, self.nms_iou, kps)
        found = []
        for b, s, k in zip(boxes, scores, kps):
            if not (b[2] > b[0] and b[3] > b[1]):
                continue
            box = (float(b[0]), float(b[1]), float(b[2] - b[0]), float(b[3] - b[1]))
            k = k - 0.5  # pixel edges -> pixel centres
            if self.upright_above is not None and abs(eye_angle(k)) > self.upright_above and not (tracked and tracked(box)):
                k = upright_keypoints(frame_bgr, box, k, self._infer, self.model.anchors.input_size, self.nms_iou,
                                      flip_above_deg=self.flip_above_deg)
            found.append(Detection(box=box, score=float(s), keypoints=np.asarray(k, np.float32)))
        return sorted(found, key=lambda d: -d.box[2] * d.box[3])
