"""mmpose's COCO-style face annotations (``test_wflw.json``, ``face_landmarks_300w_*.json``, ...):
``images`` (id, file_name) and ``annotations`` (image_id, ``keypoints`` = flat [x, y, v, ...]).
Points with v = 0 are unlabelled (NaN). mmpose's converters copy the source's coordinates as they
are: its 300VW json holds exactly the 1-based values of the clip's ``.pts`` files (checked on the
sample), so pass ``origin=1`` for the iBUG-derived sets (300W, 300VW, 300W-LP) to get 0-based pixels;
the default 0 keeps the values (WFLW, LaPa). 68 points are the iBUG scheme, 98 are WFLW (mapped to 68 on request); any other count
(AFLW 19, COFW 29, LaPa 106) is kept in its own scheme, named ``"<K>pt"``.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from .sample import FaceSample, Skipped, no_pose, skip
from .wflw import make_sample


def load_coco_keypoints(
    json_file: str | Path, images_root: str | Path | None = None, to68: bool = True,
    skipped: list[Skipped] | None = None, origin: float = 0.0,
) -> list[FaceSample]:
    """One sample per annotation; images are looked up under ``images_root`` (default: the json's folder)."""
    json_file = Path(json_file)
    root = Path(images_root) if images_root is not None else json_file.parent
    try:
        data = json.loads(json_file.read_text())
        images = {img["id"]: img["file_name"] for img in data["images"]}
        annotations = data["annotations"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"{json_file}: not a COCO-style keypoint file ({exc!r})") from None
    samples = []
    for ann in annotations:
        file_name = images.get(ann.get("image_id"))
        label = f"{json_file.name} annotation {ann.get('id')}"
        kp = np.asarray(ann.get("keypoints", []), np.float64)
        if file_name is None or kp.size == 0 or kp.size % 3:
            skip(skipped, label, f"{json_file}: annotation {ann.get('id')} has no image or a keypoint list "
                 "that is not [x, y, v] triples")
            continue
        kp = kp.reshape(-1, 3)
        pts = kp[:, :2] - origin
        pts[kp[:, 2] <= 0] = np.nan
        image = root / file_name
        if not image.is_file():
            skip(skipped, file_name, f"{json_file}: image not found: {image}")
            continue
        name = f"{Path(file_name).with_suffix('').as_posix()}#{ann.get('id')}"
        if len(pts) == 98:
            samples.append(make_sample(name, image, pts, to68))
        else:
            scheme = "ibug68" if len(pts) == 68 else f"{len(pts)}pt"
            samples.append(FaceSample(name=name, image=image, landmarks=pts, pose=no_pose(), scheme=scheme))
    return samples
