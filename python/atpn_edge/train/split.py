"""The fixed validation split: faces never trained on, chosen by a seeded shuffle.

300W faces are held out by PHOTO (``NAME_1``, ``NAME_2`` of one photo share ``NAME``), so no face of
a validation photo, nor its neighbours in the picture, is trained on. AFLW2000 by image, the
negatives by image. The names are written to a JSON file (committed next to the shipped model) so
``atpn-edge eval ... --names`` and ``atpn-edge validate`` reproduce the same numbers.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np

_FACE_SUFFIX = re.compile(r"_\d+$")


def photo_of(name: str) -> str:
    """``helen_train/100032540_2`` -> ``helen_train/100032540``."""
    return _FACE_SUFFIX.sub("", name)


def _pick(keys: list[str], fraction: float, rng: np.random.Generator) -> set[str]:
    keys = sorted(set(keys))
    n = int(round(fraction * len(keys)))
    return {keys[i] for i in rng.permutation(len(keys))[:n]}


def make_split(names_300w: list[str], names_aflw2000: list[str], names_negatives: list[str],
               fractions: tuple[float, float, float] = (0.10, 0.15, 0.2), seed: int = 0) -> dict:
    photos = _pick([photo_of(n) for n in names_300w], fractions[0], np.random.default_rng([seed, 0]))
    return {
        "rule": (f"seed {seed}: {fractions[0]:.0%} of 300W photos (all faces of a photo), {fractions[1]:.0%} of "
                 f"AFLW2000 images, {fractions[2]:.0%} of negative images; names as the atpn_edge.datasets loaders give them"),
        "300w": sorted(n for n in names_300w if photo_of(n) in photos),
        "aflw2000": sorted(_pick(names_aflw2000, fractions[1], np.random.default_rng([seed, 1]))),
        "negatives": sorted(_pick(names_negatives, fractions[2], np.random.default_rng([seed, 2]))),
    }


def load_or_make_split(path: str | Path, *args, **kwargs) -> dict:
    """Read the split file if it exists (the committed split wins), else make it and write it."""
    path = Path(path)
    if path.is_file():
        split = json.loads(path.read_text())
        missing = {"300w", "aflw2000", "negatives"} - set(split)
        if missing:
            raise ValueError(f"{path}: split file lacks {sorted(missing)}")
        return split
    split = make_split(*args, **kwargs)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(split, indent=1) + "\n")
    return split
