"""A fake `tensorrt` module that mirrors the TensorRT 10 Python API the runtime uses: same class
and method names, call-order checks, and AttributeError for what 10.x removed (build_engine,
max_workspace_size, bindings, execute_async_v2). Engines really compute: a "serialized engine"
is a header plus the ONNX file, run by ONNX Runtime on the (fake, host) device buffers.

It also models the behaviours real TensorRT has and a careless caller gets wrong:
- a context's shape-dependent state: changing an input shape re-plans the context, and a CUDA
  graph captured before that change computes garbage (NaN here) when replayed;
- ``execute_async_v3`` returning False (always, or only while the stream is captured, where it
  also invalidates the capture as real TensorRT's illegal calls do);
- ``create_execution_context`` returning None (out of memory);
- ``set_timing_cache`` returning False for a cache of another TensorRT version (or on demand),
  after which the config has no timing cache;
- INT8 calibration at the calibration profile's OPT shape: the builder reads OPT-batch samples
  from each pointer the calibrator returns, and records how many it saw.
``behaviour`` switches the failures on (tests monkeypatch it).
"""
from __future__ import annotations

import json

import numpy as np
import onnx
import onnxruntime as ort

from . import cuda as fake_cuda

__version__ = "10.3.0"
MAGIC = b"FAKETRT1"
builds: list[dict] = []  # one entry per build_serialized_network call


class Behaviour:
    def __init__(self, enqueue_fails: str = "never", context_none: bool = False,
                 refuse_timing_cache: bool = False) -> None:
        assert enqueue_fails in ("never", "capture", "always")
        self.enqueue_fails, self.context_none, self.refuse_timing_cache = enqueue_fails, context_none, refuse_timing_cache


behaviour = Behaviour()


class _Strict:
    """Setting an attribute the real class lacks raises, as the C++ bindings do."""

    _fields: tuple[str, ...] = ()

    def __setattr__(self, name, value):
        if name not in self._fields and not name.startswith("_"):
            raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")
        object.__setattr__(self, name, value)


class Logger:
    VERBOSE, INFO, WARNING, ERROR, INTERNAL_ERROR = range(5)
    instances = 0  # TensorRT wants one logger per process

    def __init__(self, min_severity=WARNING):
        self.min_severity = min_severity
        Logger.instances += 1


class ExecutionContextAllocationStrategy:
    STATIC, ON_PROFILE_CHANGE, USER_MANAGED = "STATIC", "ON_PROFILE_CHANGE", "USER_MANAGED"


class MemoryPoolType:
    WORKSPACE = "WORKSPACE"


class BuilderFlag:
    FP16 = "FP16"
    INT8 = "INT8"


class LayerType:
    QUANTIZE = "QUANTIZE"
    OTHER = "OTHER"


class DataType:
    FLOAT, HALF, INT8, INT32 = "FLOAT", "HALF", "INT8", "INT32"


class TensorIOMode:
    NONE, INPUT, OUTPUT = "NONE", "INPUT", "OUTPUT"


class IProgressMonitor:
    def __init__(self):
        pass


class IInt8EntropyCalibrator2:
    def __init__(self):
        pass


class ITensor:
    def __init__(self, name, shape):
        self.name, self.shape = name, tuple(shape)


class ILayer:
    def __init__(self, type_):
        self.type = type_


class INetworkDefinition(_Strict):
    def __init__(self):
        self._inputs, self._outputs, self._layers, self._onnx = [], [], [], b""

    num_inputs = property(lambda self: len(self._inputs))
    num_outputs = property(lambda self: len(self._outputs))
    num_layers = property(lambda self: len(self._layers))

    def get_input(self, i):
        return self._inputs[i]

    def get_output(self, i):
        return self._outputs[i]

    def get_layer(self, i):
        return self._layers[i]


def _dims(value_info):
    return [d.dim_value if d.HasField("dim_value") else -1 for d in value_info.type.tensor_type.shape.dim]


class OnnxParser:
    def __init__(self, network, logger):
        self._network, self._errors = network, []

    def parse(self, model: bytes) -> bool:
        try:
            graph = onnx.load_from_string(model).graph
        except Exception as exc:
            self._errors = [f"ModelImporter: failed to parse ONNX ({exc})"]
            return False
        net = self._network
        net._inputs = [ITensor(v.name, _dims(v)) for v in graph.input]
        net._outputs = [ITensor(v.name, _dims(v)) for v in graph.output]
        net._layers = [ILayer(LayerType.QUANTIZE if n.op_type == "QuantizeLinear" else LayerType.OTHER) for n in graph.node]
        net._onnx = model
        return True

    num_errors = property(lambda self: len(self._errors))

    def get_error(self, i):
        return self._errors[i]


class IOptimizationProfile:
    def __init__(self):
        self.shapes = {}

    def set_shape(self, name, min, opt, max):
        if not (len(min) == len(opt) == len(max)) or any(a > b for a, b in zip(min, opt)) or any(a > b for a, b in zip(opt, max)):
            raise ValueError(f"bad profile for {name}: {min} {opt} {max}")
        self.shapes[name] = (tuple(min), tuple(opt), tuple(max))


class ITimingCache:
    def __init__(self, data: bytes):
        self.version, self.entries = __version__, []
        if data:
            try:
                parsed = json.loads(bytes(data).decode())
                self.version, self.entries = parsed["version"], list(parsed["entries"])
            except (ValueError, KeyError, TypeError):
                self.version = "corrupt"

    def serialize(self):
        return json.dumps({"version": self.version, "entries": self.entries}).encode()


class IBuilderConfig(_Strict):
    _fields = ("int8_calibrator", "progress_monitor")

    def __init__(self):
        self._pools, self._flags, self._profiles, self._timing_cache = {}, set(), [], None
        self._calib_profile = None
        self.int8_calibrator = None
        self.progress_monitor = None

    def set_memory_pool_limit(self, pool, size):
        self._pools[pool] = int(size)

    def set_flag(self, flag):
        self._flags.add(flag)

    def get_flag(self, flag):
        return flag in self._flags

    def add_optimization_profile(self, profile):
        self._profiles.append(profile)
        return len(self._profiles) - 1

    def set_calibration_profile(self, profile):
        self._calib_profile = profile

    def create_timing_cache(self, data):
        return ITimingCache(bytes(data))

    def set_timing_cache(self, cache, ignore_mismatch):
        foreign = cache.version != __version__ or (behaviour.refuse_timing_cache and cache.entries)
        if foreign and not ignore_mismatch:
            self._timing_cache = None
            return False
        self._timing_cache = cache
        return True

    def get_timing_cache(self):
        return self._timing_cache


class Builder(_Strict):
    def __init__(self, logger):
        self._logger = logger

    def create_network(self, flags=0):
        return INetworkDefinition()

    def create_builder_config(self):
        return IBuilderConfig()

    def create_optimization_profile(self):
        return IOptimizationProfile()

    def build_serialized_network(self, network, config):
        dynamic = [t for t in network._inputs if t.shape and t.shape[0] < 0]
        profile = config._profiles[0] if config._profiles else IOptimizationProfile()
        for t in dynamic:
            if t.name not in profile.shapes:
                raise RuntimeError(f"fake TensorRT: no profile shape for dynamic input {t.name}")
        shapes = {t.name: profile.shapes.get(t.name, (t.shape,) * 3) for t in network._inputs}
        if config.progress_monitor is not None:
            config.progress_monitor.phase_start("Building engine", None, 1)
            config.progress_monitor.step_complete("Building engine", 0)
            config.progress_monitor.phase_finish("Building engine")
        calib = config.int8_calibrator
        samples = 0
        if BuilderFlag.INT8 in config._flags and calib is not None:
            if calib.read_calibration_cache() is None:
                # TensorRT 10 calibrates at the calibration profile's OPT shape (the first
                # profile's without one), whatever batch the calibrator says it uploads.
                calib_profile = config._calib_profile or profile
                names = [t.name for t in network._inputs]
                opt = {n: calib_profile.shapes.get(n, shapes[n])[1] for n in names}
                while True:
                    ptrs = calib.get_batch(names)
                    if ptrs is None:
                        break
                    for name, ptr in zip(names, ptrs):  # read what TensorRT would read
                        data = fake_cuda.view(int(ptr), int(np.prod(opt[name])) * 4, np.float32)
                        if not np.isfinite(data).all():
                            raise RuntimeError(f"fake TensorRT: calibration data of {name} is not finite")
                    samples += opt[names[0]][0]
                if samples == 0:
                    raise RuntimeError("fake TensorRT: the calibrator gave no batch")
                calib.write_calibration_cache(b"fake-calibration-table")
        if config._timing_cache is not None:
            config._timing_cache.entries.append(len(builds))
        builds.append({"flags": sorted(config._flags), "pools": dict(config._pools), "profile": profile.shapes,
                       "calibrated": calib is not None, "calibration_samples": samples,
                       "timing_cache": config._timing_cache is not None})
        header = json.dumps({"version": __version__, "profile": shapes}).encode()
        return memoryview(MAGIC + len(header).to_bytes(4, "little") + header + network._onnx)


class Runtime:
    def __init__(self, logger):
        self._logger = logger

    def deserialize_cuda_engine(self, data):
        data = bytes(data)
        if not data.startswith(MAGIC):
            return None  # what TensorRT does with a corrupt file (after logging an error)
        size = int.from_bytes(data[8:12], "little")
        try:
            header = json.loads(data[12:12 + size])
        except ValueError:
            return None
        if header["version"] != __version__:
            return None  # TensorRT refuses engines of other versions
        return ICudaEngine(header, data[12 + size:])


class ICudaEngine:
    def __init__(self, header, model):
        self._profile = {k: tuple(tuple(s) for s in v) for k, v in header["profile"].items()}
        self._session = ort.InferenceSession(model, providers=["CPUExecutionProvider"])
        self._inputs = [i.name for i in self._session.get_inputs()]
        self._outputs = [o.name for o in self._session.get_outputs()]

    num_io_tensors = property(lambda self: len(self._inputs) + len(self._outputs))

    def get_tensor_name(self, i):
        return (self._inputs + self._outputs)[i]

    def get_tensor_mode(self, name):
        return TensorIOMode.INPUT if name in self._inputs else TensorIOMode.OUTPUT if name in self._outputs else TensorIOMode.NONE

    def get_tensor_profile_shape(self, name, profile_index):
        return self._profile[name]

    def get_tensor_shape(self, name):
        args = {a.name: a for a in self._session.get_inputs() + self._session.get_outputs()}
        return tuple(d if isinstance(d, int) else -1 for d in args[name].shape)

    def get_tensor_dtype(self, name):
        args = {a.name: a for a in self._session.get_inputs() + self._session.get_outputs()}
        return DataType.FLOAT if args[name].type == "tensor(float)" else DataType.INT32

    device_memory_size = property(lambda self: 4096)
    device_memory_size_v2 = property(lambda self: 4096)

    def create_execution_context(self, strategy=ExecutionContextAllocationStrategy.STATIC):
        if behaviour.context_none:
            return None  # what TensorRT does (after logging) when it cannot allocate a context
        return IExecutionContext(self, strategy)


class IExecutionContext(_Strict):
    _fields = ("enqueues", "device_memory")

    def __init__(self, engine, strategy):
        self._engine, self._addresses = engine, {}
        # Static inputs need no set_input_shape; dynamic ones start unset.
        self._shapes = {n: tuple(lo) for n, (lo, _, hi) in engine._profile.items() if tuple(lo) == tuple(hi)}
        self._strategy, self._memory = strategy, None
        self._generation = 0  # bumped whenever a shape change re-plans the context
        self.enqueues = 0

    def set_device_memory(self, ptr, size):
        if self._strategy != ExecutionContextAllocationStrategy.USER_MANAGED:
            raise RuntimeError("fake TensorRT: set_device_memory needs a USER_MANAGED context")
        if int(size) < self._engine.device_memory_size_v2 or int(ptr) % 256:
            raise RuntimeError("fake TensorRT: device memory too small or misaligned")
        self._memory = int(ptr)

    def set_input_shape(self, name, shape):
        lo, _, hi = self._engine._profile[name]
        shape = tuple(int(d) for d in shape)
        if len(shape) != len(lo) or any(s < a or s > b for s, a, b in zip(shape, lo, hi)):
            return False
        if self._shapes.get(name) != shape:
            self._generation += 1
        self._shapes[name] = shape
        return True

    def set_tensor_address(self, name, ptr):
        if self._engine.get_tensor_mode(name) == TensorIOMode.NONE:
            raise RuntimeError(f"fake TensorRT: no tensor named {name}")
        if int(ptr) % 256:
            raise RuntimeError(f"fake TensorRT: address of {name} is not 256-byte aligned")
        self._addresses[name] = int(ptr)
        return True

    def execute_async_v3(self, stream_handle):
        eng = self._engine
        missing = [n for n in eng._inputs + eng._outputs if n not in self._addresses]
        if missing or any(n not in self._shapes for n in eng._inputs):
            raise RuntimeError(f"fake TensorRT: enqueue before every address/shape was set ({missing})")
        if self._strategy == ExecutionContextAllocationStrategy.USER_MANAGED and self._memory is None:
            raise RuntimeError("fake TensorRT: USER_MANAGED context enqueued without device memory")
        capturing = fake_cuda.capturing(stream_handle)
        if behaviour.enqueue_fails == "always" or (behaviour.enqueue_fails == "capture" and capturing):
            if capturing:
                fake_cuda.invalidate_capture(stream_handle)
            return False
        shapes = dict(self._shapes)
        generation = self._generation
        self.enqueues += 1

        def run():
            stale = self._generation != generation  # replayed after the context was re-shaped
            feeds = {n: fake_cuda.view(self._addresses[n], int(np.prod(s)) * 4, np.float32).reshape(s) for n, s in shapes.items()}
            for name, value in zip(eng._outputs, eng._session.run(eng._outputs, feeds)):
                value = np.ascontiguousarray(value, np.float32)
                if stale:
                    value = np.full_like(value, np.nan)
                fake_cuda.view(self._addresses[name], value.nbytes, np.float32)[:] = value.reshape(-1)

        fake_cuda.enqueue(int(stream_handle), run)
        return True
