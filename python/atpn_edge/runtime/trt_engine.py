"""What every TensorRT engine of the package needs once it is built: deserialising with a clear
error, its I/O names, execution contexts that fail clearly when memory runs out, and one
scratch allocation that the contexts of a pipeline share."""
from __future__ import annotations


class EngineLoadError(ValueError):
    pass


def deserialize(trt, runtime, data: bytes, source: str):
    engine = runtime.deserialize_cuda_engine(data)
    if engine is None:
        raise EngineLoadError(
            f"{source}: TensorRT {trt.__version__} could not deserialize this engine (corrupt, or built by another "
            "TensorRT version or for another GPU); rebuild it with `atpn-edge build --force`"
        )
    return engine


def engine_io(trt, engine) -> tuple[list[str], list[str]]:
    names = [engine.get_tensor_name(i) for i in range(engine.num_io_tensors)]
    inputs = [n for n in names if engine.get_tensor_mode(n) == trt.TensorIOMode.INPUT]
    return inputs, [n for n in names if n not in inputs]


def _memory_note(cuda) -> str:
    try:
        free, total = cuda.mem_info()
    except Exception:  # the note is a hint; never hide the real error behind a second one
        return ""
    return f" ({free >> 20} MiB of {total >> 20} MiB free)"


class SharedScratch:
    """One device allocation for the activations of several execution contexts that never run
    at the same time (one stream): TensorRT's USER_MANAGED allocation strategy. Where the
    TensorRT version lacks it, each context allocates its own (``user_managed`` is False)."""

    def __init__(self, trt, cuda, engines: list) -> None:
        self._cuda, self.ptr, self.size = cuda, 0, 0
        strategy = getattr(trt, "ExecutionContextAllocationStrategy", None)
        self.user_managed = strategy is not None and hasattr(strategy, "USER_MANAGED")
        if self.user_managed:
            self.strategy = strategy.USER_MANAGED
            sizes = [int(getattr(e, "device_memory_size_v2", None) or e.device_memory_size) for e in engines]
            self.size = max(sizes, default=0)
            self.ptr = cuda.malloc(max(self.size, 1))

    def bind(self, ctx) -> None:
        if not self.user_managed:
            return
        if hasattr(ctx, "set_device_memory"):  # TensorRT >= 10.1
            ctx.set_device_memory(self.ptr, self.size)
        else:
            ctx.device_memory = self.ptr

    def close(self) -> None:
        if self.ptr:
            self._cuda.free(self.ptr)
            self.ptr = 0


def create_context(trt, cuda, engine, kind: str, scratch: SharedScratch | None = None):
    """An execution context of ``engine``; TensorRT returns None (after logging) when it cannot
    allocate one, which becomes a MemoryError that says so."""
    if scratch is not None and scratch.user_managed:
        ctx = engine.create_execution_context(scratch.strategy)
    else:
        ctx = engine.create_execution_context()
    if ctx is None:
        raise MemoryError(
            f"TensorRT could not create an execution context for {kind}: most likely out of GPU memory"
            f"{_memory_note(cuda)}; close other GPU programs, or use a smaller --max-faces or --workspace-mb"
        )
    if scratch is not None:
        scratch.bind(ctx)
    return ctx
