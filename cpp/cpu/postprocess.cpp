// One native call for what follows the network (it was ~50 us of numpy per frame, 7 % of the
// CPU step). The pose part is atpn_edge.core.pose's convention written out element by element
// (R = Rx(pitch) Ry(-yaw) Rz(roll); the frame's rotation is Rz(angle) R, angle = the crop's x
// axis in the frame); tests/test_runtime_postprocess.py pins it to that module.
#include "atpn/postprocess.h"

#include <cmath>

namespace atpn::cpu {
namespace {

constexpr double kDeg = 3.14159265358979323846 / 180.0;

void pose_to_frame(const float* in, double angle, float* out) {
    if (angle == 0.0) {
        for (int i = 0; i < 3; ++i) out[i] = in[i];
        return;
    }
    const double y = in[0] * kDeg, p = in[1] * kDeg, r = in[2] * kDeg;
    const double cy = std::cos(y), sy = std::sin(y), cp = std::cos(p), sp = std::sin(p);
    const double cr = std::cos(r), sr = std::sin(r);
    // Rows a, b, c of R (c0 is not needed).
    const double a0 = cy * cr, a1 = -cy * sr, a2 = -sy;
    const double b0 = -sp * sy * cr + cp * sr, b1 = sp * sy * sr + cp * cr, b2 = -sp * cy;
    const double c1 = -cp * sy * sr + sp * cr, c2 = cp * cy;
    // Rz(angle) R mixes rows a and b only.
    const double ca = std::cos(angle), sa = std::sin(angle);
    const double m00 = ca * a0 - sa * b0, m01 = ca * a1 - sa * b1, m02 = ca * a2 - sa * b2;
    const double m11 = sa * a1 + ca * b1, m12 = sa * a2 + ca * b2;
    // matrix_to_euler, including its gimbal-lock branch.
    const double yaw = -std::asin(std::fmax(-1.0, std::fmin(1.0, m02)));
    double pitch, roll;
    if (std::fabs(m02) < 1.0 - 1e-9) {
        pitch = std::atan2(-m12, c2);
        roll = std::atan2(-m01, m00);
    } else {
        pitch = std::atan2(c1, m11);
        roll = 0.0;
    }
    out[0] = (float)(yaw / kDeg);
    out[1] = (float)(pitch / kDeg);
    out[2] = (float)(roll / kDeg);
}

}  // namespace

void postprocess(const float* lm_crop, const float* pose_crop, const float* logit,
                 const double* affines, int n, int k, int size, float* landmarks, float* pose,
                 float* score) {
    for (int f = 0; f < n; ++f) {
        const double* a = affines + 6 * f;
        const double det = a[0] * a[4] - a[1] * a[3];
        const double i00 = a[4] / det, i01 = -a[1] / det, i10 = -a[3] / det, i11 = a[0] / det;
        const float* src = lm_crop + (long long)f * k * 2;
        float* dst = landmarks + (long long)f * k * 2;
        for (int j = 0; j < k; ++j) {
            const double u = (double)src[2 * j] * size - 0.5 - a[2];
            const double v = (double)src[2 * j + 1] * size - 0.5 - a[5];
            dst[2 * j] = (float)(i00 * u + i01 * v);
            dst[2 * j + 1] = (float)(i10 * u + i11 * v);
        }
        pose_to_frame(pose_crop + 3 * f, std::atan2(a[1], a[0]), pose + 3 * f);
        score[f] = (float)(1.0 / (1.0 + std::exp(-(double)logit[f])));
    }
}

}  // namespace atpn::cpu
