"""torch.optim.Muon: momentum for 2-D parameters, the update orthogonalized by a quintic Newton-Schulz
iteration (roughly U V^T of the momentum's SVD), scaled for the matrix's shape; decoupled weight decay.
PyTorch runs the iteration in bfloat16; loom, which has no bfloat16 yet, in the parameter's dtype."""
import math

from .. import _C

_ADJUST = (None, "original", "match_rms_adamw", "spectral_unclamped")


def zeropower_via_newtonschulz(g, coefficients, steps, eps):
    """X <- a X + (b A + c A^2) X with A = X X^T, from X = G / ||G|| (of the wide orientation)."""
    if steps >= 100:
        raise ValueError("Number of steps must be less than 100 for computational efficiency")
    if g.dim() != 2:
        raise ValueError("Input tensor gradient must be a 2D matrix")
    if len(coefficients) != 3:
        raise ValueError("Coefficients must be a tuple of exactly 3 values")
    a, b, c = coefficients
    tall = g.shape[0] > g.shape[1]
    x = g.t() if tall else g
    x = x / x.norm().clamp(min=eps)
    for _ in range(steps):
        gram = x.matmul(x.t())
        x = a * x + (b * gram + c * gram.matmul(gram)).matmul(x)
    return x.t() if tall else x


def adjusted_lr(lr, fn, shape):
    A, B = shape[:2]
    if fn is None or fn == "original":
        return lr * math.sqrt(max(1, A / B))
    if fn == "match_rms_adamw":
        return lr * 0.2 * math.sqrt(max(A, B))
    if fn == "spectral_unclamped":
        return lr * math.sqrt(A / B)
    return lr


def make_muon(Optimizer, no_grad, zeros_like):
    class Muon(Optimizer):
        """torch.optim.Muon (lr, weight_decay, momentum, nesterov, ns_coefficients, eps, ns_steps,
        adjust_lr_fn) for 2-D parameters; state: momentum_buffer."""

        def __init__(self, params, lr=1e-3, weight_decay=0.1, momentum=0.95, nesterov=True,
                     ns_coefficients=(3.4445, -4.7750, 2.0315), eps=1e-7, ns_steps=5, adjust_lr_fn=None):
            if not 0.0 <= lr:
                raise ValueError(f"Learning rate should be >= 0 but is: {lr}")
            if not 0.0 <= momentum:
                raise ValueError(f"momentum should be >= 0 but is: {momentum}")
            if not 0.0 <= weight_decay:
                raise ValueError(f"weight decay should be >= 0 but is: {weight_decay}")
            if adjust_lr_fn not in _ADJUST:
                raise ValueError(f"Adjust learning rate function {adjust_lr_fn} is not supported")
            super().__init__(params, dict(lr=lr, weight_decay=weight_decay, momentum=momentum, nesterov=nesterov,
                                          ns_coefficients=tuple(ns_coefficients), eps=eps, ns_steps=ns_steps,
                                          adjust_lr_fn=adjust_lr_fn))
            for group in self.param_groups:
                for p in group["params"]:
                    if p.dim() != 2:
                        raise ValueError(f"Muon only supports 2D parameters whereas we found a parameter with size: "
                                         f"{list(p.shape)}")

        def step(self, closure=None):
            loss = self._closure(closure)
            with no_grad():
                for group in self.param_groups:
                    lr, wd, mu = group["lr"], group["weight_decay"], group["momentum"]
                    for p in group["params"]:
                        if p.grad is None:
                            continue
                        grad = p.grad
                        if grad.dim() != 2:
                            raise ValueError("Param gradient must be a 2D matrix")
                        state = self.state[p]
                        if "momentum_buffer" not in state:
                            state["momentum_buffer"] = zeros_like(grad)
                        buf = state["momentum_buffer"]
                        buf.lerp_(grad, 1 - mu)
                        update = grad.lerp(buf, mu) if group["nesterov"] else buf
                        update = zeropower_via_newtonschulz(update, group["ns_coefficients"], group["ns_steps"],
                                                            group["eps"])
                        p.mul_(1 - lr * wd)
                        p.sub_(update * adjusted_lr(lr, group["adjust_lr_fn"], list(p.shape)))
            return loss

    return Muon
