#!/usr/bin/env bash
# On a machine with an NVIDIA GPU (Jetson or desktop): builds the package with CUDA for this GPU
# into a venv under build/gpu-check, runs the CPU and CUDA kernel tests and the kernel benchmark.
#   scripts/gpu_check.sh            (CUDA_ARCHS=87 to override the detected architecture;
#                                    GPU_CHECK_DEV=1 to build in place without a package index)
# On a Jetson the venv sees the system site-packages (TensorRT comes with JetPack).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
VENV=build/gpu-check/venv
NVCC=$(command -v nvcc || true)
if [[ -z "$NVCC" && -x /usr/local/cuda/bin/nvcc ]]; then NVCC=/usr/local/cuda/bin/nvcc; fi
[[ -n "$NVCC" ]] || { echo "gpu_check: nvcc not found (install the CUDA toolkit)" >&2; exit 1; }
"$NVCC" --version | tail -n 2

# The package's default architectures target Jetson (Orin/Thor) plus PTX; build for this GPU
# so that the numbers are for native code. nvidia-smi may be missing on Jetson: then keep them.
ARCHS=${CUDA_ARCHS:-}
if [[ -z "$ARCHS" ]] && command -v nvidia-smi >/dev/null; then
  nvidia-smi --query-gpu=name,compute_cap,driver_version --format=csv,noheader
  ARCHS=$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader | head -n 1 | tr -d ' .')
fi
[[ -f /etc/nv_tegra_release ]] && head -n 1 /etc/nv_tegra_release

if [[ "${GPU_CHECK_DEV:-0}" == 1 ]]; then
  # Offline machines (no package index): build in place with the python at hand, which needs
  # cmake, pybind11, numpy, opencv and pytest already installed.
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
ok, why = gpu_status()
print("gpu_status:", ok, why)
raise SystemExit(0 if ok else "gpu_check: the CUDA module cannot run here: " + why)
PY
py -m pytest -q -rs tests/test_kernels.py tests/test_kernels_cuda.py tests/test_build.py
mkdir -p build/gpu-check
py -m atpn_edge.bench kernels --json build/gpu-check/kernels.json
