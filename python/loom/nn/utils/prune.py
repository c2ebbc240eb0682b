"""torch.nn.utils.prune: masking a module's tensors.

Pruning <name> moves the parameter to <name>_orig, adds the buffer <name>_mask (1 keeps an entry, 0
prunes it) and makes module.<name> the product orig * mask, recomputed by a forward pre-hook before every
call (PyTorch's names, so pruned checkpoints load in either framework). Pruning the same tensor again
combines the masks: the new method decides only among the entries (unstructured) or channels (structured)
still kept, its amount counted over those. remove() makes the pruning permanent (<name> a parameter again,
holding orig * mask).

Methods: Identity, RandomUnstructured, L1Unstructured (smallest |w|, or importance_scores), RandomStructured
and LnStructured (whole slices along dim, the smallest L_n norms), CustomFromMask, and global_unstructured
across several tensors at once. amount is a fraction in [0, 1] (rounded to a count of entries or channels)
or a count.
"""
import numbers

from ... import _C
from ..._C import Tensor
from ...autograd.grad_mode import no_grad
from ..modules.module import Parameter

__all__ = ["BasePruningMethod", "PruningContainer", "Identity", "RandomUnstructured", "L1Unstructured",
           "RandomStructured", "LnStructured", "CustomFromMask", "identity", "random_unstructured",
           "l1_unstructured", "random_structured", "ln_structured", "global_unstructured", "custom_from_mask",
           "remove", "is_pruned"]


def _ones_like(t):
    from ..._factories import ones_like
    return ones_like(t)


def _zeros_like(t):
    from ..._factories import zeros_like
    return zeros_like(t)


def _pre_hooks(module):
    return module.__dict__.get("_forward_pre_hooks", {})


def _validate_amount_init(amount):
    if not isinstance(amount, numbers.Real) or isinstance(amount, bool):
        raise TypeError(f"Invalid type for amount: {amount}. Must be int or float.")
    if (isinstance(amount, numbers.Integral) and amount < 0) or \
            (not isinstance(amount, numbers.Integral) and (float(amount) > 1.0 or float(amount) < 0.0)):
        raise ValueError(f"amount={amount} should either be a float in the range [0, 1] or a non-negative integer")


def _validate_amount(amount, size):
    if isinstance(amount, numbers.Integral) and amount > size:
        raise ValueError(f"amount={amount} should be smaller than the number of parameters to prune={size}")


def _count(amount, size):
    return int(amount) if isinstance(amount, numbers.Integral) else round(amount * size)


def _validate_structured(t):
    if t.dim() <= 1:
        raise ValueError(f"Structured pruning can only be applied to multidimensional tensors. Found tensor of "
                         f"shape {tuple(t.shape)} with {t.dim()} dims")


def _channel_mask(t, dim, channels):
    """A mask of t's shape that is 1 on the given indices along dim."""
    from ..._factories import zeros
    shape = [1] * t.dim()
    shape[dim] = t.shape[dim]
    sel = zeros(t.shape[dim], dtype=t.dtype, device=t.device)
    if channels.numel():
        sel = sel.index_fill(0, channels, 1.0)
    return _zeros_like(t) + sel.reshape(shape)


class BasePruningMethod:
    """A pruning method: compute_mask(t, default_mask) gives the mask; the instance is also the forward
    pre-hook that recomputes module.<name> = <name>_orig * <name>_mask."""
    PRUNING_TYPE = None
    _tensor_name = None

    def __call__(self, module, inputs):
        object.__setattr__(module, self._tensor_name, self.apply_mask(module))

    def compute_mask(self, t, default_mask):
        raise NotImplementedError

    def apply_mask(self, module):
        if self._tensor_name is None:
            raise RuntimeError(f"Module {module} has to be pruned")
        orig = getattr(module, self._tensor_name + "_orig")
        mask = getattr(module, self._tensor_name + "_mask")
        return orig * mask.to(orig.dtype)

    @classmethod
    def apply(cls, module, name, *args, importance_scores=None, **kwargs):
        hooks = _pre_hooks(module)
        old_key, old = None, None
        for k, hook in hooks.items():
            if isinstance(hook, BasePruningMethod) and hook._tensor_name == name:
                if old is not None:
                    raise RuntimeError(f"More than one pruning hook on the tensor '{name}' of {module}")
                old_key, old = k, hook
        method = cls(*args, **kwargs)
        method._tensor_name = name
        if old is not None:
            container = old if isinstance(old, PruningContainer) else PruningContainer(old)
            container.add_pruning_method(method)
            method = container
            del hooks[old_key]
        orig = getattr(module, name, None)
        if not isinstance(orig, Tensor):
            raise AttributeError(f"Parameter '{name}' of module {module} has to be pruned but does not exist")
        if importance_scores is not None:
            if tuple(importance_scores.shape) != tuple(orig.shape):
                raise ValueError(f"importance_scores should have the same shape as parameter {name} of {module}")
        else:
            importance_scores = orig
        if old is None:
            if name not in module._parameters:
                raise AttributeError(f"'{name}' of {module} is not a parameter")
            del module._parameters[name]
            module.register_parameter(name + "_orig", orig)
            default_mask = _ones_like(orig)
        else:
            default_mask = getattr(module, name + "_mask").detach().clone()
        with no_grad():
            mask = method.compute_mask(importance_scores.detach(), default_mask=default_mask)
        module.register_buffer(name + "_mask", mask)
        object.__setattr__(module, name, method.apply_mask(module))
        module.register_forward_pre_hook(method)
        return method

    def prune(self, t, default_mask=None, importance_scores=None):
        """t * the mask computed from importance_scores (t when None) and default_mask (ones when None)."""
        scores = t if importance_scores is None else importance_scores
        with no_grad():
            mask = self.compute_mask(scores, default_mask=_ones_like(t) if default_mask is None else default_mask)
        return t * mask

    def remove(self, module):
        """Makes the pruning permanent: module.<name> becomes a parameter holding orig * mask."""
        if self._tensor_name is None:
            raise RuntimeError(f"Module {module} has to be pruned before pruning can be removed")
        name = self._tensor_name
        with no_grad():
            weight = self.apply_mask(module)
        if name in module.__dict__:
            object.__delattr__(module, name)
        orig = module._parameters[name + "_orig"]
        with no_grad():
            orig.copy_(weight)
        del module._parameters[name + "_orig"]
        del module._buffers[name + "_mask"]
        module.register_parameter(name, orig if isinstance(orig, Parameter) else Parameter(orig))


class PruningContainer(BasePruningMethod):
    """Successive pruning methods of one tensor: each new one chooses among what the earlier ones kept."""

    def __init__(self, *args):
        self._pruning_methods = ()
        if len(args) == 1 and not isinstance(args[0], BasePruningMethod):
            args = tuple(args[0])
        for method in args:
            self.add_pruning_method(method)
        if len(args) == 1:
            self._tensor_name = args[0]._tensor_name

    def add_pruning_method(self, method):
        if not isinstance(method, BasePruningMethod) and method is not None:
            raise TypeError(f"{type(method)} is not a BasePruningMethod subclass")
        if method is not None and self._tensor_name is not None and self._tensor_name != method._tensor_name:
            raise ValueError(f"Can only add pruning methods acting on the parameter named '{self._tensor_name}' to "
                             f"PruningContainer. Found '{method._tensor_name}'")
        self._pruning_methods += (method,)
        if self._tensor_name is None and method is not None:
            self._tensor_name = method._tensor_name

    def __len__(self):
        return len(self._pruning_methods)

    def __iter__(self):
        return iter(self._pruning_methods)

    def __getitem__(self, idx):
        return self._pruning_methods[idx]

    def compute_mask(self, t, default_mask):
        method = self._pruning_methods[-1]
        kind = method.PRUNING_TYPE
        new_mask = default_mask.clone()
        if kind == "global":  # the whole tensor: the method sees every entry and the mask so far
            return method.compute_mask(t, default_mask=default_mask).to(new_mask.dtype)
        if kind == "unstructured":  # the method chooses among the entries still kept
            flat_mask = default_mask.reshape(-1)
            idx = flat_mask.eq(1).nonzero().reshape(-1)
            partial = method.compute_mask(t.reshape(-1).index_select(0, idx),
                                          default_mask=flat_mask.index_select(0, idx))
            out = new_mask.reshape(-1).index_copy(0, idx, partial.to(new_mask.dtype))
            return out.reshape(tuple(default_mask.shape))
        if kind == "structured":
            if not hasattr(method, "dim"):
                raise AttributeError("Pruning methods of PRUNING_TYPE 'structured' need to have the attribute `dim` "
                                     "defined.")
            dim = method.dim % t.dim()
            others = [d for d in range(t.dim()) if d != dim]
            keep = default_mask.sum(others).ne(0) if others else default_mask.ne(0)
            idx = keep.nonzero().reshape(-1)
            partial = method.compute_mask(t.index_select(dim, idx), default_mask=default_mask.index_select(dim, idx))
            return new_mask.index_copy(dim, idx, partial.to(new_mask.dtype))
        raise ValueError(f"Unrecognized PRUNING_TYPE {kind}")


class Identity(BasePruningMethod):
    """Prunes nothing (the mask is the default one)."""
    PRUNING_TYPE = "unstructured"

    def compute_mask(self, t, default_mask):
        return default_mask

    @classmethod
    def apply(cls, module, name):
        return super().apply(module, name)


class _AmountUnstructured(BasePruningMethod):
    """Prunes `amount` entries: the ones `_pick(t, k)` returns (flat indices)."""
    PRUNING_TYPE = "unstructured"

    def __init__(self, amount):
        _validate_amount_init(amount)
        self.amount = amount

    def compute_mask(self, t, default_mask):
        n = t.numel()
        _validate_amount(self.amount, n)
        k = _count(self.amount, n)
        mask = default_mask.clone()
        if k:
            mask = mask.reshape(-1).index_fill(0, self._pick(t, k), 0).reshape(tuple(mask.shape))
        return mask


class RandomUnstructured(_AmountUnstructured):
    """Prunes amount entries chosen at random."""

    def _pick(self, t, k):
        from ..._factories import rand
        return rand(t.numel(), device=t.device).topk(k).indices

    @classmethod
    def apply(cls, module, name, amount):
        return super().apply(module, name, amount=amount)


class L1Unstructured(_AmountUnstructured):
    """Prunes the amount entries of smallest absolute value."""

    def _pick(self, t, k):
        return t.abs().reshape(-1).topk(k, largest=False).indices

    @classmethod
    def apply(cls, module, name, amount, importance_scores=None):
        return super().apply(module, name, amount=amount, importance_scores=importance_scores)


class RandomStructured(BasePruningMethod):
    """Prunes amount whole slices along dim, chosen at random."""
    PRUNING_TYPE = "structured"

    def __init__(self, amount, dim=-1):
        _validate_amount_init(amount)
        self.amount, self.dim = amount, dim

    def compute_mask(self, t, default_mask):
        _validate_structured(t)
        dim = self.dim % t.dim()
        n = t.shape[dim]
        _validate_amount(self.amount, n)
        k = _count(self.amount, n)
        if k == 0:
            return default_mask
        from ..._factories import rand
        keep = rand(n, device=t.device).topk(n - k).indices
        return _channel_mask(t, dim, keep).to(default_mask.dtype) * default_mask

    @classmethod
    def apply(cls, module, name, amount, dim=-1):
        return super().apply(module, name, amount=amount, dim=dim)


class LnStructured(BasePruningMethod):
    """Prunes the amount slices along dim with the smallest L_n norm (n: a number, inf, -inf, 'fro', 'nuc')."""
    PRUNING_TYPE = "structured"

    def __init__(self, amount, n, dim=-1):
        _validate_amount_init(amount)
        self.amount, self.n, self.dim = amount, n, dim

    def compute_mask(self, t, default_mask):
        _validate_structured(t)
        dim = self.dim % t.dim()
        channels = t.shape[dim]
        _validate_amount(self.amount, channels)
        k = _count(self.amount, channels)
        keep_n = channels - k
        if k == 0:
            return default_mask
        if keep_n == 0:
            return _zeros_like(default_mask)
        others = [d for d in range(t.dim()) if d != dim]
        p = 2 if self.n == "fro" else self.n
        norm = t.norm(p, others)
        keep = norm.topk(keep_n, largest=True).indices
        return _channel_mask(t, dim, keep).to(default_mask.dtype) * default_mask

    @classmethod
    def apply(cls, module, name, amount, n, dim, importance_scores=None):
        return super().apply(module, name, amount=amount, n=n, dim=dim, importance_scores=importance_scores)


class CustomFromMask(BasePruningMethod):
    """Prunes where the given mask is 0."""
    PRUNING_TYPE = "global"

    def __init__(self, mask):
        self.mask = mask

    def compute_mask(self, t, default_mask):
        if tuple(default_mask.shape) != tuple(self.mask.shape):
            raise RuntimeError(f"custom_from_mask: the mask's shape {list(self.mask.shape)} differs from the "
                               f"tensor's {list(default_mask.shape)}")
        return default_mask * self.mask.to(default_mask.dtype).to(default_mask.device)

    @classmethod
    def apply(cls, module, name, mask):
        return super().apply(module, name, mask=mask)


# ---- the functional forms ----

def identity(module, name):
    """Adds the pruning parametrization with a mask of ones (nothing pruned)."""
    Identity.apply(module, name)
    return module


def random_unstructured(module, name, amount):
    RandomUnstructured.apply(module, name, amount)
    return module


def l1_unstructured(module, name, amount, importance_scores=None):
    L1Unstructured.apply(module, name, amount=amount, importance_scores=importance_scores)
    return module


def random_structured(module, name, amount, dim):
    RandomStructured.apply(module, name, amount, dim)
    return module


def ln_structured(module, name, amount, n, dim, importance_scores=None):
    LnStructured.apply(module, name, amount, n, dim, importance_scores=importance_scores)
    return module


def custom_from_mask(module, name, mask):
    CustomFromMask.apply(module, name, mask)
    return module


def global_unstructured(parameters, pruning_method, importance_scores=None, **kwargs):
    """Prunes (module, name) tensors together: the method (unstructured) chooses over all of their entries
    at once (importance_scores: {(module, name): tensor}, the tensors themselves by default)."""
    from collections.abc import Iterable
    if not isinstance(parameters, Iterable):
        raise TypeError("global_unstructured(): parameters is not an Iterable")
    parameters = list(parameters)
    importance_scores = importance_scores if importance_scores is not None else {}
    if not isinstance(importance_scores, dict):
        raise TypeError("global_unstructured(): importance_scores must be of type dict")
    scores = [importance_scores.get((m, n), getattr(m, n)).detach().reshape(-1) for m, n in parameters]
    masks = [getattr(m, n + "_mask", _ones_like(getattr(m, n))).reshape(-1) for m, n in parameters]
    relevant = _C.cat(scores, 0)
    default_mask = _C.cat(masks, 0)
    container = PruningContainer()
    container._tensor_name = "temp"
    method = pruning_method(**kwargs)
    method._tensor_name = "temp"
    if method.PRUNING_TYPE != "unstructured":
        raise TypeError(f'Only "unstructured" PRUNING_TYPE supported for the `pruning_method`. Found method '
                        f"{pruning_method} of type {method.PRUNING_TYPE}")
    container.add_pruning_method(method)
    with no_grad():
        final = container.compute_mask(relevant, default_mask)
    pointer = 0
    for m, n in parameters:
        p = getattr(m, n)
        num = p.numel()
        custom_from_mask(m, n, mask=final.narrow(0, pointer, num).reshape(tuple(p.shape)))
        pointer += num


def remove(module, name):
    """Makes the pruning of module.<name> permanent and removes its hook, <name>_orig and <name>_mask."""
    hooks = _pre_hooks(module)
    for k, hook in list(hooks.items()):
        if isinstance(hook, BasePruningMethod) and hook._tensor_name == name:
            hook.remove(module)
            del hooks[k]
            return module
    raise ValueError(f"Parameter '{name}' of module {module} has to be pruned before pruning can be removed")


def is_pruned(module):
    """Whether module or one of its submodules has a pruning hook."""
    for _, sub in module.named_modules():
        for hook in _pre_hooks(sub).values():
            if isinstance(hook, BasePruningMethod):
                return True
    return False
