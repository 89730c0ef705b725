"""Face detectors, looked up by name. Only ``haar`` is guaranteed to work on a fresh install
(OpenCV 4.x ships its cascades); the others need a model file or an optional package and raise
``DetectorUnavailable`` with the reason when those are missing."""
from __future__ import annotations

import importlib
from typing import Any

from .base import BoxCalibration, Detection, Detector, DetectorUnavailable

_REGISTRY = {
    "haar": ("atpn_edge.detection.haar", "HaarDetector"),
    "yunet": ("atpn_edge.detection.yunet", "YuNetDetector"),
    "blazeface": ("atpn_edge.detection.blazeface", "BlazeFaceDetector"),
}
NAMES = tuple(_REGISTRY)


def create_detector(spec: "str | Detector", **options: Any) -> Detector:
    """A detector from its name (``haar``, ``yunet``, ``blazeface``) or an object with ``detect``.

    ``yunet`` accepts ``yunet:/path/to/face_detection_yunet.onnx`` as a shorthand for the model path.
    """
    if not isinstance(spec, str):
        if not callable(getattr(spec, "detect", None)):
            raise TypeError(f"detector must be a name or an object with detect(frame), got {type(spec).__name__}")
        return spec
    name, _, arg = spec.partition(":")
    if name not in _REGISTRY:
        raise ValueError(f"unknown detector {name!r}; choose one of {', '.join(NAMES)}")
    module_name, cls_name = _REGISTRY[name]
    cls = getattr(importlib.import_module(module_name), cls_name)
    if arg:
        options.setdefault("model_path", arg)
    return cls(**options)


__all__ = ["BoxCalibration", "Detection", "Detector", "DetectorUnavailable", "create_detector", "NAMES"]
