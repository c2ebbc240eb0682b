"""loom.optim: PyTorch's optimizers (torch.optim) on loom's fused update kernels.

Each optimizer keeps ``param_groups`` as a list of dicts (changing
``opt.param_groups[0]["lr"]`` takes effect at the next step) and per-parameter
``state``; ``step()`` calls the fused C++ updates (``_sgd_step_``,
``_adam_step_``: one multi-tensor call per group) under ``loom.no_grad()``.
``state_dict()`` / ``load_state_dict()`` use PyTorch's structure:
``{"state": {index: {...}}, "param_groups": [{..., "params": [index, ...]}]}``.
The C++ classes (loom::optim::SGD ...) are bound as ``loom._C._functional._optim``.
"""
from collections import defaultdict
import copy

from .. import _C
from .._factories import tensor as _tensor, zeros_like as _zeros_like
from ..autograd.grad_mode import no_grad, enable_grad
from . import lr_scheduler  # noqa: F401

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "lr_scheduler"]

_F = _C._functional
_Tensor = _C.Tensor


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


def _grads(group, maximize=False):
    params, grads = [], []
    for p in group["params"]:
        g = p.grad
        if g is None:
            continue
        if maximize:
            g = -g
        params.append(p)
        grads.append(g.contiguous())
    return params, grads


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
        with no_grad():
            for group in self.param_groups:
                params, grads = _grads(group, group.get("maximize", False))
                if not params:
                    continue
                momentum = float(group["momentum"])
                args = dict(lr=float(group["lr"]), momentum=momentum, dampening=float(group["dampening"]),
                            nesterov=bool(group["nesterov"]), weight_decay=float(group["weight_decay"]))
                if momentum == 0.0:
                    _F._sgd_step_(params, grads, None, first_step=False, **args)
                    continue
                old, new = ([], [], []), ([], [], [])
                for p, g in zip(params, grads):
                    st = self.state[p]
                    buf = st.get("momentum_buffer")
                    lists = old
                    if buf is None:
                        buf = st["momentum_buffer"] = _zeros_like(p)
                        lists = new
                    lists[0].append(p), lists[1].append(g), lists[2].append(buf)
                if old[0]:
                    _F._sgd_step_(old[0], old[1], old[2], first_step=False, **args)
                if new[0]:
                    _F._sgd_step_(new[0], new[1], new[2], first_step=True, **args)
        return loss


class Adam(Optimizer):
    """torch.optim.Adam (L2 weight decay added to the gradient)."""

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
        if amsgrad:
            raise NotImplementedError(f"{type(self).__name__}: amsgrad is not implemented")
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                        maximize=maximize, foreach=foreach, capturable=capturable, differentiable=differentiable,
                        fused=fused)
        super().__init__(params, defaults)

    def step(self, closure=None):
        loss = self._closure(closure)
        with no_grad():
            for group in self.param_groups:
                params, grads = _grads(group, group.get("maximize", False))
                if not params:
                    continue
                by_step = {}
                for p, g in zip(params, grads):
                    st = self.state[p]
                    if len(st) == 0:
                        st["step"] = _tensor(0.0)
                        st["exp_avg"] = _zeros_like(p)
                        st["exp_avg_sq"] = _zeros_like(p)
                    st["step"] += 1  # a CPU tensor: no device sync
                    lists = by_step.setdefault(int(st["step"].item()), ([], [], [], []))
                    lists[0].append(p), lists[1].append(g), lists[2].append(st["exp_avg"])
                    lists[3].append(st["exp_avg_sq"])
                beta1, beta2 = group["betas"]
                for step, (ps, gs, ms, vs) in by_step.items():
                    _F._adam_step_(ps, gs, ms, vs, step, lr=float(group["lr"]), beta1=float(beta1),
                                   beta2=float(beta2), eps=float(group["eps"]),
                                   weight_decay=float(group["weight_decay"]), decoupled=self._decoupled,
                                   amsgrad=bool(group["amsgrad"]))
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
        with no_grad():
            for group in self.param_groups:
                lr, alpha, eps = group["lr"], group["alpha"], group["eps"]
                wd, momentum, centered = group["weight_decay"], group["momentum"], group["centered"]
                for p, g in zip(*_grads(group, group.get("maximize", False))):
                    st = self.state[p]
                    if len(st) == 0:
                        st["step"] = _tensor(0.0)
                        st["square_avg"] = _zeros_like(p)
                        if momentum > 0:
                            st["momentum_buffer"] = _zeros_like(p)
                        if centered:
                            st["grad_avg"] = _zeros_like(p)
                    st["step"] += 1
                    if wd != 0:
                        g = g + p * wd
                    sq = st["square_avg"]
                    sq.mul_(alpha).add_(g * g * (1 - alpha))
                    if centered:
                        ga = st["grad_avg"]
                        ga.mul_(alpha).add_(g * (1 - alpha))
                        avg = (sq - ga * ga).sqrt() + eps
                    else:
                        avg = sq.sqrt() + eps
                    if momentum > 0:
                        buf = st["momentum_buffer"]
                        buf.mul_(momentum).add_(g / avg)
                        p.sub_(buf * lr)
                    else:
                        p.sub_(g / avg * lr)
        return loss
