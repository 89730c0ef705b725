"""Output paths that never destroy an input.

`track X.mp4 --output X.mp4` used to overwrite the video while it was being read. Every output is
checked against the input and against the other outputs before anything is opened: the same
resolved path, or the same file reached through a symlink or a hard link (same st_dev and st_ino),
is refused. ``-`` (standard output) is never a file and never collides.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Mapping

STDOUT = "-"


class OutputCollision(ValueError):
    """An output path names the input or another output."""


def _identity(path: Path) -> tuple[Path, tuple[int, int] | None]:
    """The resolved path and, for an existing file, (st_dev, st_ino): two names of one file share it."""
    resolved = path.resolve()
    try:
        st = os.stat(path)
    except OSError:
        return resolved, None
    return resolved, (st.st_dev, st.st_ino)


def _same(a: tuple[Path, tuple[int, int] | None], b: tuple[Path, tuple[int, int] | None]) -> bool:
    return a[0] == b[0] or (a[1] is not None and a[1] == b[1])


def check_outputs(source_path: "str | os.PathLike | None", outputs: Mapping[str, "str | os.PathLike | None"]) -> None:
    """Raise ``OutputCollision`` when an output would overwrite the input or another output.

    ``source_path``: the input file or folder (None for cameras, streams and pipelines).
    ``outputs``: option name -> path (None: not requested; ``-``: standard output).
    """
    named = [(opt, Path(p)) for opt, p in outputs.items() if p is not None and str(p) != STDOUT]
    ids = {opt: _identity(p) for opt, p in named}
    if source_path is not None:
        src = Path(source_path)
        src_id = _identity(src)
        for opt, path in named:
            if _same(ids[opt], src_id):
                raise OutputCollision(f"{opt} {path} is the input {src} (same file or folder): refusing to overwrite the input")
    for i, (opt_a, path_a) in enumerate(named):
        for opt_b, path_b in named[i + 1:]:
            if _same(ids[opt_a], ids[opt_b]):
                raise OutputCollision(f"{opt_a} and {opt_b} name the same file {path_a}: give each output its own file")
