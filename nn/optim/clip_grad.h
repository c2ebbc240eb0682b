// torch.nn.utils.clip_grad_norm_ / clip_grad_value_.
#pragma once
#include <limits>

#include "core/tensor.h"

namespace loom::nn::utils {

// Scales the gradients of params in place so that their joint norm (the
// norm_type-norm of the vector of per-gradient norms; inf: the largest
// absolute value) is at most max_norm. Returns the total norm before
// clipping as a 0-d tensor on the gradients' device, in float32 or the
// gradients' floating dtype when all share it. No host synchronization: the
// scale factor min(1, max_norm / (total + 1e-6)) stays a device tensor.
// Parameters without a gradient are skipped; none at all returns 0.
// error_if_nonfinite raises when the total norm is nan or inf (this one
// check synchronizes).
Tensor clip_grad_norm_(const TensorList& params, double max_norm, double norm_type = 2.0,
                       bool error_if_nonfinite = false);

// Clamps every gradient to [-clip_value, clip_value] in place.
void clip_grad_value_(const TensorList& params, double clip_value);

}  // namespace loom::nn::utils
