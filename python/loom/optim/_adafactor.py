"""torch.optim.Adafactor: Adam's second moment factored into row and column statistics for matrices (the
last two dimensions), kept whole for vectors; a step size relative to the parameter's RMS, and the update
clipped to RMS d."""
import math

from .. import _C


def make_adafactor(_PythonOptimizer, _zeros_like):
    class Adafactor(_PythonOptimizer):
        """torch.optim.Adafactor (lr, beta2_decay, eps = (eps1, eps2), d, weight_decay, maximize)."""

        def __init__(self, params, lr=1e-2, beta2_decay=-0.8, eps=(None, 1e-3), d=1.0, weight_decay=0.0, *,
                     foreach=None, maximize=False):
            if not 0.0 <= lr:
                raise ValueError(f"Learning rate should be >= 0 but is: {lr}")
            if not 0.0 >= beta2_decay:
                raise ValueError(f"beta2_decay should be <= 0 but is: {beta2_decay}")
            if eps[0] is not None and not 0.0 <= eps[0]:
                raise ValueError(f"epsilon1 should be >= 0 but is: {eps[0]}")
            if not 0.0 <= eps[1]:
                raise ValueError(f"epsilon2 should be >= 0 but is: {eps[1]}")
            if not 1.0 <= d:
                raise ValueError(f"Clipping threshold d should be >= 1 but is: {d}")
            if not 0.0 <= weight_decay:
                raise ValueError(f"weight_decay should be >= 0 but is: {weight_decay}")
            super().__init__(params, dict(lr=lr, beta2_decay=beta2_decay, eps=tuple(eps), d=d,
                                          weight_decay=weight_decay, foreach=foreach, maximize=maximize))

        def _init_state(self, p, group):
            from .._factories import zeros
            if p.dim() > 1:
                row, col = list(p.shape), list(p.shape)
                row[-1] = 1
                col[-2] = 1
                return {"row_var": zeros(row, dtype=p.dtype, device=p.device),
                        "col_var": zeros(col, dtype=p.dtype, device=p.device)}
            return {"variance": _zeros_like(p)}

        def _update(self, p, grad, state, group, step):
            lr, d = group["lr"], group["d"]
            eps1, eps2 = group["eps"]
            if eps1 is None:
                eps1 = 1.1920928955078125e-07 if p.dtype == _C.float32 else 2.220446049250313e-16
            weight = step ** group["beta2_decay"]  # the moving averages' weight of the new statistics
            rho = min(lr, 1 / math.sqrt(step))
            alpha = max(eps2, float(p.norm()) / math.sqrt(p.numel())) * rho
            if group["weight_decay"] != 0:
                p.mul_(1 - lr * group["weight_decay"])
            if grad.dim() > 1:
                row_mean = (grad * grad).mean(-1, keepdim=True)
                col_mean = (grad * grad).mean(-2, keepdim=True)
                state["row_var"].lerp_(row_mean, weight)
                state["col_var"].lerp_(col_mean, weight)
                var = state["row_var"].matmul(state["col_var"])
                var = var / state["row_var"].mean(-2, keepdim=True).clamp_min(eps1)
            else:
                state["variance"].lerp_(grad * grad, weight)
                var = state["variance"]
            update = var.clamp_min(eps1 * eps1).rsqrt() * grad
            denom = max(1.0, float(update.norm()) / (math.sqrt(update.numel()) * d))
            p.sub_(update * (alpha / denom))

    return Adafactor
