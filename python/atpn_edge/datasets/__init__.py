"""Dataset loaders (no torch): each returns ``FaceSample`` records, see ``sample.py``."""
from .aflw2000 import load_aflw2000
from .aflw_crops import AFLW21_TO_68, load_aflw_crops
from .coco_keypoints import load_coco_keypoints
from .ibug_pts import load_ibug_folder, read_pts
from .negatives import list_negative_images, load_negatives
from .sample import FaceSample, Skipped
from .vw300 import load_300vw, load_300vw_clip
from .wflw import WFLW98_TO_68, load_wflw_list

__all__ = [
    "AFLW21_TO_68", "WFLW98_TO_68", "FaceSample", "Skipped", "list_negative_images", "load_300vw",
    "load_300vw_clip", "load_aflw2000", "load_aflw_crops", "load_coco_keypoints", "load_ibug_folder",
    "load_negatives", "load_wflw_list", "read_pts",
]
