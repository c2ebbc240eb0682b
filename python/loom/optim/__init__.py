"""loom.optim: PyTorch's optimizers (torch.optim) with loom's C++ updates.

Each optimizer keeps ``param_groups`` as a list of dicts (changing
``opt.param_groups[0]["lr"]`` takes effect at the next step) and per-parameter
``state`` dicts; ``state_dict()`` / ``load_state_dict()`` use PyTorch's
structure: ``{"state": {index: {...}}, "param_groups": [{..., "params": [index, ...]}]}``.
``step()`` hands each group to the C++ step function of its optimizer
(``loom._C._functional._optim.sgd_step`` / ``adam_step`` / ``rmsprop_step``,
the code loom::optim's C++ classes run): the update, the step counts and the
creation of state buffers are written once, in nn/optim. Adagrad, Adadelta,
Adamax, NAdam, RAdam, Rprop, ASGD and Adafactor are written in Python (PyTorch's single-tensor
formulas, one parameter at a time, ``_PythonOptimizer``); LBFGS (with its strong-Wolfe line search) in
``_lbfgs.py``, Muon (Newton-Schulz orthogonalized momentum for matrices) in ``_muon.py``. Subclass
``Optimizer`` to write an optimizer in Python with PyTorch's semantics.
The C++ classes (loom::optim::SGD ...) are bound as ``loom._C._functional._optim`` too.
"""
from collections import defaultdict
import copy

from .. import _C
from ..autograd.grad_mode import no_grad, enable_grad
from . import lr_scheduler  # noqa: F401

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "Adamax", "NAdam", "RAdam",
           "Rprop", "lr_scheduler", "swa_utils", "LBFGS", "ASGD", "Adafactor", "Muon"]

_Tensor = _C.Tensor
_O = _C._functional._optim  # the step functions of nn/optim


class _RequiredParameter:
    def __repr__(self):
        return "<required parameter>"


required = _RequiredParameter()


class Optimizer:
    """Base class: parameter groups, per-parameter state, zero_grad, state dicts."""

    def __init__(self, params, defaults):
        self.defaults = defaults
        self.state = defaultdict(dict)
        self.param_groups = []
        if isinstance(params, _Tensor):
            raise TypeError("params argument given to the optimizer should be an iterable of Tensors or dicts, "
                            "but got " + type(params).__name__)
        param_groups = list(params)
        if len(param_groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]
        for group in param_groups:
            self.add_param_group(group)

    def __getstate__(self):
        return {"defaults": self.defaults, "state": self.state, "param_groups": self.param_groups}

    def __repr__(self):
        lines = [self.__class__.__name__ + " ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for key in sorted(group):
                if key != "params":
                    lines.append(f"    {key}: {group[key]}")
        lines.append(")")
        return "\n".join(lines)

    def add_param_group(self, param_group):
        if not isinstance(param_group, dict):
            raise TypeError("param_group must be a dict, but got " + type(param_group).__name__)
        params = param_group["params"]
        if isinstance(params, _Tensor):
            param_group["params"] = [params]
        elif isinstance(params, set):
            raise TypeError("optimizer parameters need to be organized in ordered collections, but the ordering "
                            "of tensors in sets will change between runs. Please use a list instead.")
        else:
            param_group["params"] = list(params)
        for p in param_group["params"]:
            if not isinstance(p, _Tensor):
                raise TypeError("optimizer can only optimize Tensors, but one of the params is " + type(p).__name__)
            if not p.is_leaf:
                raise ValueError("can't optimize a non-leaf Tensor")
        for name, default in self.defaults.items():
            if default is required and name not in param_group:
                raise ValueError(f"parameter group didn't specify a value of required optimization parameter {name}")
            param_group.setdefault(name, default)
        ids = {id(p) for p in param_group["params"]}
        if len(ids) != len(param_group["params"]):
            raise ValueError("optimizer contains a parameter group with duplicate parameters")
        for group in self.param_groups:
            if ids & {id(p) for p in group["params"]}:
                raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(param_group)

    def zero_grad(self, set_to_none=True):
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                else:
                    with no_grad():
                        p.grad.zero_()

    def _closure(self, closure):
        if closure is None:
            return None
        with enable_grad():
            return closure()

    def step(self, closure=None):
        raise NotImplementedError

    def state_dict(self):
        index = {}
        groups = []
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            for p in group["params"]:
                index.setdefault(id(p), len(index))
            packed["params"] = [index[id(p)] for p in group["params"]]
            groups.append(packed)
        state = {index[id(p)]: s for p, s in self.state.items() if id(p) in index}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict):
        state_dict = {"state": state_dict["state"], "param_groups": copy.deepcopy(state_dict["param_groups"])}
        groups, saved = self.param_groups, state_dict["param_groups"]
        if len(groups) != len(saved):
            raise ValueError("loaded state dict has a different number of parameter groups")
        for g, s in zip(groups, saved):
            if len(g["params"]) != len(s["params"]):
                raise ValueError("loaded state dict contains a parameter group that doesn't match the size of "
                                 "optimizer's group")
        id_map = {}
        for g, s in zip(groups, saved):
            for old, p in zip(s["params"], g["params"]):
                id_map[old] = p
        state = defaultdict(dict)
        for k, v in state_dict["state"].items():
            if k not in id_map:
                continue
            p = id_map[k]
            entry = {}
            for name, value in v.items():
                if isinstance(value, _Tensor):
                    if name == "step":
                        value = value.clone()  # stays a CPU float tensor, as PyTorch keeps it
                    else:
                        value = value.detach().to(p.device, p.dtype).clone()
                elif isinstance(value, (dict, list)):
                    value = copy.deepcopy(value)
                entry[name] = value
            state[p] = entry
        new_groups = []
        for g, s in zip(groups, saved):
            s = dict(s)
            s["params"] = g["params"]
            new_groups.append(s)
        self.state = state
        self.param_groups = new_groups


def _grads(params):
    return [p.grad for p in params]


class SGD(Optimizer):
    """torch.optim.SGD: p -= lr * d with d = g + weight_decay * p, optionally through a (Nesterov) momentum buffer."""

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, *,
                 maximize=False, foreach=None, differentiable=False):
        if lr is not required and lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay, nesterov=nesterov,
                        maximize=maximize, foreach=foreach, differentiable=differentiable)
        super().__init__(params, defaults)

    def step(self, closure=None):
        loss = self._closure(closure)
        for group in self.param_groups:
            params = group["params"]
            _O.sgd_step(params, _grads(params), self.state, lr=float(group["lr"]),
                        momentum=float(group["momentum"]), dampening=float(group["dampening"]),
                        weight_decay=float(group["weight_decay"]), nesterov=bool(group["nesterov"]),
                        maximize=bool(group.get("maximize", False)))
        return loss


class Adam(Optimizer):
    """torch.optim.Adam (L2 weight decay added to the gradient; amsgrad: the running maximum of exp_avg_sq in the
    denominator)."""

    _decoupled = False

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False, *,
                 foreach=None, maximize=False, capturable=False, differentiable=False, fused=None):
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if eps < 0.0:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= betas[0] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
        if not 0.0 <= betas[1] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                        maximize=maximize, foreach=foreach, capturable=capturable, differentiable=differentiable,
                        fused=fused)
        super().__init__(params, defaults)

    def step(self, closure=None):
        loss = self._closure(closure)
        for group in self.param_groups:
            params = group["params"]
            beta1, beta2 = group["betas"]
            _O.adam_step(params, _grads(params), self.state, lr=float(group["lr"]), beta1=float(beta1),
                         beta2=float(beta2), eps=float(group["eps"]), weight_decay=float(group["weight_decay"]),
                         amsgrad=bool(group["amsgrad"]), maximize=bool(group.get("maximize", False)),
                         decoupled=self._decoupled)
        return loss


class AdamW(Adam):
    """torch.optim.AdamW: decoupled weight decay (p *= 1 - lr * weight_decay), default weight_decay 1e-2."""

    _decoupled = True

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False, *,
                 foreach=None, maximize=False, capturable=False, differentiable=False, fused=None):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                         foreach=foreach, maximize=maximize, capturable=capturable, differentiable=differentiable,
                         fused=fused)


class RMSprop(Optimizer):
    """torch.optim.RMSprop (alpha, eps, weight_decay, momentum, centered)."""

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False, *,
                 foreach=None, maximize=False, differentiable=False):
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if eps < 0.0:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if alpha < 0.0:
            raise ValueError(f"Invalid alpha value: {alpha}")
        defaults = dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps, centered=centered, weight_decay=weight_decay,
                        foreach=foreach, maximize=maximize, differentiable=differentiable)
        super().__init__(params, defaults)

    def step(self, closure=None):
        loss = self._closure(closure)
        for group in self.param_groups:
            params = group["params"]
            _O.rmsprop_step(params, _grads(params), self.state, lr=float(group["lr"]), alpha=float(group["alpha"]),
                            eps=float(group["eps"]), weight_decay=float(group["weight_decay"]),
                            momentum=float(group["momentum"]), centered=bool(group["centered"]),
                            maximize=bool(group.get("maximize", False)))
        return loss


def _check(name, value, low=0.0):
    if value < low:
        raise ValueError(f"Invalid {name}: {value}")


def _check_betas(betas):
    for i, b in enumerate(betas):
        if not 0.0 <= b < 1.0:
            raise ValueError(f"Invalid beta parameter at index {i}: {b}")


class _PythonOptimizer(Optimizer):
    """An optimizer whose update is written here with tensor ops: step() calls _update(p, grad, state, group)
    under no_grad for every parameter with a gradient; state["step"] is a CPU float64 tensor, as PyTorch's."""

    def _init_state(self, p, group):
        return {}

    def step(self, closure=None):
        loss = self._closure(closure)
        from .._factories import zeros
        with no_grad():
            for group in self.param_groups:
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    grad = p.grad.neg() if group.get("maximize", False) else p.grad
                    state = self.state[p]
                    if not state:
                        state["step"] = zeros((), dtype=_C.float64)
                        state.update(self._init_state(p, group))
                    state["step"].add_(1.0)
                    self._update(p, grad, state, group, float(state["step"].item()))
        return loss


def _weight_decay(p, grad, group):
    """NAdam's and RAdam's weight decay: p *= 1 - lr * wd (decoupled_weight_decay), else g + wd * p."""
    wd = group["weight_decay"]
    if wd == 0:
        return grad
    if group["decoupled_weight_decay"]:
        p.mul_(1 - group["lr"] * wd)
        return grad
    return grad + p * wd


def _zeros_like(p):
    from .._factories import zeros_like
    return zeros_like(p)


class Adagrad(_PythonOptimizer):
    """torch.optim.Adagrad: p -= clr * g / (sqrt(sum of g^2) + eps), clr = lr / (1 + (step - 1) lr_decay)."""

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10,
                 foreach=None, *, maximize=False, differentiable=False, fused=None):
        for name, v in (("learning rate", lr), ("lr_decay value", lr_decay), ("weight_decay value", weight_decay),
                        ("initial_accumulator_value value", initial_accumulator_value), ("epsilon value", eps)):
            _check(name, v)
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value, foreach=foreach,
                                      maximize=maximize, differentiable=differentiable, fused=fused))

    def _init_state(self, p, group):
        return {"sum": _zeros_like(p) + float(group["initial_accumulator_value"])}

    def _update(self, p, grad, state, group, step):
        if group["weight_decay"] != 0:
            grad = grad + p * group["weight_decay"]
        clr = group["lr"] / (1 + (step - 1) * group["lr_decay"])
        state["sum"].add_(grad * grad)
        p.sub_(grad / (state["sum"].sqrt() + group["eps"]) * clr)


class Adadelta(_PythonOptimizer):
    """torch.optim.Adadelta: running averages of g^2 and of the squared updates set each step's size."""

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, foreach=None, *, capturable=False,
                 maximize=False, differentiable=False):
        _check("learning rate", lr)
        _check("epsilon value", eps)
        _check("weight_decay value", weight_decay)
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        super().__init__(params, dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, foreach=foreach,
                                      capturable=capturable, maximize=maximize, differentiable=differentiable))

    def _init_state(self, p, group):
        return {"square_avg": _zeros_like(p), "acc_delta": _zeros_like(p)}

    def _update(self, p, grad, state, group, step):
        rho, eps = group["rho"], group["eps"]
        if group["weight_decay"] != 0:
            grad = grad + p * group["weight_decay"]
        sq, acc = state["square_avg"], state["acc_delta"]
        sq.mul_(rho).add_(grad * grad * (1 - rho))
        delta = (acc + eps).sqrt() / (sq + eps).sqrt() * grad
        acc.mul_(rho).add_(delta * delta * (1 - rho))
        p.sub_(delta * group["lr"])


class Adamax(_PythonOptimizer):
    """torch.optim.Adamax: Adam with the infinity norm, p -= lr / (1 - beta1^t) * m / u."""

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, foreach=None, *,
                 maximize=False, differentiable=False, capturable=False):
        _check("learning rate", lr)
        _check("epsilon value", eps)
        _check("weight_decay value", weight_decay)
        _check_betas(betas)
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                                      foreach=foreach, maximize=maximize, differentiable=differentiable,
                                      capturable=capturable))

    def _init_state(self, p, group):
        return {"exp_avg": _zeros_like(p), "exp_inf": _zeros_like(p)}

    def _update(self, p, grad, state, group, step):
        beta1, beta2 = group["betas"]
        if group["weight_decay"] != 0:
            grad = grad + p * group["weight_decay"]
        m, u = state["exp_avg"], state["exp_inf"]
        m.add_((grad - m) * (1 - beta1))
        u.copy_((u * beta2).maximum(grad.abs() + group["eps"]))
        p.sub_(m / u * (group["lr"] / (1 - beta1 ** step)))


class NAdam(_PythonOptimizer):
    """torch.optim.NAdam: Adam with Nesterov momentum and the momentum decay schedule mu_t."""

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, momentum_decay=4e-3,
                 decoupled_weight_decay=False, *, foreach=None, maximize=False, capturable=False,
                 differentiable=False):
        _check("learning rate", lr)
        _check("epsilon value", eps)
        _check("weight_decay value", weight_decay)
        _check("momentum_decay value", momentum_decay)
        _check_betas(betas)
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                                      momentum_decay=momentum_decay, decoupled_weight_decay=decoupled_weight_decay,
                                      foreach=foreach, maximize=maximize, capturable=capturable,
                                      differentiable=differentiable))

    def _init_state(self, p, group):
        from .._factories import ones
        return {"mu_product": ones((), dtype=_C.float64), "exp_avg": _zeros_like(p), "exp_avg_sq": _zeros_like(p)}

    def _update(self, p, grad, state, group, step):
        beta1, beta2 = group["betas"]
        lr = group["lr"]
        grad = _weight_decay(p, grad, group)
        mu = beta1 * (1.0 - 0.5 * 0.96 ** (step * group["momentum_decay"]))
        mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((step + 1) * group["momentum_decay"]))
        state["mu_product"].mul_(mu)
        mu_product = float(state["mu_product"].item())
        m, v = state["exp_avg"], state["exp_avg_sq"]
        m.add_((grad - m) * (1 - beta1))
        v.mul_(beta2).add_(grad * grad * (1 - beta2))
        denom = (v / (1 - beta2 ** step)).sqrt() + group["eps"]
        p.sub_(grad / denom * (lr * (1.0 - mu) / (1.0 - mu_product)))
        p.sub_(m / denom * (lr * mu_next / (1.0 - mu_product * mu_next)))


class RAdam(_PythonOptimizer):
    """torch.optim.RAdam: Adam with the variance rectification term (plain momentum SGD while it is undefined)."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, decoupled_weight_decay=False,
                 *, foreach=None, maximize=False, capturable=False, differentiable=False):
        _check("learning rate", lr)
        _check("epsilon value", eps)
        _check("weight_decay value", weight_decay)
        _check_betas(betas)
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                                      decoupled_weight_decay=decoupled_weight_decay, foreach=foreach,
                                      maximize=maximize, capturable=capturable, differentiable=differentiable))

    def _init_state(self, p, group):
        return {"exp_avg": _zeros_like(p), "exp_avg_sq": _zeros_like(p)}

    def _update(self, p, grad, state, group, step):
        import math
        beta1, beta2 = group["betas"]
        lr = group["lr"]
        grad = _weight_decay(p, grad, group)
        m, v = state["exp_avg"], state["exp_avg_sq"]
        m.add_((grad - m) * (1 - beta1))
        v.mul_(beta2).add_(grad * grad * (1 - beta2))
        bc1, bc2 = 1 - beta1 ** step, 1 - beta2 ** step
        m_hat = m / bc1
        rho_inf = 2 / (1 - beta2) - 1
        rho_t = rho_inf - 2 * step * (beta2 ** step) / bc2
        if rho_t > 5.0:
            rect = math.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
            p.sub_(m_hat * (lr * rect) * (math.sqrt(bc2) / (v.sqrt() + group["eps"])))
        else:
            p.sub_(m_hat * lr)


class Rprop(_PythonOptimizer):
    """torch.optim.Rprop: per-element step sizes grown by etas[1] while the gradient keeps its sign, cut by
    etas[0] when it flips (and that step skipped), within step_sizes."""

    def __init__(self, params, lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50), *, capturable=False, foreach=None,
                 maximize=False, differentiable=False):
        _check("learning rate", lr)
        if not 0.0 < etas[0] < 1.0 < etas[1]:
            raise ValueError(f"Invalid eta values: {etas[0]}, {etas[1]}")
        super().__init__(params, dict(lr=lr, etas=tuple(etas), step_sizes=tuple(step_sizes), foreach=foreach,
                                      maximize=maximize, differentiable=differentiable, capturable=capturable))

    def _init_state(self, p, group):
        return {"prev": _zeros_like(p), "step_size": _zeros_like(p) + float(group["lr"])}

    def _update(self, p, grad, state, group, step):
        etaminus, etaplus = group["etas"]
        lo, hi = group["step_sizes"]
        sign = (grad * state["prev"]).sign()
        pos, neg = (sign > 0).to(p.dtype), (sign < 0).to(p.dtype)
        factor = pos * (etaplus - 1.0) + neg * (etaminus - 1.0) + 1.0  # in p's dtype (a where of scalars is float32)
        state["step_size"].copy_((state["step_size"] * factor).clamp(lo, hi))
        grad = _C.where(sign < 0, 0.0, grad)
        p.sub_(grad.sign() * state["step_size"])
        state["prev"].copy_(grad)


from ._lbfgs import make_asgd as _make_asgd, make_lbfgs as _make_lbfgs  # noqa: E402

LBFGS = _make_lbfgs(Optimizer)
ASGD = _make_asgd(_PythonOptimizer, _check, _zeros_like)
from ._adafactor import make_adafactor as _make_adafactor  # noqa: E402

Adafactor = _make_adafactor(_PythonOptimizer, _zeros_like)
from ._muon import make_muon as _make_muon  # noqa: E402

Muon = _make_muon(Optimizer, no_grad, _zeros_like)
LBFGS.__module__ = ASGD.__module__ = Adafactor.__module__ = Muon.__module__ = __name__
from . import swa_utils  # noqa: E402,F401  (imports loom.nn: last)
