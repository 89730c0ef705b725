"""Whether the CUDA code can run here, and if not, why: the one GPU probe of the package.

The native module ``atpn_edge._cuda`` links the CUDA runtime statically, so importing it never
fails for lack of a driver; a missing or too old driver shows up as error 35 at the first call.
"""
from __future__ import annotations

import functools
from types import ModuleType
from typing import Tuple

from .errors import NO_DEVICE, NO_DRIVER, CudaError


def native() -> ModuleType:
    """The ``atpn_edge._cuda`` extension, or ImportError with the reason it is missing."""
    try:
        from .. import _cuda
    except ImportError as e:
        raise ImportError("atpn_edge was built without its CUDA module (ATPN_CUDA=OFF, or no nvcc "
                          f"at build time): {e}") from e
    return _cuda


_HINTS = {
    NO_DRIVER: "no NVIDIA driver is loaded, or it is older than the CUDA runtime this package was "
               "built with (build the package on the device, with its own nvcc)",
    NO_DEVICE: "no CUDA-capable device is visible",
}


@functools.lru_cache(maxsize=1)
def gpu_status() -> Tuple[bool, str]:
    """(available, reason): whether the CUDA kernels run on this machine, and why not."""
    try:
        cu = native()
    except ImportError as e:
        return False, str(e)
    try:
        count = cu.device_count()
    except CudaError as e:
        return False, f"no usable GPU: {_HINTS.get(e.code, 'the CUDA runtime failed')} ({e})"
    if count == 0:
        return False, "no CUDA device found"
    try:
        props = cu.device_props()
        # An empty heatmap launch proves the module carries code this GPU can run (the default
        # architectures target Jetson; other GPUs need CMAKE_CUDA_ARCHITECTURES at build time).
        buf = cu.malloc(4)
        try:
            cu.render_heatmap(buf, 1, 0, 1, 1, 1.0, buf, 0)
            cu.device_synchronize()
        finally:
            cu.free(buf)
    except CudaError as e:
        return False, f"CUDA device present but unusable: {e}"
    kind = "integrated" if props["integrated"] else "discrete"
    return True, (f"{props['name']} (compute capability {props['major']}.{props['minor']}, "
                  f"{props['multiprocessors']} SMs, {kind}, {count} device(s))")
