// torch.nn.init: in-place initialisers (no autograd), PyTorch's formulas.
#pragma once
#include <string>
#include <utility>

#include "core/tensor.h"

namespace loom::nn::init {

// Gain for "linear", "conv1d", "conv2d", "sigmoid", "tanh", "relu", "leaky_relu" (param = slope, default 0.01),
// "selu".
double calculate_gain(const std::string& nonlinearity, double param = -1.0);
// {fan_in, fan_out}: dim 1 and dim 0 times the receptive field (numel of dims >= 2); needs dim >= 2.
std::pair<int64_t, int64_t> calculate_fan_in_and_fan_out(const Tensor& t);

Tensor& uniform_(Tensor& t, double a = 0.0, double b = 1.0);
Tensor& normal_(Tensor& t, double mean = 0.0, double std = 1.0);
Tensor& trunc_normal_(Tensor& t, double mean = 0.0, double std = 1.0, double a = -2.0, double b = 2.0);
Tensor& constant_(Tensor& t, double value);
Tensor& zeros_(Tensor& t);
Tensor& ones_(Tensor& t);
Tensor& xavier_uniform_(Tensor& t, double gain = 1.0);
Tensor& xavier_normal_(Tensor& t, double gain = 1.0);
// mode "fan_in" | "fan_out"; nonlinearity as calculate_gain (a = negative slope of leaky_relu).
Tensor& kaiming_uniform_(Tensor& t, double a = 0.0, const std::string& mode = "fan_in",
                         const std::string& nonlinearity = "leaky_relu");
Tensor& kaiming_normal_(Tensor& t, double a = 0.0, const std::string& mode = "fan_in",
                        const std::string& nonlinearity = "leaky_relu");
// (Semi-)orthogonal matrix of the flattened [size(0), numel/size(0)] shape (Gram-Schmidt on the CPU).
Tensor& orthogonal_(Tensor& t, double gain = 1.0);

}  // namespace loom::nn::init
