# atpn-edge on a Jetson with JetPack 6 (L4T r36): NVIDIA's JetPack image already has CUDA,
# TensorRT 10.3 with its Python bindings and JetPack's GStreamer OpenCV (built against numpy 1.x),
# so the venv sees the system packages, numpy stays < 2 and pip's OpenCV is kept out (the package
# is installed with --no-deps; its other dependencies are named here). docs/JETSON.md explains.
#   docker build -t atpn-edge:jp6 .
#   docker run --rm -it --runtime nvidia -v ~/.cache/atpn-edge:/cache atpn-edge:jp6 atpn-edge build
# The image's L4T release must match the host's (r36.x).
ARG L4T_IMAGE=nvcr.io/nvidia/l4t-jetpack:r36.4.0
FROM ${L4T_IMAGE}

ENV DEBIAN_FRONTEND=noninteractive \
    PATH=/usr/local/cuda/bin:/opt/atpn-venv/bin:${PATH} \
    ATPN_EDGE_ENGINE_CACHE=/cache/engines \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN apt-get update \
 && apt-get install -y --no-install-recommends python3-venv python3-dev python3-pip cmake build-essential \
      gstreamer1.0-tools \
 && (python3 -c "import cv2" 2>/dev/null || apt-get install -y --no-install-recommends libopencv-python) \
 && rm -rf /var/lib/apt/lists/*

# Fail the build early when the image lacks what the GPU path needs.
RUN python3 -c "import tensorrt, cv2; print('TensorRT', tensorrt.__version__, '| OpenCV', cv2.__version__)" \
 && python3 -c "import cv2; assert 'YES' in [l for l in cv2.getBuildInformation().splitlines() if 'GStreamer:' in l][0]"

RUN python3 -m venv --system-site-packages /opt/atpn-venv \
 && pip install --no-cache-dir --upgrade pip \
 && pip install --no-cache-dir "numpy<2" "onnxruntime>=1.16" "scikit-build-core>=0.10" "pybind11>=2.12"

WORKDIR /opt/atpn-edge
COPY . .
# The GPU is not visible during `docker build`: the CUDA module is compiled for Orin (87) here
# and checked at run time (`gpu_status()`).
RUN ATPN_CUDA=ON pip install --no-cache-dir --no-deps --no-build-isolation . \
      -C cmake.define.CMAKE_CUDA_ARCHITECTURES=87 -C build-dir=/tmp/atpn-build \
 && rm -rf /tmp/atpn-build \
 && ! pip list 2>/dev/null | grep -i "^opencv" \
 && python -c "import atpn_edge._cuda, atpn_edge.kernels, tensorrt, cv2; print('atpn-edge ok, cv2 from', cv2.__file__)"

VOLUME /cache
CMD ["atpn-edge", "--help"]
