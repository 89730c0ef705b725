// Postprocessing of the network outputs for N faces, on the host: crop-normalised landmarks back
// to frame pixels, the pose from crop axes to frame axes, the face logit to a score.
#pragma once

namespace atpn::cpu {

// lm_crop f32 [n, k, 2] (0..1 spans the crop), pose_crop f32 [n, 3] (yaw, pitch, roll degrees,
// crop axes), logit f32 [n], affines f64 [n, 2, 3] (frame -> crop pixels, invertible), size the
// crop side. Writes landmarks f32 [n, k, 2] (frame pixels, frame = M^-1 (size * l - 0.5 - t)),
// pose f32 [n, 3] (frame axes) and score f32 [n] (sigmoid). All math in double.
void postprocess(const float* lm_crop, const float* pose_crop, const float* logit,
                 const double* affines, int n, int k, int size, float* landmarks, float* pose,
                 float* score);

}  // namespace atpn::cpu
