"""Package build: the native modules import, and the CMake CUDA switch behaves (ATPN_CUDA,
architectures). The CMake tests configure into a temporary directory (no compilation) and skip
where cmake is missing."""
from __future__ import annotations

import importlib
import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


# SIMD paths the CPU module may pick, per architecture (cpp/cpu/warp_crop.cpp: warp_level_name).
SIMD_LEVELS = {"x86_64": {"avx512", "avx2", "scalar"}, "amd64": {"avx512", "avx2", "scalar"},
               "aarch64": {"neon", "scalar"}, "arm64": {"neon", "scalar"}}


def test_cpu_module_and_kernels_import():
    import platform

    cpu = importlib.import_module("atpn_edge._cpu")
    allowed = SIMD_LEVELS.get(platform.machine().lower(), {"scalar"})
    assert cpu.warp_simd_level() in allowed, f"{cpu.warp_simd_level()} on {platform.machine()}"
    assert set(cpu.warp_simd_levels()) <= allowed and "scalar" in cpu.warp_simd_levels()
    from atpn_edge import kernels
    assert callable(kernels.warp_crop_batch) and callable(kernels.render_heatmap)


def test_cuda_module_imports_without_a_driver_or_is_absent():
    from atpn_edge.cuda import gpu_status
    ok, reason = gpu_status()
    if importlib.util.find_spec("atpn_edge._cuda") is None:
        assert not ok and "without its CUDA module" in reason
        return
    # Statically linked runtime: importing never needs libcudart.so or a driver.
    cu = importlib.import_module("atpn_edge._cuda")
    try:
        count = cu.device_count()
    except cu.CudaError as e:  # the package's one CudaError (atpn_edge.cuda.errors)
        assert not ok and str(e) in reason
    else:
        assert ok == (count > 0) or "unusable" in reason


def _cmake() -> str:
    exe = shutil.which("cmake")
    if exe is None:
        pytest.skip("cmake not installed")
    return exe


def _nvcc() -> str | None:
    found = shutil.which("nvcc")
    if found:
        return found
    return "/usr/local/cuda/bin/nvcc" if os.access("/usr/local/cuda/bin/nvcc", os.X_OK) else None


def _configure(tmp_path: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    e = dict(os.environ)
    e.update(env or {})
    return subprocess.run([_cmake(), "-S", str(REPO), "-B", str(tmp_path / "b"), *args],
                          env=e, capture_output=True, text=True, timeout=300)


def _pybind11_args() -> list[str]:
    try:
        import pybind11
    except ImportError:
        pytest.skip("pybind11 not installed (needed to configure the whole project)")
    return [f"-Dpybind11_DIR={pybind11.get_cmake_dir()}", f"-DPython_EXECUTABLE={sys.executable}"]


@pytest.mark.slow
def test_cuda_on_without_nvcc_stops_with_a_clear_message(tmp_path):
    r = _configure(tmp_path, "-DATPN_CUDA=ON", env={"CUDACXX": str(tmp_path / "no-such-nvcc")})
    assert r.returncode != 0
    assert "ATPN_CUDA=ON but no working CUDA compiler was found" in r.stderr + r.stdout


@pytest.mark.slow
def test_bad_cuda_switch_is_rejected(tmp_path):
    r = _configure(tmp_path, "-DATPN_CUDA=MAYBE")
    assert r.returncode != 0 and "ATPN_CUDA must be AUTO, ON or OFF" in r.stderr + r.stdout


@pytest.mark.slow
def test_cuda_architectures_follow_nvcc_and_user_value_wins(tmp_path):
    nvcc = _nvcc()
    if nvcc is None:
        pytest.skip("nvcc not found")
    version = re.search(r"release (\d+)\.(\d+)", subprocess.run(
        [nvcc, "--version"], capture_output=True, text=True).stdout)
    major, minor = int(version.group(1)), int(version.group(2))
    args = _pybind11_args()
    r = _configure(tmp_path, "-DATPN_CUDA=ON", *args, env={"CUDACXX": nvcc})
    assert r.returncode == 0, r.stderr
    cache = (tmp_path / "b" / "CMakeCache.txt").read_text()
    archs = re.search(r"^CMAKE_CUDA_ARCHITECTURES:\w+=(.*)$", cache, re.M).group(1)
    if major >= 13:
        assert archs == "87-real;110-real;75-virtual"  # Orin, Thor; CUDA 13 has no sm_72
    elif major == 12 or (major == 11 and minor >= 4):
        assert archs == "72-real;87-real;72-virtual"   # Xavier, Orin
    assert "native" not in archs

    shutil.rmtree(tmp_path / "b")
    r = _configure(tmp_path, "-DATPN_CUDA=ON", "-DCMAKE_CUDA_ARCHITECTURES=80", *args,
                   env={"CUDACXX": nvcc})
    assert r.returncode == 0, r.stderr
    cache = (tmp_path / "b" / "CMakeCache.txt").read_text()
    assert re.search(r"^CMAKE_CUDA_ARCHITECTURES:\w+=80$", cache, re.M)


@pytest.mark.slow
def test_cuda_off_configures_cpu_only(tmp_path):
    r = _configure(tmp_path, "-DATPN_CUDA=OFF", *_pybind11_args())
    assert r.returncode == 0, r.stderr
    assert "CMAKE_CUDA_COMPILER" not in (tmp_path / "b" / "CMakeCache.txt").read_text()
    assert "ATPN_CUDA=OFF, building the CPU-only package" in r.stdout


@pytest.mark.slow
def test_aarch64_kernels_match_this_machine(tmp_path):
    """NEON path == scalar on aarch64 and both architectures give the same bytes (qemu-user)."""
    for tool in ("aarch64-linux-gnu-g++", "qemu-aarch64"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} not installed (apt-get install g++-aarch64-linux-gnu qemu-user)")
    r = subprocess.run(["bash", str(REPO / "scripts" / "cross_check_aarch64.sh")],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "0 differ" in r.stdout and "agree bit for bit" in r.stdout


def test_cuda_runtime_is_linked_statically():
    """_cuda must not need libcudart.so (absent on machines without a toolkit) nor libcuda.so."""
    if importlib.util.find_spec("atpn_edge._cuda") is None:
        pytest.skip("package built without CUDA")
    if not os.path.exists("/proc/self/maps"):
        pytest.skip("needs /proc (Linux)")
    cu = importlib.import_module("atpn_edge._cuda")
    needed = subprocess.run(["ldd", cu.__file__], capture_output=True, text=True).stdout \
        if shutil.which("ldd") else ""
    assert "libcudart" not in needed and "libcuda.so" not in needed, needed
    with open("/proc/self/maps") as f:
        assert "libcudart.so" not in f.read()
