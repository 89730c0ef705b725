"""Per-frame results as JSON lines (the format is documented field by field in docs/OUTPUT.md).

The first line is a header (format version, model, landmark scheme, frame size, fps, the
credential-free source); then one object per frame. Every line is flushed as it is written, so a
killed process loses at most the line being written. ``-`` writes to standard output. Any write
failure (full disk, closed pipe) raises ``WriteError`` naming the file.

    {"format": "atpn-edge-jsonl", "format_version": 1, "model_version": "...", ...}
    {"frame": 12, "t": 0.4, "faces": [{"id": 1, "box": [x, y, w, h], "landmarks": [[x, y], ...],
     "pose": [yaw, pitch, roll], "score": 0.98}]}
"""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Sequence

from ..core.face import Face
from .outputs import STDOUT
from .video_writer import WriteError

FORMAT = "atpn-edge-jsonl"
FORMAT_VERSION = 1


class JsonlSink:
    def __init__(self, path: "str | Path", decimals: int = 2, header: dict[str, Any] | None = None) -> None:
        self.to_stdout = str(path) == STDOUT
        self.path = Path(path)
        self.name = "standard output" if self.to_stdout else str(self.path)
        if not self.to_stdout and not self.path.parent.is_dir():
            raise FileNotFoundError(f"output folder does not exist: {self.path.parent}")
        self.decimals = decimals
        self.lines = 0
        self._header = {"format": FORMAT, "format_version": FORMAT_VERSION, **(header or {})}
        self._header_written = False
        self._frame_size: tuple[int, int] | None = None
        try:
            self._file = sys.stdout if self.to_stdout else open(self.path, "w", encoding="utf-8")
        except OSError as exc:
            raise WriteError(f"cannot open the JSON lines file {self.name}: {exc.strerror or exc}") from exc

    def _emit(self, record: dict) -> None:
        try:
            self._file.write(json.dumps(record, separators=(",", ":")) + "\n")
            self._file.flush()
        except (OSError, ValueError) as exc:  # ValueError: the stream was closed under us
            raise WriteError(f"writing the JSON lines {self.name} failed: {getattr(exc, 'strerror', None) or exc}") from exc

    def _write_header(self, frame_size: tuple[int, int] | None) -> None:
        self._header_written = True
        self._frame_size = frame_size
        self._emit({**self._header, "frame_size": list(frame_size) if frame_size else None})

    def write(self, index: int, timestamp: float, faces: Sequence[Face], frame_size: tuple[int, int] | None = None,
              image: str | None = None) -> None:
        """One frame. ``frame_size`` (width, height): the first one goes into the header, a later
        different one into the record (``size``). ``image``: the file name, for folders of stills."""
        if not self._header_written:
            self._write_header(frame_size)
        record: dict[str, Any] = {"frame": int(index), "t": round(float(timestamp), 4)}
        if image is not None:
            record["image"] = image
        if frame_size is not None and frame_size != self._frame_size:
            record["size"] = list(frame_size)
        record["faces"] = [f.to_dict(self.decimals) for f in faces]
        self._emit(record)
        self.lines += 1

    def close(self) -> None:
        """Write the header if no frame came (so the file still says what it is), then close."""
        try:
            if not self._header_written:
                self._write_header(None)
        finally:
            if not self.to_stdout and not self._file.closed:
                try:
                    self._file.close()
                except OSError as exc:
                    raise WriteError(f"closing the JSON lines {self.name} failed: {exc.strerror or exc}") from exc

    def __enter__(self) -> "JsonlSink":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
