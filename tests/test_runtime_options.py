"""Typed per-backend options: a wrong name or value fails before anything is opened, with a
message naming the backend (and, for another backend's option, which backend has it)."""
from __future__ import annotations

import pytest

from atpn_edge.runtime.options import OnnxRuntimeOptions, TensorRTOptions, backend_options


def test_an_option_of_another_backend_names_both():
    with pytest.raises(ValueError, match=r"backend 'onnxruntime' has no option 'cuda_graph' \(it is an option of tensorrt\)"):
        backend_options("onnxruntime", {"cuda_graph": True})
    with pytest.raises(ValueError, match=r"backend 'tensorrt' has no option 'io_binding' \(it is an option of onnxruntime"):
        backend_options("tensorrt", {"io_binding": False})


def test_unknown_options_and_values():
    with pytest.raises(ValueError, match="backend 'onnxruntime' has no option 'thread'; it takes io_binding, precision"):
        backend_options("onnxruntime", {"thread": 2})
    with pytest.raises(ValueError, match="onnxruntime: unknown precision 'fp16'"):
        OnnxRuntimeOptions(precision="fp16")
    with pytest.raises(TypeError, match="tensorrt: cuda_graph must be True or False"):
        TensorRTOptions(cuda_graph="yes")
    with pytest.raises(ValueError, match="tensorrt: workspace_mb must be a positive int"):
        TensorRTOptions(workspace_mb=0)


def test_options_pass_through_typed():
    typed, injected = backend_options("tensorrt", {"precision": "int8", "trt": object()})
    assert typed == TensorRTOptions(precision="int8") and set(injected) == {"trt"}
    typed, injected = backend_options("onnxruntime-cuda", {"io_binding": False})
    assert typed == OnnxRuntimeOptions(io_binding=False) and injected == {}


def test_create_pipeline_rejects_a_tensorrt_option_on_the_cpu(tmp_path):
    pytest.importorskip("torch", reason="torch builds the tiny test model")
    from runtime_tiny_model import make_tiny_model

    from atpn_edge.runtime import create_pipeline

    model = make_tiny_model(tmp_path)
    with pytest.raises(ValueError, match="backend 'onnxruntime' has no option 'cuda_graph'"):
        create_pipeline(model, backend="onnxruntime", cuda_graph=True)


@pytest.mark.parametrize("backend", ["tensorrt", "onnxruntime"])
def test_options_match_the_backend_constructors(backend):
    """Every constructor option of a backend is declared (so create_pipeline passes it), and
    nothing else is: a new backend argument must be added to its options class too."""
    import inspect
    from dataclasses import fields

    from atpn_edge.runtime.options import BACKEND_OPTIONS, TENSORRT_INJECTIONS

    if backend == "tensorrt":
        from atpn_edge.runtime.tensorrt_backend import TensorRTPipeline as cls
        fixed = {"files", "info", "max_faces", *TENSORRT_INJECTIONS}
    else:
        from atpn_edge.runtime.onnxruntime_backend import OnnxRuntimePipeline as cls
        fixed = {"files", "info", "max_faces", "threads", "providers"}
    params = set(inspect.signature(cls.__init__).parameters) - {"self"} - fixed
    assert params == {f.name for f in fields(BACKEND_OPTIONS[backend])}
