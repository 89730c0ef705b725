"""Widen a convolutional ONNX graph's channel counts to multiples of a SIMD block with zero channels.

BlazeFace grows its channels a few at a time (24, 28, 32, 36, 42, ...) and adds each block's input
to its output through a channel ``Pad``. ONNX Runtime's x86 CPU provider runs convolutions in a
blocked layout (NCHWc, 16 channels per block with AVX-512, 8 with AVX2) and pads channel counts to
the block internally; but ``Pad`` has no blocked kernel, so every one of them converts the tensor
to plain NCHW and back. Giving every activation ``round_up(C, block)`` channels, the extra ones
exactly zero (zero weights in, zero weights and bias out), makes most of those Pads identities
that can be dropped; where the rounded counts still differ, a 1x1 convolution with an identity
kernel stands in, which stays in the blocked layout.

The outputs are the same up to float rounding: the real channels see the same weights, the zero
channels add exact zeros, and Relu, MaxPool, Resize and Add keep zeros zero. Measured with
``scripts/convert_blazeface.py --check`` (the model card has the numbers).

Only the ops BlazeFace uses are widened: Conv (dense or depthwise), Relu, Add, MaxPool, Resize
and channel-only Pad. What any other op makes or reads (the heads' Transpose) keeps its real
channel count.
"""
from __future__ import annotations

import numpy as np

CHANNEL_AGNOSTIC = {"Relu", "Add", "MaxPool", "Resize"}
UNDERSTOOD = CHANNEL_AGNOSTIC | {"Conv", "Pad"}


def _round_up(c: int, block: int) -> int:
    return -(-c // block) * block


def _channels(model) -> dict[str, int]:
    """Channel count (dim 1) of every 4-d tensor, from ONNX shape inference."""
    from onnx import shape_inference

    g = shape_inference.infer_shapes(model).graph
    out = {}
    for v in list(g.value_info) + list(g.input) + list(g.output):
        dims = v.type.tensor_type.shape.dim
        if len(dims) == 4 and dims[1].HasField("dim_value"):
            out[v.name] = int(dims[1].dim_value)
    return out


def widened_counts(model, block: int) -> dict[str, int]:
    """Channel count each 4-d activation gets: rounded up, or the real one for graph inputs and
    outputs, for what ops other than the understood ones make or read, and for everything tied to
    those through channel-agnostic ops (their inputs and output must agree)."""
    g = model.graph
    real = _channels(model)
    readers: dict[str, set[str]] = {}
    for n in g.node:
        for i in n.input:
            readers.setdefault(i, set()).add(n.op_type)
    kept = {t.name for t in list(g.input) + list(g.output)}
    for n in g.node:
        if n.op_type not in UNDERSTOOD:
            kept.update(n.output)
    kept.update(t for t in real if not readers.get(t, set()) <= UNDERSTOOD)
    tied = [[t for t in list(n.input) + list(n.output) if t in real] for n in g.node if n.op_type in CHANNEL_AGNOSTIC]
    changed = True
    while changed:  # a kept tensor keeps every tensor tied to it
        changed = False
        for group in tied:
            if any(t in kept for t in group) and not all(t in kept for t in group):
                kept.update(group)
                changed = True
    return {t: c if t in kept else _round_up(c, block) for t, c in real.items()}


def _pad_channels(w: np.ndarray, out_c: int, in_c: int) -> np.ndarray:
    wide = np.zeros((out_c, in_c) + w.shape[2:], w.dtype)
    wide[:w.shape[0], :w.shape[1]] = w
    return wide


def widen_channels(model, block: int = 16):
    """A copy of ``model`` with widened channels (see the module doc); the graph's inputs and
    outputs keep their shapes."""
    import onnx
    from onnx import helper, numpy_helper

    if block < 1:
        raise ValueError(f"block must be >= 1, got {block}")
    model = onnx.ModelProto.FromString(model.SerializeToString())
    g = model.graph
    counts, real = widened_counts(model, block), _channels(model)
    inits = {i.name: numpy_helper.to_array(i) for i in g.initializer}
    alias: dict[str, str] = {}
    nodes = []
    for n in g.node:
        ins = [alias.get(i, i) for i in n.input]
        if n.op_type == "Conv":
            out, w = n.output[0], inits[n.input[1]]
            attrs = {a.name: helper.get_attribute_value(a) for a in n.attribute}
            group = int(attrs.get("group", 1))
            c_in, c_out = counts.get(ins[0], w.shape[1] * group), counts[out]
            if group == 1:
                inits[n.input[1]] = _pad_channels(w, c_out, c_in)
            elif group == w.shape[0] == real[ins[0]]:  # depthwise: one filter per channel
                inits[n.input[1]] = _pad_channels(w, c_out, 1)
                attrs["group"] = c_out
                if c_in != c_out:
                    raise ValueError(f"widen_channels: depthwise {n.name or out!r} widens {c_in} to {c_out}")
            else:
                raise ValueError(f"widen_channels: grouped convolution {n.name or out!r} (group {group}) is not understood")
            if len(ins) > 2:
                b = inits[n.input[2]]
                inits[n.input[2]] = np.concatenate([b, np.zeros(c_out - len(b), b.dtype)])
            nodes.append(helper.make_node("Conv", ins, [out], name=n.name, **attrs))
        elif n.op_type == "Pad":
            pads = inits.get(n.input[1]) if len(n.input) > 1 else None
            if pads is None or len(pads) != 8 or np.any(np.delete(pads, 5)):
                raise ValueError(f"widen_channels: Pad {n.name or n.output[0]!r} pads more than the channels' end")
            c_in, c_out = counts[ins[0]], counts[n.output[0]]
            if c_in == c_out:
                alias[n.output[0]] = ins[0]
                continue
            eye = np.zeros((c_out, c_in, 1, 1), np.float32)
            eye[np.arange(c_in), np.arange(c_in)] = 1.0
            inits[n.output[0] + "/identity"] = eye
            nodes.append(helper.make_node("Conv", [ins[0], n.output[0] + "/identity"], [n.output[0]],
                                          name=n.name or n.output[0], kernel_shape=[1, 1]))
        else:
            node = helper.make_node(n.op_type, ins, list(n.output), name=n.name, domain=n.domain or None)
            node.attribute.extend(n.attribute)
            nodes.append(node)
    for o in g.output:
        if o.name in alias:
            raise ValueError(f"widen_channels: output {o.name!r} is a dropped Pad")
    del g.node[:]
    g.node.extend(nodes)
    used = {i for n in g.node for i in n.input}
    del g.initializer[:]
    g.initializer.extend(numpy_helper.from_array(v, k) for k, v in sorted(inits.items()) if k in used)
    del g.value_info[:]  # shapes changed; ONNX Runtime infers them again
    onnx.checker.check_model(model)
    return model
