"""loom.func: PyTorch's torch.func transforms — grad, grad_and_value, vjp, jvp, jacrev, jacfwd, hessian,
vmap — and functional_call / stack_module_state, over loom's autograd.

The derivative transforms run the function on fresh leaves (or on aliases of inputs an outer transform
tracks) and take loom.autograd.grad of the result: nested transforms (grad(grad(f)), jacrev(jacrev(f)),
vmap(grad(f))) compose, each inner one keeping its graph for the outer. jvp and jacfwd compute in
reverse mode (jvp as the derivative of a vjp, jacfwd as jacrev): same results as forward mode, at the cost
of one backward per output element for the Jacobians. Arguments and results may be nested tuples, lists
and dicts of tensors (pytrees), as PyTorch's.

vmap runs the function once per index of the mapped dimension and stacks the results (no batching
rules: correct for any function, as fast as a Python loop). randomness='error' (the default) raises when
the function draws random numbers, 'different' lets each index draw its own, 'same' gives every index the
same draws.
"""
import functools

from . import _C
from ._C import Tensor

__all__ = ["grad", "grad_and_value", "vjp", "jvp", "jacrev", "jacfwd", "hessian", "vmap", "functional_call",
           "stack_module_state"]

_depth = [0]  # transforms currently running (an inner one keeps its graph for the outer)


# ---- pytrees: nested tuples, lists and dicts; every other value is a leaf ----

def tree_flatten(tree):
    """(leaves, spec): the leaves in order and what rebuilds the tree from them."""
    if isinstance(tree, (tuple, list)):
        leaves, specs = [], []
        for t in tree:
            lv, sp = tree_flatten(t)
            leaves += lv
            specs.append((sp, len(lv)))
        return leaves, (type(tree), specs, getattr(tree, "_fields", None))
    if isinstance(tree, dict):
        leaves, specs = [], []
        for k, t in tree.items():
            lv, sp = tree_flatten(t)
            leaves += lv
            specs.append((k, sp, len(lv)))
        return leaves, (dict, specs, None)
    return [tree], None


def tree_unflatten(leaves, spec):
    if spec is None:
        return leaves[0]
    kind, specs, fields = spec
    out, i = [], 0
    if kind is dict:
        d = {}
        for k, sp, n in specs:
            d[k] = tree_unflatten(leaves[i:i + n], sp)
            i += n
        return d
    for sp, n in specs:
        out.append(tree_unflatten(leaves[i:i + n], sp))
        i += n
    if fields is not None:  # a namedtuple
        return kind(*out)
    return kind(out)


def _zeros_like(t):
    from ._factories import zeros_like
    return zeros_like(t)


class _Level:
    """One running transform: grad mode on, the depth counted."""

    def __enter__(self):
        _depth[0] += 1
        self._prev = _C.is_grad_enabled()
        _C._set_grad_enabled(True)
        return self

    def __exit__(self, *exc):
        _depth[0] -= 1
        _C._set_grad_enabled(self._prev)
        return False


def _prepare(leaf, name):
    """A tensor to differentiate with respect to: an alias of one an outer transform tracks, else a fresh
    leaf."""
    if not isinstance(leaf, Tensor):
        raise TypeError(f"{name}: expected every argument differentiated to be a Tensor (or a tuple, list or "
                        f"dict of them), got {type(leaf).__name__}")
    if not leaf.is_floating_point():
        raise RuntimeError(f"{name}: only floating point Tensors can be differentiated, got {leaf.dtype}")
    return leaf.view_as(leaf) if leaf.requires_grad else leaf.detach().requires_grad_(True)


def _keep_graph(originals):
    return _depth[0] > 1 or any(isinstance(t, Tensor) and t.requires_grad for t in originals)


def _argnums_tuple(argnums, nargs, name):
    nums = (argnums,) if isinstance(argnums, int) else tuple(argnums)
    if not nums or not all(isinstance(a, int) for a in nums):
        raise RuntimeError(f"{name}: argnums must be an int or a non-empty tuple of ints, got {argnums}")
    out = []
    for a in nums:
        if not -nargs <= a < nargs:
            raise RuntimeError(f"{name}: Got argnums={argnums} but only {nargs} positional inputs")
        out.append(a % nargs)
    if len(set(out)) != len(out):
        raise RuntimeError(f"{name}: argnums must be unique, got {argnums}")
    return out


def _prepare_args(args, nums, name):
    """args with the arguments nums replaced by tensors to differentiate: (args, prepared leaves per argument,
    their tree specs, whether to keep the graph for an outer transform)."""
    args = list(args)
    originals, prepared, specs = [], [], []
    for a in nums:
        leaves, spec = tree_flatten(args[a])
        originals += leaves
        p = [_prepare(t, name) for t in leaves]
        prepared.append(p)
        specs.append(spec)
        args[a] = tree_unflatten(p, spec)
    return args, prepared, specs, _keep_graph(originals)


def _regroup(flat, prepared, specs):
    """One tree per differentiated argument from a flat list over all their leaves."""
    out, i = [], 0
    for p, spec in zip(prepared, specs):
        out.append(tree_unflatten(flat[i:i + len(p)], spec))
        i += len(p)
    return out


def _split_aux(out, has_aux, what):
    if not has_aux:
        return out, None
    if not (isinstance(out, tuple) and len(out) == 2):
        raise RuntimeError(f"{what}: output of function f should be a tuple: (output, aux) if has_aux is True")
    return out


def _grad_of(outs, ins, grad_outputs, keep):
    """d(outs · grad_outputs)/d ins, zeros for inputs the outputs do not depend on."""
    from .autograd import grad as _grad
    pairs = [(o, g) for o, g in zip(outs, grad_outputs) if o.requires_grad]
    if not pairs or not ins:
        res = [None] * len(ins)
    else:
        res = _grad([o for o, _ in pairs], list(ins), [g for _, g in pairs], retain_graph=True, create_graph=keep,
                    allow_unused=True)
    out = []
    for i, r in zip(ins, res):
        r = _zeros_like(i) if r is None else r
        out.append(r if keep else r.detach())
    return out


def _detach_tree(tree, keep):
    if keep:
        return tree
    leaves, spec = tree_flatten(tree)
    return tree_unflatten([t.detach() if isinstance(t, Tensor) else t for t in leaves], spec)


# ---- grad, grad_and_value ----

def grad_and_value(func, argnums=0, has_aux=False):
    """A function returning (gradient, value) of func (a scalar Tensor) with respect to the arguments
    argnums (an int: that argument's gradient, a tuple: a tuple of them); with has_aux, func returns
    (value, aux) and the result is (gradient, (value, aux))."""
    name = "grad_and_value"

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        nums = _argnums_tuple(argnums, len(args), name)
        with _Level():
            args, prepared, specs, keep = _prepare_args(args, nums, name)
            out, aux = _split_aux(func(*args, **kwargs), has_aux, f"{name}(f)(*args)")
            if not isinstance(out, Tensor):
                raise RuntimeError(f"{name}(f)(*args): Expected f(*args) to return a Tensor, got {type(out).__name__}")
            if out.numel() != 1 or out.dim() != 0:
                raise RuntimeError(f"{name}(f)(*args): Expected f(*args) to return a scalar Tensor, got tensor with "
                                   f"{out.dim()} dims. Maybe you wanted to use the vjp or jacrev APIs instead?")
            grads = _regroup(_grad_of([out], [t for p in prepared for t in p], [None], keep), prepared, specs)
            g = grads[0] if isinstance(argnums, int) else tuple(grads)
            value = out if keep else out.detach()
            if has_aux:
                return g, (value, _detach_tree(aux, keep))
            return g, value

    return wrapper


def grad(func, argnums=0, has_aux=False):
    """The gradient of func (returning a scalar Tensor) with respect to its arguments argnums, as a function
    of the same arguments; with has_aux, (gradient, aux)."""
    gv = grad_and_value(func, argnums, has_aux)

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        g, value = gv(*args, **kwargs)
        return (g, value[1]) if has_aux else g

    return wrapper


# ---- vjp, jvp ----

def vjp(func, *primals, has_aux=False):
    """(func(*primals), vjp_fn): vjp_fn(cotangents) returns the tuple of the cotangents' products with the
    Jacobian, one per primal (cotangents shaped as func's output); with has_aux, (output, vjp_fn, aux)."""
    name = "vjp"
    with _Level():
        args, prepared, specs, keep_out = _prepare_args(primals, range(len(primals)), name)
        out, aux = _split_aux(func(*args), has_aux, "vjp(f, *primals)")
        out_leaves, out_spec = tree_flatten(out)
        for o in out_leaves:
            if not isinstance(o, Tensor):
                raise RuntimeError(f"vjp(f, *primals): Expected f to be a function that has only Tensor outputs, "
                                   f"got {type(o).__name__}")

    def vjp_fn(cotangents):
        ct_leaves, ct_spec = tree_flatten(cotangents)
        if len(ct_leaves) != len(out_leaves):
            raise RuntimeError(f"Expected pytree structure of cotangents to be the same as pytree structure of "
                               f"outputs to the function ({len(out_leaves)} tensors), got {len(ct_leaves)}")
        for o, c in zip(out_leaves, ct_leaves):
            if not isinstance(c, Tensor) or tuple(c.shape) != tuple(o.shape):
                raise RuntimeError(f"vjp: expected a cotangent of shape {list(o.shape)}, got "
                                   f"{list(c.shape) if isinstance(c, Tensor) else type(c).__name__}")
        with _Level():
            keep = keep_out or _depth[0] > 1 or any(c.requires_grad for c in ct_leaves)
            gs = _grad_of(out_leaves, [t for p in prepared for t in p], ct_leaves, keep)
        return tuple(_regroup(gs, prepared, specs))

    value = _detach_tree(out, keep_out)
    return (value, vjp_fn, _detach_tree(aux, keep_out)) if has_aux else (value, vjp_fn)


def jvp(func, primals, tangents, *, strict=False, has_aux=False):
    """(func(*primals), J · tangents): the directional derivative of func at primals along tangents (tuples
    of the same structure), computed as the derivative of a vector-Jacobian product (func must be twice
    differentiable); with has_aux, (output, jvp_out, aux)."""
    if not isinstance(primals, (tuple, list)) or not isinstance(tangents, (tuple, list)):
        raise RuntimeError("jvp(f, primals, tangents): Expected primals and tangents to be tuples")
    p_leaves, p_spec = tree_flatten(tuple(primals))
    t_leaves, t_spec = tree_flatten(tuple(tangents))
    if len(p_leaves) != len(t_leaves):
        raise RuntimeError("jvp(f, primals, tangents): Expected primals and tangents to have the same python "
                           "structure")
    for p, t in zip(p_leaves, t_leaves):
        if not isinstance(t, Tensor) or tuple(t.shape) != tuple(p.shape):
            raise RuntimeError("jvp(f, primals, tangents): Expected primals and tangents to have the same shape, "
                               f"got {list(p.shape)} and "
                               f"{list(t.shape) if isinstance(t, Tensor) else type(t).__name__}")
    with _Level():
        keep = _keep_graph(p_leaves + t_leaves)
        prepared = [_prepare(t, "jvp") for t in p_leaves]
        out, aux = _split_aux(func(*tree_unflatten(prepared, p_spec)), has_aux, "jvp(f, primals, tangents)")
        out_leaves, out_spec = tree_flatten(out)
        us = [_zeros_like(o).requires_grad_(True) for o in out_leaves]
        from .autograd import grad as _grad
        pairs = [(o, u) for o, u in zip(out_leaves, us) if o.requires_grad]
        if pairs:
            g = _grad([o for o, _ in pairs], prepared, [u for _, u in pairs], retain_graph=True, create_graph=True,
                      allow_unused=True)
        else:
            g = [None] * len(prepared)
        gp = [(gi, t) for gi, t in zip(g, t_leaves) if gi is not None and gi.requires_grad]
        if gp:
            jv = _grad([gi for gi, _ in gp], us, [t for _, t in gp], retain_graph=True, create_graph=keep,
                       allow_unused=True)
        else:
            jv = [None] * len(us)
        jv = [_zeros_like(o) if j is None else (j if keep else j.detach()) for o, j in zip(out_leaves, jv)]
        value = _detach_tree(out, keep)
        res = tree_unflatten(jv, out_spec)
    return (value, res, _detach_tree(aux, keep)) if has_aux else (value, res)


# ---- Jacobians, Hessian ----

def jacrev(func, argnums=0, *, has_aux=False, chunk_size=None):
    """The Jacobian of func with respect to the arguments argnums, one backward per output element: for
    each output leaf a tensor of shape output.shape + input.shape (a tuple over argnums when it is a tuple;
    input pytrees keep their structure)."""
    name = "jacrev"

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        nums = _argnums_tuple(argnums, len(args), name)
        with _Level():
            args, prepared, specs, keep = _prepare_args(args, nums, name)
            out, aux = _split_aux(func(*args, **kwargs), has_aux, f"{name}(f)(*args)")
            out_leaves, out_spec = tree_flatten(out)
            flat_in = [t for p in prepared for t in p]
            jac_leaves = []
            for o in out_leaves:
                if not isinstance(o, Tensor):
                    raise RuntimeError(f"{name}(f): Expected f to return Tensors, got {type(o).__name__}")
                flat = o.reshape(-1)
                rows = [[] for _ in flat_in]
                for k in range(flat.numel()):
                    gs = _grad_of([flat[k]], flat_in, [None], keep)
                    for j, g in enumerate(gs):
                        rows[j].append(g)
                per_in = []
                for j, i in enumerate(flat_in):
                    shape = tuple(o.shape) + tuple(i.shape)
                    if rows[j]:
                        m = _C.stack(rows[j], 0).reshape(shape)
                    else:
                        from ._factories import zeros
                        m = zeros(shape, dtype=i.dtype, device=i.device)
                    per_in.append(m)
                grads = _regroup(per_in, prepared, specs)
                jac_leaves.append(grads[0] if isinstance(argnums, int) else tuple(grads))
            res = tree_unflatten(jac_leaves, out_spec)
            if has_aux:
                return res, _detach_tree(aux, keep)
            return res

    return wrapper


def jacfwd(func, argnums=0, has_aux=False, *, randomness="error"):
    """The Jacobian as jacrev gives it (computed in reverse mode here)."""
    return jacrev(func, argnums, has_aux=has_aux)


def hessian(func, argnums=0):
    """The Hessian of a scalar function with respect to argnums: jacfwd(jacrev(func))."""
    return jacfwd(jacrev(func, argnums), argnums)


# ---- vmap ----

def _rng_states():
    devs = ["cpu"]
    from . import cuda
    if cuda.is_available():
        devs.append("cuda")
    return {d: _C._get_rng_state(d) for d in devs}


def _set_rng_states(states):
    for d, (seed, offset) in states.items():
        _C._set_rng_state(d, seed, offset)


def _fname(func):
    return getattr(func, "__name__", type(func).__name__)


def vmap(func, in_dims=0, out_dims=0, randomness="error", *, chunk_size=None):
    """func mapped over a dimension of its inputs: in_dims (an int or None per argument, or a pytree of them
    matching the arguments) says which dimension of each input is mapped (None: the same value for every
    index), out_dims where the mapped dimension goes in each output. Runs func once per index and stacks the
    results."""
    if randomness not in ("error", "different", "same"):
        raise RuntimeError(f"Only allowed values for randomness are 'error', 'different', or 'same'. Got "
                           f"{randomness}")

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        fname = _fname(func)
        dims = in_dims
        if isinstance(dims, (int, type(None))):
            dims = (dims,) * len(args)
        elif isinstance(dims, list):
            dims = tuple(dims)
        if not isinstance(dims, tuple) or len(dims) != len(args):
            raise ValueError(f"vmap({fname}, in_dims={in_dims}, ...)(<inputs>): expected one in_dim per "
                             f"positional input ({len(args)}), got {in_dims}")
        # one (leaf, dim) pair per tensor of the arguments
        leaves, spec = tree_flatten(tuple(args))
        leaf_dims = []
        for a, d in zip(args, dims):
            a_leaves, a_spec = tree_flatten(a)
            if isinstance(d, (int, type(None))):
                leaf_dims += [d] * len(a_leaves)
            else:
                d_leaves, _ = tree_flatten(d)
                if len(d_leaves) != len(a_leaves):
                    raise ValueError(f"vmap({fname}, in_dims={in_dims}, ...)(<inputs>): in_dims is not compatible "
                                     "with the structure of inputs")
                leaf_dims += d_leaves
        size = None
        sizes = []
        for t, d in zip(leaves, leaf_dims):
            if d is None:
                continue
            if not isinstance(t, Tensor):
                raise ValueError(f"vmap({fname}, in_dims={in_dims}, ...)(<inputs>): Got in_dim={d} for an input "
                                 f"but the input is of type {type(t)}. We cannot vmap over non-Tensor arguments, "
                                 "please use None as the respective in_dim")
            if not isinstance(d, int) or not -max(t.dim(), 1) <= d < max(t.dim(), 1) or t.dim() == 0:
                raise ValueError(f"vmap({fname}, in_dims={in_dims}, ...)(<inputs>): Got in_dim={d} for some input, "
                                 f"but that input is a Tensor of dimensionality {t.dim()} so expected in_dim to "
                                 f"satisfy -{t.dim()} <= in_dim < {t.dim()}.")
            sizes.append(t.shape[d])
        if not sizes:
            raise ValueError(f"vmap({fname}, in_dims={in_dims}, ...)(<inputs>): at least one input must be a "
                             "Tensor mapped over (an in_dim that is not None)")
        if len(set(sizes)) != 1:
            raise ValueError(f"vmap: Expected all tensors to have the same size in the mapped dimension, got sizes "
                             f"{sizes} for the mapped dimension")
        size = sizes[0]

        def call(b):
            sl = []
            for t, d in zip(leaves, leaf_dims):
                if d is None:
                    sl.append(t)
                elif b is None:  # an empty map: a zero slice shows func's output structure
                    shape = list(t.shape)
                    del shape[d % t.dim()]
                    from ._factories import zeros
                    sl.append(zeros(tuple(shape), dtype=t.dtype, device=t.device))
                else:
                    sl.append(t.select(d, b))
            return func(*tree_unflatten(sl, spec), **kwargs)

        results = []
        start = _rng_states()
        for b in range(size):
            if randomness == "same":
                _set_rng_states(start)
            before = _rng_states() if randomness == "error" else None
            results.append(call(b))
            if before is not None and _rng_states() != before:
                _set_rng_states(before)
                raise RuntimeError("vmap: called random operation while in randomness error mode. Please either "
                                   "use the 'same' or 'different' randomness flags on vmap or perform the "
                                   "randomness operation out of vmap")
        empty = size == 0
        if empty:
            state = _rng_states()
            results = [call(None)]
            _set_rng_states(state)
        flat_results = [tree_flatten(r) for r in results]
        out_spec = flat_results[0][1]
        n_out = len(flat_results[0][0])
        odims = out_dims
        if isinstance(odims, (int, type(None))):
            odims = [odims] * n_out
        else:
            odims, _ = tree_flatten(odims)
            if len(odims) != n_out:
                raise ValueError(f"vmap({fname}, ..., out_dims={out_dims})(<inputs>): out_dims is not compatible "
                                 "with the structure of outputs")
        outs = []
        for j in range(n_out):
            vals = [fr[0][j] for fr in flat_results]
            od = odims[j]
            if od is None:
                outs.append(vals[0])
                continue
            if not isinstance(vals[0], Tensor):
                raise ValueError(f"vmap({fname}, ...): `{fname}` must only return Tensors, got type "
                                 f"{type(vals[0])}. Did you mean to set out_dims= to None for output?")
            nd = vals[0].dim() + 1
            if not -nd <= od < nd:
                raise ValueError(f"vmap: out_dim {od} is out of range for an output of {nd} dimensions")
            if empty:
                v = vals[0].unsqueeze(od % nd)
                outs.append(v.narrow(od % nd, 0, 0))
            else:
                outs.append(_C.stack(vals, od % nd))
        return tree_unflatten(outs, out_spec)

    return wrapper


# ---- modules as functions ----

def functional_call(module, parameter_and_buffer_dicts, args=None, kwargs=None, *, tie_weights=True, strict=False):
    """module(*args, **kwargs) with the given parameters and buffers in place of its own (a dict, or a
    tuple of dicts merged in order)."""
    from .nn.utils.stateless import functional_call as _fc
    d = parameter_and_buffer_dicts
    if isinstance(d, (tuple, list)):
        merged = {}
        for part in d:
            for k, v in part.items():
                if k in merged:
                    raise ValueError(f"functional_call: {k} appeared in multiple dictionaries; behavior of "
                                     "functional call is ambiguous")
                merged[k] = v
        d = merged
    return _fc(module, d, args, kwargs, tie_weights=tie_weights, strict=strict)


def stack_module_state(models):
    """(params, buffers): each name's tensors of the given modules (same class and shapes) stacked along a
    new first dimension, the parameters as new leaves that require grad (for vmap over an ensemble)."""
    models = list(models)
    if not models:
        raise RuntimeError("stack_module_state: Expected at least one model, got 0.")
    if not (all(m.training for m in models) or all(not m.training for m in models)):
        raise RuntimeError("stack_module_state: Expected all models to have the same training/eval mode.")
    first = type(models[0])
    if not all(type(m) is first for m in models):
        raise RuntimeError("stack_module_state: Expected all models to be of the same class.")
    params = {}
    for name, _ in models[0].named_parameters():
        ps = [dict(m.named_parameters())[name] for m in models]
        params[name] = _C.stack([p.detach() for p in ps], 0).requires_grad_(any(p.requires_grad for p in ps))
    buffers = {}
    for name, _ in models[0].named_buffers():
        buffers[name] = _C.stack([dict(m.named_buffers())[name] for m in models], 0)
    return params, buffers
