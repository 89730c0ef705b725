#!/usr/bin/env bash
# Builds the native modules into build/dev and copies them into python/atpn_edge/, so that the
# source tree (on sys.path through the venv's .pth file) imports atpn_edge._cpu / _cuda without
# `pip install -e .`. Usage: scripts/dev_build.sh   (ATPN_CUDA=AUTO|ON|OFF, CUDA_ARCHS=87, JOBS=2,
# PYTHON=python)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python}
JOBS=${JOBS:-2}
BUILD=build/dev

if [[ "${ATPN_CUDA:-AUTO}" == OFF ]]; then rm -f "$BUILD"/_cuda.*.so; fi
nice -n 10 cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release \
  -DPython_EXECUTABLE="$(command -v "$PY")" \
  -Dpybind11_DIR="$("$PY" -m pybind11 --cmakedir)" \
  -DATPN_CUDA="${ATPN_CUDA:-AUTO}" ${CUDA_ARCHS:+-DCMAKE_CUDA_ARCHITECTURES="$CUDA_ARCHS"} >/dev/null
nice -n 10 cmake --build "$BUILD" -j "$JOBS"

# Copy then rename, so a process importing at the same moment never sees a half-written file.
copied=0
for name in _cpu _cuda; do
  rm -f python/atpn_edge/${name}.tmp
  src=$(ls "$BUILD"/${name}.*.so 2>/dev/null | head -n 1 || true)
  if [[ -n "$src" ]]; then
    cp "$src" python/atpn_edge/${name}.tmp
    mv -f python/atpn_edge/${name}.tmp "python/atpn_edge/$(basename "$src")"
    echo "dev_build: python/atpn_edge/$(basename "$src")"
    copied=$((copied + 1))
  else
    rm -f python/atpn_edge/${name}.*.so  # e.g. a stale _cuda after ATPN_CUDA=OFF
  fi
done
[[ $copied -gt 0 ]]
