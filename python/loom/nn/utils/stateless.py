"""torch.nn.utils.stateless / torch.func.functional_call: a module called with some of its parameters and
buffers replaced by given tensors (by their state-dict names), the module restored afterwards."""
from ..._C import Tensor

__all__ = ["functional_call"]


def _owner(module, name):
    *path, attr = name.split(".")
    m = module
    for p in path:
        m = getattr(m, p)
    return m, attr


def functional_call(module, parameters_and_buffers, args=None, kwargs=None, *, tie_weights=True, strict=False):
    """module(*args, **kwargs) with module.<name> = tensor for each entry of parameters_and_buffers (a dict,
    or a sequence of dicts); the module's own tensors are put back afterwards, also when the call raises."""
    if isinstance(parameters_and_buffers, (list, tuple)):
        merged = {}
        for d in parameters_and_buffers:
            for k, v in d.items():
                if k in merged:
                    raise ValueError(f"{k} appeared in multiple dictionaries; behavior of functional call is "
                                     "ambiguous")
                merged[k] = v
        parameters_and_buffers = merged
    if strict:
        expected = {n for n, _ in module.named_parameters()} | {n for n, _ in module.named_buffers()}
        missing = sorted(expected - set(parameters_and_buffers))
        unexpected = sorted(set(parameters_and_buffers) - expected)
        if missing or unexpected:
            raise RuntimeError(f"Error(s) in reparametrizing for {type(module).__name__}: missing keys "
                               f"{missing}, unexpected keys {unexpected}")
    if tie_weights:  # a tensor shared under several names is replaced under all of them
        by_id = {}
        for n, t in list(module.named_parameters(remove_duplicate=False)) + \
                list(module.named_buffers(remove_duplicate=False)):
            by_id.setdefault(id(t), []).append(n)
        extra = {}
        for n, v in parameters_and_buffers.items():
            for names in by_id.values():
                if n in names:
                    for other in names:
                        if other not in parameters_and_buffers:
                            extra[other] = v
        parameters_and_buffers = dict(parameters_and_buffers, **extra)
    saved = []
    try:
        for name, value in parameters_and_buffers.items():
            if not isinstance(value, Tensor):
                raise TypeError(f"functional_call: the value of '{name}' must be a Tensor, got "
                                f"{type(value).__name__}")
            owner, attr = _owner(module, name)
            for store_name in ("_parameters", "_buffers"):
                store = owner.__dict__.get(store_name, {})
                if attr in store:
                    saved.append((store, attr, store[attr]))
                    store[attr] = value
                    break
            else:
                saved.append((owner.__dict__, attr, owner.__dict__.get(attr, _MISSING)))
                owner.__dict__[attr] = value
        args = () if args is None else args if isinstance(args, tuple) else (args,)
        return module(*args, **(kwargs or {}))
    finally:
        for store, attr, old in reversed(saved):
            if old is _MISSING:
                store.pop(attr, None)
            else:
                store[attr] = old


_MISSING = object()
