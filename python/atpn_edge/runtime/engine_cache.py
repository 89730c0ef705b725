"""Engine cache: a serialized TensorRT engine is only valid for the exact ONNX file, TensorRT
version, GPU and build settings it was built with. Each engine gets a JSON sidecar with that key
(and the engine's own sha256); anything that does not match is rebuilt, never loaded, as
jetson-inference does (it names engines model.batch.fallback.TRTversion.device.precision.engine).
"""
from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

SIDECAR_SUFFIX = ".json"


class EngineCacheError(ValueError):
    pass


@dataclass(frozen=True)
class EngineKey:
    graph: str  # "stage1" / "stage2"
    model_sha256: str
    tensorrt_version: str
    gpu_name: str
    compute_capability: str  # "8.7"
    precision: str
    max_batch: int

    def filename(self) -> str:
        gpu = re.sub(r"[^A-Za-z0-9]+", "-", self.gpu_name).strip("-").lower() or "gpu"
        return (f"{self.graph}.{self.precision}.b{self.max_batch}.trt{self.tensorrt_version}"
                f".sm{self.compute_capability.replace('.', '')}.{gpu}.{self.model_sha256[:12]}.engine")


def sha256_file(path: str | os.PathLike) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def default_cache_dir() -> Path:
    """``$ATPN_EDGE_ENGINE_CACHE``, else ``~/.cache/atpn-edge/engines`` (an installed package's
    directory may be read-only; the key in each file name keeps models and devices apart)."""
    override = os.environ.get("ATPN_EDGE_ENGINE_CACHE")
    if override:
        return Path(override)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "atpn-edge" / "engines"


def sidecar_path(engine_path: Path) -> Path:
    return engine_path.with_name(engine_path.name + SIDECAR_SUFFIX)


def stale_reason(engine_path: Path, key: EngineKey) -> str | None:
    """None when the cached engine may be loaded, else why it must be rebuilt."""
    side = sidecar_path(engine_path)
    if not engine_path.is_file():
        return "no cached engine"
    if not side.is_file():
        return f"{side.name} is missing, so the engine's origin is unknown"
    try:
        meta = json.loads(side.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        return f"{side.name} is unreadable ({exc})"
    diffs = [f"{k}: cached {meta.get(k)!r}, now {v!r}" for k, v in asdict(key).items() if meta.get(k) != v]
    if diffs:
        return "built for something else (" + "; ".join(diffs) + ")"
    if meta.get("engine_sha256") != sha256_file(engine_path):
        return "the engine file does not match its recorded sha256 (truncated or corrupt)"
    return None


def write_engine(engine_path: Path, data: bytes, key: EngineKey, extra: dict | None = None) -> None:
    """Write engine then sidecar, each atomically (a crash leaves no engine that looks valid)."""
    engine_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = engine_path.with_name(engine_path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, engine_path)
    meta = dict(asdict(key), engine_sha256=hashlib.sha256(data).hexdigest(), **(extra or {}))
    side = sidecar_path(engine_path)
    tmp_side = side.with_name(side.name + ".tmp")
    tmp_side.write_text(json.dumps(meta, indent=1, sort_keys=True) + "\n")
    os.replace(tmp_side, side)


def read_engine(engine_path: Path, key: EngineKey) -> bytes:
    """The engine's bytes, or EngineCacheError naming why it may not be loaded."""
    reason = stale_reason(engine_path, key)
    if reason is not None:
        raise EngineCacheError(f"{engine_path}: {reason}; rebuild it with `atpn-edge build`")
    return engine_path.read_bytes()


def get_or_build(engine_path: Path, key: EngineKey, build: Callable[[], bytes], log: Callable[[str], None],
                 force: bool = False, extra: dict | None = None) -> bytes:
    """The cached engine when it matches ``key``, else a fresh build (written to the cache)."""
    reason = "rebuild requested" if force else stale_reason(engine_path, key)
    if reason is None:
        return engine_path.read_bytes()
    log(f"building {engine_path.name}: {reason}")
    data = build()
    write_engine(engine_path, data, key, extra)
    return data
