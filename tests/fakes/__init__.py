"""Stand-ins for TensorRT, the CUDA runtime and the CUDA kernels, for tests without a GPU."""
