"""Engine cache: a serialized TensorRT engine is only valid for the exact ONNX file, TensorRT
version, GPU and build settings it was built with. Each engine gets a JSON sidecar with that key
(and the engine's own sha256); anything that does not match is rebuilt, never loaded, as
jetson-inference does (it names engines model.batch.fallback.TRTversion.device.precision.engine).

The folder may be shared by several processes and users:
- every file is written to a fresh temporary file in the same folder (``tempfile.mkstemp``:
  O_EXCL with a random name, so a planted file or symlink is never followed) and renamed over
  the target with ``os.replace`` (atomic: readers see the old file or the new one, never half);
- a build holds an exclusive ``flock`` on ``<engine>.lock`` (opened with O_NOFOLLOW), so two
  processes that need the same engine build it once: the second waits, then loads it;
- the sha256 is checked on the very bytes that are returned for deserialisation;
- a sidecar that is unreadable, not UTF-8, not JSON or not an object means "rebuild";
- a folder that cannot be written is reported before a build of minutes starts.
Files are created with mode 0666 & ~umask (0644 under the usual umask 022, 0664 under 002 for a
group-shared folder), as a plain ``open()`` would; folders with 0777 & ~umask.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable, Iterator

SIDECAR_SUFFIX = ".json"
LOCK_SUFFIX = ".lock"


class EngineCacheError(ValueError):
    pass


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower() or "gpu"


@dataclass(frozen=True)
class EngineKey:
    graph: str  # "stage1" / "stage2" / a detector's name
    model_sha256: str
    tensorrt_version: str
    gpu_name: str
    compute_capability: str  # "8.7"
    multiprocessors: int  # Orin modules all say "Orin": SM count and memory tell them apart
    memory_gib: int
    precision: str
    max_batch: int
    calibration_sha256: str = ""  # INT8 calibration data ("" without calibration)

    def device_tag(self) -> str:
        """sm87.orin-16sm-61g: what an engine or a timing cache is specific to."""
        return (f"sm{self.compute_capability.replace('.', '')}.{_slug(self.gpu_name)}"
                f"-{self.multiprocessors}sm-{self.memory_gib}g")

    def filename(self) -> str:
        calib = f".cal{self.calibration_sha256[:8]}" if self.calibration_sha256 else ""
        return (f"{self.graph}.{self.precision}{calib}.b{self.max_batch}.trt{self.tensorrt_version}"
                f".{self.device_tag()}.{self.model_sha256[:12]}.engine")


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


def _umask() -> int:
    try:  # Linux >= 4.7 reports it without changing it (os.umask would, for all threads)
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def file_mode() -> int:
    return 0o666 & ~_umask()


def atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a unique temporary file in the same folder."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, file_mode())
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def ensure_writable(folder: Path) -> None:
    """Create ``folder`` and prove a file can be written there, or EngineCacheError naming it."""
    hint = "pass --cache-dir DIR or set ATPN_EDGE_ENGINE_CACHE to a writable folder"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=folder, prefix=".write-test.", suffix=".tmp")
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise EngineCacheError(f"engine cache folder {folder} is not writable ({exc.strerror or exc}): "
                               f"{hint}") from None


@contextlib.contextmanager
def build_lock(engine_path: Path, log: Callable[[str], None]) -> Iterator[None]:
    """Exclusive lock for building ``engine_path`` across processes (flock; released on close,
    also when the process dies). The lock file stays: removing it would race with waiters."""
    try:
        import fcntl
    except ImportError:  # not POSIX: no inter-process lock
        yield
        return
    lock = engine_path.with_name(engine_path.name + LOCK_SUFFIX)
    try:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0), file_mode())
    except OSError as exc:  # ELOOP: a symlink planted where the lock file goes
        raise EngineCacheError(f"cannot open the lock file {lock} ({exc.strerror or exc}); "
                               "it must be a regular file, not a symlink") from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log(f"waiting for another process that is building {engine_path.name}")
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _read_sidecar(side: Path) -> tuple[dict | None, str | None]:
    try:
        raw = side.read_bytes()
    except FileNotFoundError:
        return None, f"{side.name} is missing, so the engine's origin is unknown"
    except OSError as exc:
        return None, f"{side.name} is unreadable ({exc.strerror or exc})"
    try:
        meta = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        return None, f"{side.name} is not valid JSON ({exc})"
    if not isinstance(meta, dict):
        return None, f"{side.name} is not a JSON object (got {type(meta).__name__})"
    return meta, None


def load_valid(engine_path: Path, key: EngineKey) -> tuple[bytes | None, str | None]:
    """(engine bytes, None) when the cached engine may be loaded, else (None, why not)."""
    if not engine_path.is_file():
        return None, "no cached engine"
    meta, why = _read_sidecar(sidecar_path(engine_path))
    if meta is None:
        return None, why
    diffs = [f"{k}: cached {meta.get(k)!r}, now {v!r}" for k, v in asdict(key).items() if meta.get(k) != v]
    if diffs:
        return None, "built for something else (" + "; ".join(diffs) + ")"
    try:
        data = engine_path.read_bytes()
    except OSError as exc:
        return None, f"the engine file is unreadable ({exc.strerror or exc})"
    if meta.get("engine_sha256") != hashlib.sha256(data).hexdigest():
        return None, "the engine file does not match its recorded sha256 (truncated or corrupt)"
    return data, None


def stale_reason(engine_path: Path, key: EngineKey) -> str | None:
    """None when the cached engine may be loaded, else why it must be rebuilt."""
    return load_valid(engine_path, key)[1]


def write_engine(engine_path: Path, data: bytes, key: EngineKey, extra: dict | None = None) -> None:
    """Engine first, then its sidecar, each atomically: a crash in between leaves an engine whose
    sidecar does not vouch for it, which is rebuilt."""
    engine_path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(engine_path, data)
    meta = dict(asdict(key), engine_sha256=hashlib.sha256(data).hexdigest(), **(extra or {}))
    atomic_write(sidecar_path(engine_path), (json.dumps(meta, indent=1, sort_keys=True) + "\n").encode())


def read_engine(engine_path: Path, key: EngineKey) -> bytes:
    """The engine's bytes, or EngineCacheError naming why it may not be loaded."""
    data, reason = load_valid(engine_path, key)
    if data is None:
        raise EngineCacheError(f"{engine_path}: {reason}; rebuild it with `atpn-edge build`")
    return data


def get_or_build(engine_path: Path, key: EngineKey, build: Callable[[], bytes], log: Callable[[str], None],
                 force: bool = False, extra: dict | None = None) -> bytes:
    """The cached engine's bytes when it matches ``key``, else a fresh build (written to the
    cache). Concurrent callers for the same engine build it once."""
    data, reason = (None, "rebuild requested") if force else load_valid(engine_path, key)
    if data is not None:
        return data
    ensure_writable(engine_path.parent)
    with build_lock(engine_path, log):
        if not force:  # another process may have built it while this one waited for the lock
            data, reason = load_valid(engine_path, key)
            if data is not None:
                log(f"loaded {engine_path.name}, built meanwhile by another process")
                return data
        log(f"building {engine_path.name}: {reason}")
        data = build()
        write_engine(engine_path, data, key, extra)
        return data
