#!/usr/bin/env bash
# On a machine with an NVIDIA GPU (Jetson or desktop): builds the package with CUDA for this GPU,
# runs the CPU and CUDA kernel tests, the real-hardware TensorRT tests (-m gpu: skipped without
# TensorRT), the kernel benchmark and the pipeline's faces/s at batch 1, 4 and 16.
#   scripts/gpu_check.sh            (CUDA_ARCHS=87 to override the detected architecture;
#                                    GPU_CHECK_DEV=1 to build in place without a package index)
# Results go to build/gpu-check/. On a Jetson the venv sees the system site-packages (TensorRT
# and JetPack's OpenCV come with JetPack).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
OUT=build/gpu-check
VENV=$OUT/venv
mkdir -p "$OUT"
NVCC=$(command -v nvcc || true)
if [[ -z "$NVCC" && -x /usr/local/cuda/bin/nvcc ]]; then NVCC=/usr/local/cuda/bin/nvcc; fi
[[ -n "$NVCC" ]] || { echo "gpu_check: nvcc not found (install the CUDA toolkit)" >&2; exit 1; }
"$NVCC" --version | tail -n 2

# Build for this GPU so the numbers are for native code. Desktop nvidia-smi reports compute_cap;
# JetPack's reduced nvidia-smi (or none, JetPack 5) prints "N/A" or fails: then the Jetson's
# architecture comes from its device tree / L4T release (87 on Orin).
ARCHS=${CUDA_ARCHS:-}
if [[ -z "$ARCHS" ]] && command -v nvidia-smi >/dev/null; then
  nvidia-smi --query-gpu=name,compute_cap,driver_version --format=csv,noheader 2>/dev/null || true
  cap=$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader 2>/dev/null | head -n 1 | tr -d ' .' || true)
  [[ "$cap" =~ ^[0-9]+$ ]] && ARCHS=$cap
fi
if [[ -f /etc/nv_tegra_release ]]; then
  head -n 1 /etc/nv_tegra_release
  [[ -z "$ARCHS" ]] && ARCHS=$("$PY" -S python/atpn_edge/cuda/tegra.py arch || true)
fi
echo "gpu_check: CUDA architectures: ${ARCHS:-package default}"

if [[ "${GPU_CHECK_DEV:-0}" == 1 ]]; then
  # Offline machines (no package index): build in place with the python at hand, which needs
  # cmake, pybind11, numpy, opencv, onnxruntime and pytest already installed.
  ATPN_CUDA=ON CUDA_ARCHS="$ARCHS" PYTHON="$PY" scripts/dev_build.sh
  export PYTHONPATH="$PWD/python${PYTHONPATH:+:$PYTHONPATH}"
  py() { "$PY" "$@"; }
else
  "$PY" -m venv --system-site-packages "$VENV"
  # shellcheck disable=SC1091
  . "$VENV/bin/activate"
  pip install -q --upgrade pip
  args=(-C cmake.define.ATPN_CUDA=ON -C "cmake.define.CMAKE_CUDA_COMPILER=$NVCC")
  [[ -n "$ARCHS" ]] && args+=(-C "cmake.define.CMAKE_CUDA_ARCHITECTURES=$ARCHS")
  pip install -q "${args[@]}" ".[test]"
  py() { python "$@"; }
fi

py - <<'PY'
from atpn_edge.cuda import gpu_status
from atpn_edge.runtime.select import tensorrt_status
ok, why = gpu_status()
print("gpu_status:", ok, why)
print("tensorrt:", *tensorrt_status())
raise SystemExit(0 if ok else "gpu_check: the CUDA module cannot run here: " + why)
PY
# A failing test does not stop the benchmarks; the script's exit status reports it at the end.
failed=0
py -m pytest -q -rs -p no:cacheprovider tests/test_kernels.py tests/test_kernels_cuda.py \
  tests/test_heatmap_nonfinite_and_limits.py tests/test_build.py || failed=1
py -m pytest -q -rs -p no:cacheprovider -m gpu tests/test_gpu_tensorrt_real.py || failed=1
py -m atpn_edge bench --kernels --json | tail -n 1 > "$OUT/kernels.json"

# Pipeline throughput: faces/s at batch 1, 4 and 16 (TensorRT FP16 where it imports, else the
# CPU pipeline), plain and with CUDA graphs.
py - "$OUT/pipeline.json" <<'PY'
import json, sys
from atpn_edge.bench.pipeline import bench_frame, time_pipeline
from atpn_edge.runtime import create_pipeline
from atpn_edge.runtime.select import tensorrt_status

frame, source = bench_frame()
results = []
variants = [dict(backend="tensorrt", cuda_graph=g, engine_max_batch=16) for g in (False, True)] \
    if tensorrt_status()[0] else [dict(backend="onnxruntime")]
for options in variants:
    pipe = create_pipeline(None, max_faces=16, **options)
    for n in (1, 4, 16):
        t = time_pipeline(pipe, frame, n, runs=200, warmup=20)
        row = {**options, "faces": n, "step_ms": t["step"], "faces_per_s": round(n / (t["step"]["median_ms"] / 1e3), 1)}
        results.append(row)
        print(json.dumps(row))
    pipe.close()
json.dump({"frame": source, "results": results}, open(sys.argv[1], "w"), indent=1)
PY
echo "gpu_check: done; results in $OUT/"
[[ $failed == 0 ]] || { echo "gpu_check: some tests FAILED (see above)" >&2; exit 1; }
