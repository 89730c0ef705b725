"""Run the `atpn-edge` CLI in this process with every frame read slowed by ATPN_TEST_READ_DELAY
seconds, so a test can signal or kill a real run in the middle (the CLI itself is unchanged).

    python tests/slow_cli.py track in.mp4 --output out.mp4 ...
"""
from __future__ import annotations

import os
import sys
import time


def _slow_reads(delay: float) -> None:
    import atpn_edge.io.sources as sources

    real_open = sources.open_capture

    class SlowCapture:
        def __init__(self, cap) -> None:
            self._cap = cap

        def read(self):
            time.sleep(delay)
            return self._cap.read()

        def __getattr__(self, name):
            return getattr(self._cap, name)

    sources.open_capture = lambda *a, **k: SlowCapture(real_open(*a, **k))


if __name__ == "__main__":
    delay = float(os.environ.get("ATPN_TEST_READ_DELAY", "0"))
    if delay > 0:
        _slow_reads(delay)
    from atpn_edge.cli import main

    sys.exit(main(sys.argv[1:]))
