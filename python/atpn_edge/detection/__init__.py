"""Face detectors, looked up by name. ``blazeface`` (the default: MediaPipe's BlazeFace, shipped as
ONNX in engines/blazeface) and ``haar`` (OpenCV's cascades) work on a fresh install; ``yunet``
needs a user's model file and raises ``DetectorUnavailable`` with the reason without one."""
from __future__ import annotations

import importlib
from typing import Any

from .base import BoxCalibration, Detection, Detector, DetectorUnavailable

_REGISTRY = {
    "blazeface": ("atpn_edge.detection.blazeface", "BlazeFaceDetector"),
    "haar": ("atpn_edge.detection.haar", "HaarDetector"),
    "yunet": ("atpn_edge.detection.yunet", "YuNetDetector"),
}
NAMES = tuple(_REGISTRY)


def create_detector(spec: "str | Detector", **options: Any) -> Detector:
    """A detector from its name (``blazeface``, ``haar``, ``yunet``) or an object with ``detect``.

    ``NAME:ARG`` passes ARG as the model: ``blazeface:short`` / ``blazeface:full`` (a shipped model)
    or ``blazeface:/path/model.onnx``; ``yunet:/path/to/face_detection_yunet.onnx``.
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
