// Host-side checks and inversion of the crop affine, shared by both Python modules.
#pragma once

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

namespace atpn {

// Inverts a frame->crop affine (row-major 2x3, double) into the crop->frame map the kernels
// sample with. Throws std::invalid_argument for non-finite or (numerically) singular input, so a
// bad affine becomes a ValueError instead of a garbage crop.
inline void invert_affine(const double* a, float* inv, long long index) {
    for (int i = 0; i < 6; ++i) {
        if (!std::isfinite(a[i]))
            throw std::invalid_argument("affine " + std::to_string(index) +
                                        " contains NaN or inf");
    }
    double det = a[0] * a[4] - a[1] * a[3];
    double mag = std::max(std::max(std::fabs(a[0]), std::fabs(a[1])),
                          std::max(std::fabs(a[3]), std::fabs(a[4])));
    // Relative test: the determinant of a scaled rotation is scale^2, so this only rejects
    // matrices whose two rows are parallel to working precision.
    if (!(std::fabs(det) > 1e-12 * mag * mag))
        throw std::invalid_argument("affine " + std::to_string(index) +
                                    " is singular (its 2x2 part has determinant " +
                                    std::to_string(det) + ")");
    double i0 = a[4] / det, i1 = -a[1] / det, i3 = -a[3] / det, i4 = a[0] / det;
    double m[6] = {i0, i1, -(i0 * a[2] + i1 * a[5]), i3, i4, -(i3 * a[2] + i4 * a[5])};
    for (int i = 0; i < 6; ++i) {
        inv[i] = static_cast<float>(m[i]);
        if (!std::isfinite(inv[i]))
            throw std::invalid_argument("affine " + std::to_string(index) +
                                        " is too extreme: its inverse overflows float32");
    }
}

}  // namespace atpn
