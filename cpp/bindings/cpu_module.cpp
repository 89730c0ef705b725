// atpn_edge._cpu: thin pybind11 wrapper over the CPU kernels. It re-checks everything it relies on
// (dtype, shape, C order) because reading a wrongly laid-out buffer would silently give garbage;
// friendly conversion (copies, defaults) lives in atpn_edge/kernels.py.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <array>
#include <cmath>
#include <string>
#include <vector>

#include "atpn/affine.h"
#include "atpn/cpu_kernels.h"
#include "atpn/detection_post.h"
#include "atpn/postprocess.h"

namespace py = pybind11;

namespace {

std::string shape_str(const py::array& a) {
    std::string s = "(";
    for (py::ssize_t i = 0; i < a.ndim(); ++i) s += (i ? ", " : "") + std::to_string(a.shape(i));
    return s + (a.ndim() == 1 ? ",)" : ")");
}

template <typename T>
void require(const py::array& a, const char* name, const char* dtype_name) {
    if (!py::isinstance<py::array_t<T>>(a) || !a.dtype().is(py::dtype::of<T>()))
        throw py::type_error(std::string(name) + " must have dtype " + dtype_name + ", got " +
                             std::string(py::str(a.dtype())));
    if (!(a.flags() & py::array::c_style))
        throw py::value_error(std::string(name) + " must be C-contiguous");
}

void require_shape(const py::array& a, const char* name, std::vector<py::ssize_t> shape,
                   const std::string& expected) {
    bool ok = a.ndim() == (py::ssize_t)shape.size();
    for (size_t i = 0; ok && i < shape.size(); ++i) ok = shape[i] < 0 || a.shape(i) == shape[i];
    if (!ok)
        throw py::value_error(std::string(name) + " must have shape " + expected + ", got " +
                              shape_str(a));
}

atpn::Norm make_norm(const std::array<double, 3>& mean, const std::array<double, 3>& std) {
    atpn::Norm n;
    for (int c = 0; c < 3; ++c) {
        if (!std::isfinite(mean[c]) || !std::isfinite(std[c]) || !(std[c] > 0.0))
            throw py::value_error("mean must be finite and std finite and > 0 (channel " +
                                  std::to_string(c) + ")");
        n.scale[c] = (float)(1.0 / (255.0 * std[c]));
        n.bias[c] = (float)(-mean[c] / std[c]);
    }
    return n;
}

// Scalar first; the best supported level comes last among the supported ones.
using atpn::cpu::WarpLevel;
constexpr WarpLevel kLevels[] = {WarpLevel::Scalar, WarpLevel::Avx2, WarpLevel::Avx512,
                                 WarpLevel::Neon};

WarpLevel parse_level(const std::string& name) {
    if (name == "auto") return atpn::cpu::warp_best_level();
    for (WarpLevel l : kLevels) {
        if (name == atpn::cpu::warp_level_name(l)) {
            if (!atpn::cpu::warp_level_supported(l))
                throw py::value_error("this CPU does not support simd='" + name + "'");
            return l;
        }
    }
    throw py::value_error("simd must be 'auto', 'avx512', 'avx2', 'neon' or 'scalar', got '" +
                          name + "'");
}

void warp_crop_batch(py::array frame, py::array affines, int size, std::array<double, 3> mean,
                     std::array<double, 3> std, py::array out, const std::string& simd) {
    const WarpLevel level = parse_level(simd);
    require<uint8_t>(frame, "frame", "uint8");
    require_shape(frame, "frame", {-1, -1, 3}, "(H, W, 3)");
    if (frame.shape(0) == 0 || frame.shape(1) == 0) throw py::value_error("frame is empty");
    if (frame.shape(0) > (1 << 30) || frame.shape(1) > (1 << 28))
        throw py::value_error("frame is too large");
    if (size <= 0) throw py::value_error("size must be > 0, got " + std::to_string(size));
    require<double>(affines, "affines", "float64");
    require_shape(affines, "affines", {-1, 2, 3}, "(N, 2, 3)");
    const py::ssize_t n = affines.shape(0);
    require<float>(out, "out", "float32");
    require_shape(out, "out", {n, 3, size, size},
                  "(" + std::to_string(n) + ", 3, " + std::to_string(size) + ", " +
                      std::to_string(size) + ")");
    if (!out.writeable()) throw py::value_error("out must be writeable");
    const atpn::Norm norm = make_norm(mean, std);
    std::vector<float> inv(6 * (size_t)n);
    const double* a = static_cast<const double*>(affines.data());
    for (py::ssize_t i = 0; i < n; ++i) atpn::invert_affine(a + 6 * i, inv.data() + 6 * i, i);

    const uint8_t* f = static_cast<const uint8_t*>(frame.data());
    float* o = static_cast<float*>(out.mutable_data());
    const int h = (int)frame.shape(0), w = (int)frame.shape(1);
    py::gil_scoped_release release;
    atpn::cpu::warp_crop_batch(f, h, w, 3LL * w, inv.data(), (int)n, size, norm, o, level);
}

void letterbox_area(py::array frame, int out_w, int out_h, int x0, int y0,
                    std::array<double, 3> mean, std::array<double, 3> std, py::array out) {
    require<uint8_t>(frame, "frame", "uint8");
    require_shape(frame, "frame", {-1, -1, 3}, "(H, W, 3)");
    const py::ssize_t h = frame.shape(0), w = frame.shape(1);
    if (h == 0 || w == 0) throw py::value_error("frame is empty");
    if (h > (1 << 30) || w > (1 << 28)) throw py::value_error("frame is too large");
    require<float>(out, "out", "float32");
    require_shape(out, "out", {1, 3, -1, -1}, "(1, 3, S, S)");
    if (out.shape(2) != out.shape(3)) throw py::value_error("out must be square, got " + shape_str(out));
    if (!out.writeable()) throw py::value_error("out must be writeable");
    const py::ssize_t size = out.shape(2);
    if (out_w < 1 || out_h < 1 || out_w > w || out_h > h)
        throw py::value_error("the shrunk image " + std::to_string(out_w) + "x" + std::to_string(out_h) +
                              " must be at least 1x1 and at most the frame's " + std::to_string(w) + "x" +
                              std::to_string(h));
    if (x0 < 0 || y0 < 0 || x0 + out_w > size || y0 + out_h > size)
        throw py::value_error("the shrunk image at (" + std::to_string(x0) + ", " + std::to_string(y0) +
                              ") does not fit the " + std::to_string(size) + "x" + std::to_string(size) + " input");
    const atpn::Norm norm = make_norm(mean, std);
    const uint8_t* f = static_cast<const uint8_t*>(frame.data());
    float* o = static_cast<float*>(out.mutable_data());
    py::gil_scoped_release release;
    atpn::cpu::letterbox_area(f, (int)h, (int)w, 3LL * w, out_w, out_h, x0, y0, (int)size, norm, o);
}

void render_heatmap(py::array landmarks, float sigma, py::array out, const std::string& nonfinite) {
    if (nonfinite != "raise" && nonfinite != "skip")
        throw py::value_error("nonfinite must be 'raise' or 'skip', got '" + nonfinite + "'");
    require<float>(landmarks, "landmarks", "float32");
    require_shape(landmarks, "landmarks", {-1, -1, 2}, "(N, K, 2)");
    require<float>(out, "out", "float32");
    require_shape(out, "out", {landmarks.shape(0), 1, -1, -1},
                  "(" + std::to_string(landmarks.shape(0)) + ", 1, height, width)");
    if (!out.writeable()) throw py::value_error("out must be writeable");
    if (!(sigma > 0.f) || !std::isfinite(sigma))
        throw py::value_error("sigma must be finite and > 0, got " + std::to_string(sigma));
    if (out.shape(2) <= 0 || out.shape(3) <= 0)
        throw py::value_error("heatmap height and width must be > 0");
    if (out.shape(2) > atpn::kMaxHeatmapSide || out.shape(3) > atpn::kMaxHeatmapSide)
        throw py::value_error("heatmap " + std::to_string(out.shape(2)) + "x" +
                              std::to_string(out.shape(3)) + " is too large (at most " +
                              std::to_string(atpn::kMaxHeatmapSide) + " a side)");
    if (landmarks.shape(1) > (1 << 20))
        throw py::value_error("more than 2^20 landmarks per face");
    const float* l = static_cast<const float*>(landmarks.data());
    const py::ssize_t count = landmarks.size();
    for (py::ssize_t i = 0; nonfinite == "raise" && i < count; ++i)
        if (!std::isfinite(l[i]))
            throw py::value_error("landmarks contain NaN or inf (at flat index " +
                                  std::to_string(i) + ")");
    float* o = static_cast<float*>(out.mutable_data());
    const int n = (int)landmarks.shape(0), k = (int)landmarks.shape(1);
    const int h = (int)out.shape(2), w = (int)out.shape(3);
    py::gil_scoped_release release;
    atpn::cpu::render_heatmap(l, n, k, h, w, sigma, o);
}

using f32_in = py::array_t<float, py::array::c_style | py::array::forcecast>;
using f64_in = py::array_t<double, py::array::c_style | py::array::forcecast>;

// Returns (landmarks, landmarks_crop, pose, score), all new arrays: the inputs are views into
// buffers the next frame overwrites.
py::tuple postprocess(f32_in lm_crop, f32_in pose_crop, f32_in logit, f64_in affines, int size) {
    if (lm_crop.ndim() != 3 || lm_crop.shape(2) != 2)
        throw py::value_error("landmarks must have shape (N, K, 2), got " + shape_str(lm_crop));
    const py::ssize_t n = lm_crop.shape(0), k = lm_crop.shape(1);
    require_shape(affines, "affines", {n, 2, 3}, "(" + std::to_string(n) + ", 2, 3)");
    if (pose_crop.size() != 3 * n) throw py::value_error("pose must hold 3 values per face");
    if (logit.size() != n) throw py::value_error("face_logit must hold 1 value per face");
    if (size <= 0) throw py::value_error("size must be > 0, got " + std::to_string(size));
    py::array_t<float> landmarks({n, k, (py::ssize_t)2}), crop({n, k, (py::ssize_t)2});
    py::array_t<float> pose({n, (py::ssize_t)3}), score(n);
    std::copy(lm_crop.data(), lm_crop.data() + lm_crop.size(), crop.mutable_data());
    atpn::cpu::postprocess(lm_crop.data(), pose_crop.data(), logit.data(), affines.data(), (int)n,
                           (int)k, size, landmarks.mutable_data(), pose.mutable_data(),
                           score.mutable_data());
    return py::make_tuple(landmarks, crop, pose, score);
}

py::array_t<double> to_array(const std::vector<double>& v, std::vector<py::ssize_t> shape) {
    py::array_t<double> out(shape);
    std::copy(v.begin(), v.end(), out.mutable_data());
    return out;
}

// Returns (boxes f64[M, 4], keypoints f64[M, 6, 2], scores f64[M]) of the anchors that pass.
// The GIL stays held: the work is a few microseconds, less than handing the GIL over twice.
py::tuple blazeface_decode(f32_in regressors, f32_in logits, f32_in anchors, int input_size,
                           double threshold, double scale, std::array<double, 2> offset,
                           std::array<double, 2> shift) {
    if (anchors.ndim() != 2 || anchors.shape(1) != 2)
        throw py::value_error("anchors must have shape (N, 2), got " + shape_str(anchors));
    const py::ssize_t n = anchors.shape(0);
    if (regressors.ndim() != 2 || regressors.shape(0) != n || regressors.shape(1) < 16)
        throw py::value_error("regressors must have shape (" + std::to_string(n) + ", >= 16), got " +
                              shape_str(regressors));
    if (logits.size() != n)
        throw py::value_error("logits must hold one value per anchor (" + std::to_string(n) + "), got " +
                              shape_str(logits));
    if (input_size <= 0) throw py::value_error("input_size must be > 0");
    if (!(scale > 0.0) || !std::isfinite(scale)) throw py::value_error("scale must be finite and > 0");
    std::vector<double> boxes, keypoints, scores;
    atpn::cpu::decode_blazeface(regressors.data(), (int)regressors.shape(1), logits.data(), anchors.data(),
                                (int)n, input_size, threshold, scale, offset[0], offset[1], shift[0],
                                shift[1], boxes, keypoints, scores);
    const py::ssize_t m = (py::ssize_t)scores.size();
    return py::make_tuple(to_array(boxes, {m, 4}), to_array(keypoints, {m, 6, 2}), to_array(scores, {m}));
}

// Returns (boxes f64[M, 4], scores f64[M], keypoints f64[M, K, 2] or None), best first.
py::tuple weighted_nms(f64_in boxes, f64_in scores, double iou, py::object keypoints) {
    if (boxes.ndim() != 2 || boxes.shape(1) != 4)
        throw py::value_error("boxes must have shape (N, 4), got " + shape_str(boxes));
    const py::ssize_t n = boxes.shape(0);
    if (scores.ndim() != 1 || scores.shape(0) != n)
        throw py::value_error(std::to_string(n) + " boxes but scores of shape " + shape_str(scores));
    f64_in kps;
    py::ssize_t k = 0;
    if (!keypoints.is_none()) {
        kps = keypoints.cast<f64_in>();
        if (kps.ndim() != 3 || kps.shape(0) != n || kps.shape(2) != 2)
            throw py::value_error("keypoints must have shape (" + std::to_string(n) + ", K, 2), got " + shape_str(kps));
        k = kps.shape(1);
    }
    std::vector<double> out_boxes, out_scores, out_kps;
    atpn::cpu::weighted_nms(boxes.data(), scores.data(), k ? kps.data() : nullptr, (int)n, (int)k, iou,
                            out_boxes, out_scores, out_kps);
    const py::ssize_t m = (py::ssize_t)out_scores.size();
    py::object kp_out = py::none();
    if (!keypoints.is_none()) kp_out = to_array(out_kps, {m, k, 2});
    return py::make_tuple(to_array(out_boxes, {m, 4}), to_array(out_scores, {m}), kp_out);
}

}  // namespace

PYBIND11_MODULE(_cpu, m) {
    m.doc() = "CPU kernels of atpn-edge (use atpn_edge.kernels, which validates and converts).";
    m.def("warp_crop_batch", &warp_crop_batch, py::arg("frame"), py::arg("affines"),
          py::arg("size"), py::arg("mean"), py::arg("std"), py::arg("out"),
          py::arg("simd") = "auto",
          "Crop N faces: frame u8[H,W,3], affines f64[N,2,3] (frame->crop), out f32[N,3,S,S]. "
          "simd: 'auto' (best), or a level from warp_simd_levels() (tests compare them).");
    m.def("render_heatmap", &render_heatmap, py::arg("landmarks"), py::arg("sigma"),
          py::arg("out"), py::arg("nonfinite") = "raise",
          "Max-of-Gaussians heatmaps: landmarks f32[N,K,2] -> out f32[N,1,H,W]. nonfinite: "
          "'raise' (ValueError) or 'skip' (such a landmark draws nothing, as on the GPU).");
    m.def("letterbox_area", &letterbox_area, py::arg("frame"), py::arg("out_w"), py::arg("out_h"),
          py::arg("x0"), py::arg("y0"), py::arg("mean"), py::arg("std"), py::arg("out"),
          "Area-averaged shrink of a BGR u8 frame [H,W,3] to out_w x out_h, written at (x0, y0) "
          "into out f32[1,3,S,S] as normalised RGB planes; the border is a black pixel's value.");
    m.def("heatmap_scratch_bytes", [] { return atpn::cpu::heatmap_scratch_bytes(); },
          "Bytes of heatmap scratch the calling thread keeps between calls.");
    m.attr("MAX_HEATMAP_SIDE") = atpn::kMaxHeatmapSide;
    m.def("blazeface_decode", &blazeface_decode, py::arg("regressors"), py::arg("logits"), py::arg("anchors"),
          py::arg("input_size"), py::arg("threshold"), py::arg("scale"), py::arg("offset"), py::arg("shift"),
          "BlazeFace anchors whose sigmoid score passes -> (boxes f64[M,4], keypoints f64[M,6,2], scores "
          "f64[M]), points mapped by (p - offset) / scale + shift.");
    m.def("weighted_nms", &weighted_nms, py::arg("boxes"), py::arg("scores"), py::arg("iou"),
          py::arg("keypoints") = py::none(),
          "MediaPipe's weighted NMS -> (boxes f64[M,4], scores f64[M], keypoints f64[M,K,2] or None).");
    m.def("postprocess", &postprocess, py::arg("landmarks_crop"), py::arg("pose_crop"),
          py::arg("face_logit"), py::arg("affines"), py::arg("size"),
          "Network outputs of N faces -> (landmarks f32[N,K,2] frame pixels, a copy of "
          "landmarks_crop, pose f32[N,3] frame axes, score f32[N]); affines f64[N,2,3] must be "
          "invertible (the crop kernel checked them).");
    m.def("warp_simd_level",
          [] { return atpn::cpu::warp_level_name(atpn::cpu::warp_best_level()); },
          "Instruction set the warp kernel uses on this CPU: 'avx512', 'avx2', 'neon' or "
          "'scalar'.");
    m.def("warp_simd_levels", [] {
        std::vector<std::string> names;
        for (atpn::cpu::WarpLevel l : kLevels)
            if (atpn::cpu::warp_level_supported(l)) names.push_back(atpn::cpu::warp_level_name(l));
        return names;
    }, "Every warp instruction set this CPU can run, scalar first.");
    m.def("heat_1d", [](int i, float l, int size, float sigma) {
        const float inv = (float)(1.0 / (2.0 * (double)sigma * sigma));
        return atpn::gauss_1d(i, atpn::heat_centre(l, size), inv, atpn::kHeatCutoffSigmas * sigma);
    }, "One axis of the per-pixel heatmap function both kernels share, for landmark coordinate l "
       "(crop-normalised) at pixel i of a side of `size` (exposed so tests can check NaN handling).");
    m.def("exp_neg", [](float x) { return atpn::exp_neg(x); },
          "The kernels' exp for x <= 0 (exposed so tests can check its accuracy).");
}
