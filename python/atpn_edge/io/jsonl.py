"""Per-frame results as JSON lines: one object per frame, flushed as it is written so the file is
complete up to the last frame even if the process is killed.

    {"frame": 12, "t": 0.4, "faces": [{"id": 1, "box": [x, y, w, h], "landmarks": [[x, y], ...],
     "pose": [yaw, pitch, roll], "score": 0.98}]}
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Sequence

from ..core.face import Face


class JsonlSink:
    def __init__(self, path: "str | Path", decimals: int = 2) -> None:
        self.path = Path(path)
        if not self.path.parent.is_dir():
            raise FileNotFoundError(f"output folder does not exist: {self.path.parent}")
        self.decimals = decimals
        self.lines = 0
        self._file = open(self.path, "w", encoding="utf-8")

    def write(self, index: int, timestamp: float, faces: Sequence[Face]) -> None:
        record = {"frame": int(index), "t": round(float(timestamp), 4), "faces": [f.to_dict(self.decimals) for f in faces]}
        self._file.write(json.dumps(record, separators=(",", ":")) + "\n")
        self._file.flush()
        self.lines += 1

    def close(self) -> None:
        if not self._file.closed:
            self._file.close()

    def __enter__(self) -> "JsonlSink":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
