"""atpn-edge: a real-time face tracker for edge devices (68 landmarks, head pose, face score).

The runtime needs numpy, OpenCV and ONNX Runtime only (TensorRT where present); PyTorch is used
by ``atpn_edge.train`` for training and export and is never imported by the runtime.
"""
from __future__ import annotations

__version__ = "0.1.0"
