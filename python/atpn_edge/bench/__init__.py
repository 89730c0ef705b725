"""Benchmarks: ``python -m atpn_edge.bench kernels`` (native kernels against OpenCV/numpy) and
the pipeline timing helpers used by ``atpn-edge bench``."""
