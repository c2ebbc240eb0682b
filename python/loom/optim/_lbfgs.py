"""torch.optim.LBFGS and ASGD, written with loom's tensor ops.

LBFGS keeps the parameters as one flat vector view of their gradients: each step() runs up to max_iter
iterations of the two-loop recursion over the last history_size curvature pairs, with a fixed step (lr)
or a strong-Wolfe line search (cubic interpolation, then zoom), calling the closure for every function
value. The scalars it compares (directional derivatives, losses) are read on the host, as PyTorch's
comparisons of 0-d tensors do.
"""
import math

from .. import _C
from ..autograd.grad_mode import enable_grad, no_grad


def _cubic_interpolate(x1, f1, g1, x2, f2, g2, bounds=None):
    """The minimizer of the cubic through (x1, f1) and (x2, f2) with slopes g1, g2, clamped to bounds (the
    bracket by default); the middle of the bounds when the cubic has no minimum."""
    lo, hi = bounds if bounds is not None else ((x1, x2) if x1 <= x2 else (x2, x1))
    d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
    d2_square = d1 * d1 - g1 * g2
    if d2_square >= 0:
        d2 = math.sqrt(d2_square)
        if x1 <= x2:
            pos = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
        else:
            pos = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2))
        return min(max(pos, lo), hi)
    return (lo + hi) / 2.0


def _strong_wolfe(obj_func, x, t, d, f, g, gtd, c1=1e-4, c2=0.9, tolerance_change=1e-9, max_ls=25):
    """A step t along d meeting the strong Wolfe conditions: a bracketing phase, then zoom.
    obj_func(x, t, d) -> (loss, flat gradient) at x + t d. Returns (loss, gradient, t, evaluations)."""
    d_norm = float(d.abs().max())
    g = g.clone()
    f_new, g_new = obj_func(x, t, d)
    evals = 1
    gtd_new = float(g_new.dot(d))
    t_prev, f_prev, g_prev, gtd_prev = 0.0, f, g, gtd
    done = False
    ls_iter = 0
    bracket = bracket_f = bracket_g = bracket_gtd = None
    while ls_iter < max_ls:
        if f_new > (f + c1 * t * gtd) or (ls_iter > 1 and f_new >= f_prev):
            bracket, bracket_f = [t_prev, t], [f_prev, f_new]
            bracket_g, bracket_gtd = [g_prev, g_new.clone()], [gtd_prev, gtd_new]
            break
        if abs(gtd_new) <= -c2 * gtd:
            bracket, bracket_f, bracket_g = [t], [f_new], [g_new]
            done = True
            break
        if gtd_new >= 0:
            bracket, bracket_f = [t_prev, t], [f_prev, f_new]
            bracket_g, bracket_gtd = [g_prev, g_new.clone()], [gtd_prev, gtd_new]
            break
        min_step = t + 0.01 * (t - t_prev)
        max_step = t * 10
        tmp = t
        t = _cubic_interpolate(t_prev, f_prev, gtd_prev, t, f_new, gtd_new, bounds=(min_step, max_step))
        t_prev, f_prev, g_prev, gtd_prev = tmp, f_new, g_new.clone(), gtd_new
        f_new, g_new = obj_func(x, t, d)
        evals += 1
        gtd_new = float(g_new.dot(d))
        ls_iter += 1
    if ls_iter == max_ls:
        bracket, bracket_f, bracket_g = [0.0, t], [f, f_new], [g, g_new]

    insuf_progress = False
    low, high = (0, 1) if bracket_f[0] <= bracket_f[-1] else (1, 0)
    while not done and ls_iter < max_ls:
        if abs(bracket[1] - bracket[0]) * d_norm < tolerance_change:
            break
        t = _cubic_interpolate(bracket[0], bracket_f[0], bracket_gtd[0], bracket[1], bracket_f[1], bracket_gtd[1])
        # keep t away from the bracket's ends: progress must be made
        eps = 0.1 * (max(bracket) - min(bracket))
        if min(max(bracket) - t, t - min(bracket)) < eps:
            if insuf_progress or t >= max(bracket) or t <= min(bracket):
                t = max(bracket) - eps if abs(t - max(bracket)) < abs(t - min(bracket)) else min(bracket) + eps
                insuf_progress = False
            else:
                insuf_progress = True
        else:
            insuf_progress = False
        f_new, g_new = obj_func(x, t, d)
        evals += 1
        gtd_new = float(g_new.dot(d))
        ls_iter += 1
        if f_new > (f + c1 * t * gtd) or f_new >= bracket_f[low]:
            bracket[high], bracket_f[high], bracket_g[high], bracket_gtd[high] = t, f_new, g_new.clone(), gtd_new
            low, high = (0, 1) if bracket_f[0] <= bracket_f[1] else (1, 0)
        else:
            if abs(gtd_new) <= -c2 * gtd:
                done = True
            elif gtd_new * (bracket[high] - bracket[low]) >= 0:
                bracket[high], bracket_f[high] = bracket[low], bracket_f[low]
                bracket_g[high], bracket_gtd[high] = bracket_g[low], bracket_gtd[low]
            bracket[low], bracket_f[low], bracket_g[low], bracket_gtd[low] = t, f_new, g_new.clone(), gtd_new
    return bracket_f[low], bracket_g[low], bracket[low], evals


def make_lbfgs(Optimizer):
    class LBFGS(Optimizer):
        """torch.optim.LBFGS: limited-memory BFGS on all parameters as one vector; step(closure) needs a
        closure that clears the gradients, computes the loss, calls backward and returns the loss. One
        parameter group only."""

        def __init__(self, params, lr=1, max_iter=20, max_eval=None, tolerance_grad=1e-7, tolerance_change=1e-9,
                     history_size=100, line_search_fn=None):
            if lr < 0.0:
                raise ValueError(f"Invalid learning rate: {lr}")
            if max_eval is None:
                max_eval = max_iter * 5 // 4
            if line_search_fn not in (None, "strong_wolfe"):
                raise RuntimeError("only 'strong_wolfe' is supported")
            super().__init__(params, dict(lr=lr, max_iter=max_iter, max_eval=max_eval,
                                          tolerance_grad=tolerance_grad, tolerance_change=tolerance_change,
                                          history_size=history_size, line_search_fn=line_search_fn))
            if len(self.param_groups) != 1:
                raise ValueError("LBFGS doesn't support per-parameter options (parameter groups)")
            self._params = self.param_groups[0]["params"]

        def _flat_grad(self):
            from .._factories import zeros
            views = [zeros(p.numel(), dtype=p.dtype, device=p.device) if p.grad is None else p.grad.reshape(-1)
                     for p in self._params]
            return _C.cat(views, 0)

        def _add_grad(self, step, direction):
            offset = 0
            for p in self._params:
                n = p.numel()
                p.add_(direction.narrow(0, offset, n).view_as(p) * step)
                offset += n

        def _directional_evaluate(self, closure, x, t, d):
            self._add_grad(t, d)
            with enable_grad():
                loss = float(closure())
            flat_grad = self._flat_grad()
            for p, v in zip(self._params, x):
                p.copy_(v)
            return loss, flat_grad

        def step(self, closure):
            if closure is None:
                raise RuntimeError("LBFGS.step() requires a closure that reevaluates the model and returns the loss")
            with no_grad():
                return self._step(closure)

        def _step(self, closure):
            group = self.param_groups[0]
            lr, max_iter, max_eval = group["lr"], group["max_iter"], group["max_eval"]
            tolerance_grad, tolerance_change = group["tolerance_grad"], group["tolerance_change"]
            history_size, line_search_fn = group["history_size"], group["line_search_fn"]
            state = self.state[self._params[0]]
            state.setdefault("func_evals", 0)
            state.setdefault("n_iter", 0)

            with enable_grad():
                orig_loss = closure()
            loss = float(orig_loss)
            current_evals = 1
            state["func_evals"] += 1
            flat_grad = self._flat_grad()
            if float(flat_grad.abs().max()) <= tolerance_grad:
                return orig_loss

            d, t = state.get("d"), state.get("t")
            old_dirs, old_stps, ro = state.get("old_dirs"), state.get("old_stps"), state.get("ro")
            H_diag = state.get("H_diag")
            prev_flat_grad, prev_loss = state.get("prev_flat_grad"), state.get("prev_loss")

            n_iter = 0
            while n_iter < max_iter:
                n_iter += 1
                state["n_iter"] += 1
                if state["n_iter"] == 1:
                    d = flat_grad.neg()
                    old_dirs, old_stps, ro = [], [], []
                    H_diag = 1.0
                else:
                    y = flat_grad - prev_flat_grad
                    s = d * t
                    ys = float(y.dot(s))
                    if ys > 1e-10:  # a pair with positive curvature joins the history
                        if len(old_dirs) == history_size:
                            old_dirs.pop(0)
                            old_stps.pop(0)
                            ro.pop(0)
                        old_dirs.append(y)
                        old_stps.append(s)
                        ro.append(1.0 / ys)
                        H_diag = ys / float(y.dot(y))
                    # two-loop recursion: d = -H g
                    al = [0.0] * len(old_dirs)
                    q = flat_grad.neg()
                    for i in range(len(old_dirs) - 1, -1, -1):
                        al[i] = float(old_stps[i].dot(q)) * ro[i]
                        q = q - old_dirs[i] * al[i]
                    d = r = q * H_diag
                    for i in range(len(old_dirs)):
                        be_i = float(old_dirs[i].dot(r)) * ro[i]
                        r = r + old_stps[i] * (al[i] - be_i)
                    d = r
                prev_flat_grad = flat_grad.clone()
                prev_loss = loss
                t = min(1.0, 1.0 / float(flat_grad.abs().sum())) * lr if state["n_iter"] == 1 else lr
                gtd = float(flat_grad.dot(d))
                if gtd > -tolerance_change:  # not a descent direction
                    break

                ls_func_evals = 0
                if line_search_fn is not None:
                    x_init = [p.clone() for p in self._params]

                    def obj_func(x, t, d):
                        return self._directional_evaluate(closure, x, t, d)

                    loss, flat_grad, t, ls_func_evals = _strong_wolfe(obj_func, x_init, t, d, loss, flat_grad, gtd)
                    self._add_grad(t, d)
                    opt_cond = float(flat_grad.abs().max()) <= tolerance_grad
                else:
                    self._add_grad(t, d)
                    opt_cond = False
                    if n_iter != max_iter:  # the loss at the new point, unless this was the last iteration
                        with enable_grad():
                            loss = float(closure())
                        flat_grad = self._flat_grad()
                        opt_cond = float(flat_grad.abs().max()) <= tolerance_grad
                        ls_func_evals = 1
                current_evals += ls_func_evals
                state["func_evals"] += ls_func_evals

                if n_iter == max_iter or current_evals >= max_eval or opt_cond:
                    break
                if float((d * t).abs().max()) <= tolerance_change:
                    break
                if abs(loss - prev_loss) < tolerance_change:
                    break

            state.update(d=d, t=t, old_dirs=old_dirs, old_stps=old_stps, ro=ro, H_diag=H_diag,
                         prev_flat_grad=prev_flat_grad, prev_loss=prev_loss)
            return orig_loss

    return LBFGS


def make_asgd(_PythonOptimizer, _check, _zeros_like):
    class ASGD(_PythonOptimizer):
        """torch.optim.ASGD: SGD with a decaying step eta = lr / (1 + lambd lr step)^alpha and a running
        average ax of the iterates (from step t0 on; state["ax"])."""

        def __init__(self, params, lr=1e-2, lambd=1e-4, alpha=0.75, t0=1e6, weight_decay=0, foreach=None,
                     maximize=False, differentiable=False, capturable=False):
            _check("learning rate", lr)
            _check("weight_decay value", weight_decay)
            super().__init__(params, dict(lr=lr, lambd=lambd, alpha=alpha, t0=t0, weight_decay=weight_decay,
                                          foreach=foreach, maximize=maximize, differentiable=differentiable,
                                          capturable=capturable))

        def _init_state(self, p, group):
            from .._factories import tensor
            return {"eta": tensor(float(group["lr"]), dtype=_C.float64), "mu": tensor(1.0, dtype=_C.float64),
                    "ax": _zeros_like(p)}

        def _update(self, p, grad, state, group, step):
            if group["weight_decay"] != 0:
                grad = grad + p * group["weight_decay"]
            eta = float(state["eta"])
            mu = float(state["mu"])
            p.mul_(1 - group["lambd"] * eta)
            p.sub_(grad * eta)
            if mu != 1:
                state["ax"].add_((p - state["ax"]) * mu)
            else:
                state["ax"].copy_(p)
            state["eta"].fill_(group["lr"] / ((1 + group["lambd"] * group["lr"] * step) ** group["alpha"]))
            state["mu"].fill_(1 / max(1, step - group["t0"]))

    return ASGD
