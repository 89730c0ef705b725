"""Benchmarks: the native kernels against OpenCV/numpy (`atpn-edge bench --kernels`) and
the pipeline timing helpers used by ``atpn-edge bench``."""
