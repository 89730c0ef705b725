"""Training configuration: one YAML (or TOML) file with ``model``, ``data`` and ``train`` sections.

Unknown keys are errors (a typo must not silently fall back to a default). Relative data paths are
resolved against the config file's folder, so ``configs/*.yaml`` can name ``../../shared/data``.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from .model import ModelConfig


@dataclass(frozen=True)
class DataConfig:
    root: str = "../../shared/data"  # the shared data folder
    val_split: str = "../engines/atpn68/val_split.json"  # written on first use, then reused
    val_fraction_300w: float = 0.10  # of the 300W photos
    val_fraction_aflw2000: float = 0.15
    val_fraction_negatives: float = 0.2
    split_seed: int = 0
    mean: tuple[float, float, float] = (0.485, 0.456, 0.406)  # RGB, applied to v/255
    std: tuple[float, float, float] = (0.229, 0.224, 0.225)
    landmark_scale: float = 1.4  # crop rule (docs/SPEC.md); written into the ONNX metadata
    box_scale: float = 1.4
    box_shift_y: float = 0.0
    preload_side: float = 180.0  # images are stored so the face's crop side is at most this many px
    weights: dict = field(default_factory=lambda: {"300w": 0.40, "aflw2000": 0.25, "aflw_crops": 0.25, "negatives": 0.10})
    # Landmark-loss weight per source (0 = pose/face only). AFLW2000-3D's points come from a 3DMM
    # fit: its jaw follows the model's 3D contour, not 300W's visible outline, hence ``jaw_free``.
    landmark_weights: dict = field(default_factory=lambda: {"300w": 1.0, "aflw2000": 1.0, "aflw_crops": 1.0})
    jaw_free: tuple[str, ...] = ()  # sources whose jaw points (0-16) are not landmark targets
    offface_p: float = 0.12  # share of face draws turned into shifted/scaled-off negatives
    flip_p: float = 0.5
    shift: float = 0.06  # std of the positive crop shift (fraction of the side), clipped at 2.5 std
    scale: float = 0.08  # std of log scale
    rotate_deg: float = 12.0  # std of the in-plane jitter rotation
    photometric: bool = True


@dataclass(frozen=True)
class TrainConfig:
    seed: int = 0
    threads: int = 1
    epochs: int = 30
    samples_per_epoch: int = 8192
    batch_size: int = 64
    lr: float = 2e-3
    weight_decay: float = 1e-4
    warmup_steps: int = 200
    wing_w: float = 10.0  # crop pixels
    wing_eps: float = 2.0
    w_landmarks: float = 1.0
    w_pose: float = 0.1
    w_face: float = 1.0
    pose_beta: float = 1.0  # smooth-L1 knee, degrees
    teacher: str = ""  # a checkpoint to distil from (train/distill.py); "" = labels only
    kd_landmarks: float = 1.0  # distillation weights (used only with a teacher)
    kd_pose: float = 0.1
    kd_face: float = 1.0
    kd_features: float = 1.0
    # Hard crops (train/hard_crops.py): the tracker's own crops from `scripts/refit_face_head.py
    # collect --save-crops`, a folder relative to the config; "" = none.
    hard_crops: str = ""
    hard_share: float = 0.33  # hard crops per regular crop in a batch (batch_size x this are added)
    hard_groups: dict = field(default_factory=lambda: {"det_pos": 0.25, "track_pos": 0.10, "video": 0.15,
                                                       "det_neg": 0.35, "offface": 0.10, "nonface": 0.05})
    w_hard_face: float = 1.0  # hard-label face BCE on them
    hard_kd: bool = True  # with a teacher: its landmarks/pose (positives) and features, never its face score
    hard_val_limit: int = 2000  # validation crops of the val_ groups scored each epoch


@dataclass(frozen=True)
class Config:
    model: ModelConfig
    data: DataConfig
    train: TrainConfig
    source: str = ""  # the file it came from

    def to_dict(self) -> dict:
        return {"model": self.model.to_dict(), "data": asdict(self.data), "train": asdict(self.train)}

    def resolve(self, path: str) -> Path:
        p = Path(path)
        return p if p.is_absolute() or not self.source else (Path(self.source).parent / p).resolve()


def _build(cls, values: dict, section: str):
    names = {f.name for f in fields(cls)}
    unknown = set(values) - names
    if unknown:
        raise ValueError(f"config section [{section}]: unknown keys {sorted(unknown)}; known: {sorted(names)}")
    values = {k: tuple(v) if isinstance(v, list) else v for k, v in values.items()}
    return cls(**values)


def config_from_dict(d: dict, source: str = "") -> Config:
    unknown = set(d) - {"model", "data", "train"}
    if unknown:
        raise ValueError(f"config: unknown sections {sorted(unknown)}; expected model, data, train")
    return Config(
        model=ModelConfig.from_dict(d.get("model") or {}),
        data=_build(DataConfig, d.get("data") or {}, "data"),
        train=_build(TrainConfig, d.get("train") or {}, "train"),
        source=source,
    )


def load_config(path: str | Path) -> Config:
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"config not found: {path}")
    text = path.read_text(encoding="utf-8")
    if path.suffix.lower() == ".toml":
        import tomllib

        d = tomllib.loads(text)
    elif path.suffix.lower() in (".yaml", ".yml"):
        import yaml

        d = yaml.safe_load(text) or {}
    else:
        raise ValueError(f"{path}: config must be .yaml, .yml or .toml")
    if not isinstance(d, dict):
        raise ValueError(f"{path}: top level must be a mapping with model/data/train sections")
    return config_from_dict(d, source=str(path.resolve()))
