"""The package's one CUDA error type. The native module raises it (its C++ errors are translated
to this class), and so do the fakes in the tests, so callers catch one thing."""
from __future__ import annotations


class CudaError(RuntimeError):
    """A CUDA runtime call failed. ``code`` is the cudaError_t number (-1 when unknown)."""

    def __init__(self, message: str, code: int = -1) -> None:
        super().__init__(message)
        self.code = int(code)


# cudaError_t numbers the messages explain.
NO_DRIVER = 35  # cudaErrorInsufficientDriver: no driver, or older than the runtime built in
NO_DEVICE = 100  # cudaErrorNoDevice
