"""atpn-edge: a real-time face tracker for edge devices (68 landmarks, head pose, face score).

The runtime needs numpy, OpenCV and ONNX Runtime only (TensorRT where present); PyTorch is used
by ``atpn_edge.train`` for training and export and is never imported by the runtime.
"""
from __future__ import annotations

__version__ = "0.1.0"


def __getattr__(name: str):
    # Lazy, so `import atpn_edge` stays cheap (no OpenCV / ONNX Runtime until they are used).
    if name == "Tracker":
        from .tracking.tracker import Tracker

        return Tracker
    if name == "Face":
        from .core.face import Face

        return Face
    raise AttributeError(f"module 'atpn_edge' has no attribute {name!r}")
