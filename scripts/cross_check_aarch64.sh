#!/usr/bin/env bash
# Checks the CPU kernels on aarch64 (the Jetson's CPU) without a Jetson: builds
# cpp/tests/cross_arch_check.cpp natively and with the aarch64 cross compiler, runs the latter
# under qemu-user, and requires (1) every SIMD path (AVX2/AVX-512 here, NEON there) to equal the
# scalar path bit for bit and (2) both architectures to produce the same bytes.
# Needs: apt-get install g++-aarch64-linux-gnu qemu-user
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=build/cross-check
mkdir -p "$OUT"
SRC=(cpp/tests/cross_arch_check.cpp cpp/cpu/warp_crop.cpp cpp/cpu/warp_crop_avx2.cpp
     cpp/cpu/warp_crop_avx512.cpp cpp/cpu/warp_crop_neon.cpp cpp/cpu/heatmap.cpp cpp/cpu/area_shrink.cpp)
# The flags the CMake build uses for these files (see CMakeLists.txt).
FLAGS=(-std=c++17 -O3 -ffp-contract=off -fno-math-errno -fno-trapping-math -Icpp/include)
for tool in aarch64-linux-gnu-g++ qemu-aarch64; do
  command -v "$tool" >/dev/null || { echo "cross_check: $tool not found" >&2; exit 1; }
done
nice -n 10 "${CXX:-g++}" "${FLAGS[@]}" "${SRC[@]}" -o "$OUT/check-native"
nice -n 10 aarch64-linux-gnu-g++ "${FLAGS[@]}" -static "${SRC[@]}" -o "$OUT/check-aarch64"
"$OUT/check-native" "$OUT/native.bin"
qemu-aarch64 "$OUT/check-aarch64" "$OUT/aarch64.bin"
cmp "$OUT/native.bin" "$OUT/aarch64.bin"
echo "cross_check: aarch64 and $(uname -m) kernels agree bit for bit"
