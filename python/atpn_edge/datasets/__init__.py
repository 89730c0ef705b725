"""Dataset loaders (no torch): each returns ``FaceSample`` records, see ``sample.py``."""
from .aflw2000 import load_aflw2000
from .aflw_crops import AFLW21_TO_68, load_aflw_crops
from .ibug_pts import load_ibug_folder, read_pts
from .negatives import list_negative_images, load_negatives
from .sample import FaceSample, Skipped

__all__ = [
    "AFLW21_TO_68", "FaceSample", "Skipped", "list_negative_images", "load_aflw2000",
    "load_aflw_crops", "load_ibug_folder", "load_negatives", "read_pts",
]
