"""Images without a human face (``negatives/``): training negatives for the face score."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .sample import IMAGE_SUFFIXES, FaceSample, no_pose, relative_name


def list_negative_images(root: str | Path) -> list[Path]:
    """Every image file under ``root`` (recursively), sorted."""
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"negatives folder not found: {root}")
    return sorted(p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)


def load_negatives(root: str | Path) -> list[FaceSample]:
    """The same images as ``FaceSample`` records with ``is_face=False`` and all-NaN labels."""
    root = Path(root)
    return [
        FaceSample(name=relative_name(p, root), image=p, landmarks=np.full((68, 2), np.nan, np.float32),
                   pose=no_pose(), is_face=False)
        for p in list_negative_images(root)
    ]
