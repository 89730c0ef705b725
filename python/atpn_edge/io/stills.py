"""Still images: one photo, or a folder of them, in and out.

``ImageCapture`` reads a list of image files through the capture interface ``FrameSource`` uses
(``read``/``get``/``release``), remembering which file each frame came from. ``ImageSink`` writes
one annotated still; ``FolderSink`` writes each annotated image under its own name into a folder.
Writes go through Python's file API so a full disk is an ``OSError`` (``WriteError``) with its
reason, not a silent ``False``.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .video_writer import WriteError

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff")


def is_image_path(path: "str | Path") -> bool:
    return Path(path).suffix.lower() in IMAGE_SUFFIXES


def list_images(folder: "str | Path") -> list[Path]:
    """The images directly inside ``folder`` (not its subfolders), sorted by name."""
    return sorted(p for p in Path(folder).iterdir() if p.is_file() and is_image_path(p))


class ImageCapture:
    """Frames from image files, in order; an unreadable file is skipped and remembered in ``skipped``."""

    def __init__(self, files: list[Path]) -> None:
        self.files = list(files)
        self.skipped: list[Path] = []
        self.current: Path | None = None
        self._next = 0

    def isOpened(self) -> bool:  # noqa: N802 (cv2.VideoCapture's name)
        return bool(self.files)

    def read(self) -> tuple[bool, np.ndarray | None]:
        import cv2

        while self._next < len(self.files):
            path = self.files[self._next]
            self._next += 1
            image = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
            if image is not None and image.size and image.dtype == np.uint8:
                self.current = path
                return True, image
            self.skipped.append(path)
        return False, None

    def get(self, prop: int) -> float:
        return float(len(self.files)) if prop == 7 else 0.0  # 7: cv2.CAP_PROP_FRAME_COUNT

    def release(self) -> None:
        self._next = len(self.files)


def write_image(path: Path, image: np.ndarray) -> None:
    import cv2

    ok, data = cv2.imencode(path.suffix.lower(), image)
    if not ok:
        raise WriteError(f"cannot encode {path} as {path.suffix}")
    try:
        with open(path, "wb") as f:
            f.write(data.tobytes())
    except OSError as exc:
        raise WriteError(f"writing the image {path} failed: {exc.strerror or exc}") from exc


class ImageSink:
    """One annotated still (``--output out.jpg``); a later frame replaces it."""

    def __init__(self, path: "str | Path") -> None:
        self.path = Path(path)
        if not is_image_path(self.path):
            raise ValueError(f"an image output must end in one of {', '.join(IMAGE_SUFFIXES)}, got {self.path.name!r}")
        if not self.path.parent.is_dir():
            raise FileNotFoundError(f"output folder does not exist: {self.path.parent}")
        self.frames = 0

    def write(self, image: np.ndarray, name: str | None = None) -> None:
        write_image(self.path, image)
        self.frames += 1

    def close(self) -> None:
        pass


class FolderSink:
    """Annotated images into a folder, each under its input's file name (the folder is created)."""

    def __init__(self, folder: "str | Path") -> None:
        self.path = Path(folder)
        if self.path.suffix.lower() in IMAGE_SUFFIXES or (self.path.exists() and not self.path.is_dir()):
            raise ValueError(f"a folder of images is written to a folder; {self.path} is a file name")
        if not self.path.parent.is_dir():
            raise FileNotFoundError(f"output folder's parent does not exist: {self.path.parent}")
        try:
            self.path.mkdir(exist_ok=True)
        except OSError as exc:
            raise WriteError(f"cannot create the output folder {self.path}: {exc.strerror or exc}") from exc
        self.frames = 0

    def write(self, image: np.ndarray, name: str | None = None) -> None:
        write_image(self.path / (name or f"{self.frames:06d}.png"), image)
        self.frames += 1

    def close(self) -> None:
        pass
