"""Generates tests/data/torch_functions.json, PyTorch's side of tests/python/test_functions_torch.py.

Run once with a Python that has torch (the PyPI wheel: benchmarks' /opt/torchpypi venv):

    /opt/torchpypi/bin/python tests/data/make_function_fixtures.py

Each case names a function (``kron`` is torch.kron / loom.kron, ``Tensor.rot90`` the method), its
arguments (tensors, numbers, lists, tuples) and keyword arguments, and stores the result (values, dtype,
shape) and, where the result is floating, the gradients of sum(result * weights) to every float64 argument.
A method whose name ends in ``_`` runs on a copy of its first argument (so in-place ops run on a non-leaf
and the gradient reaches the original).
"""
import math

import mpmath
import torch
from _fixtures import t2j, write  # noqa: E402  (tests/data/_fixtures.py)

torch.manual_seed(0)
torch.set_default_dtype(torch.float64)

cases = []


def enc(v):
    if isinstance(v, torch.Tensor):
        return {"tensor": t2j(v.detach())}
    if isinstance(v, tuple):
        return {"tuple": [enc(x) for x in v]}
    if isinstance(v, list):
        return [enc(x) for x in v]
    if isinstance(v, torch.dtype):
        return {"dtype": str(v).replace("torch.", "")}
    return v


def resolve(fn):
    if fn.startswith("Tensor."):
        return getattr(torch.Tensor, fn[len("Tensor."):])
    obj = torch
    for part in fn.split("."):
        obj = getattr(obj, part)
    return obj


def case(fn, *args, grad=True, **kwargs):
    f = resolve(fn)
    targs = [a.clone().requires_grad_(grad and a.dtype == torch.float64) if isinstance(a, torch.Tensor) else a
             for a in args]
    call_args = list(targs)
    if fn.endswith("_") and isinstance(call_args[0], torch.Tensor):
        call_args[0] = call_args[0] * 1 if call_args[0].requires_grad else call_args[0].clone()
    out = f(*call_args, **kwargs)
    outs = out if isinstance(out, (tuple, list)) else (out,)
    diff = [o for o in outs if isinstance(o, torch.Tensor) and o.requires_grad]
    leaves = [a for a in targs if isinstance(a, torch.Tensor) and a.requires_grad]
    grads = []
    ws = []
    if diff and leaves:
        ws = [torch.randn_like(o) for o in diff]
        loss = sum((o * w).sum() for o, w in zip(diff, ws))
        grads = torch.autograd.grad(loss, leaves, allow_unused=True)
        grads = [t2j(torch.zeros(g.shape, dtype=g.dtype).copy_(g)) if g is not None else None for g in grads]
    cases.append({"fn": fn, "args": [enc(a) for a in args], "kwargs": {k: enc(v) for k, v in kwargs.items()},
                  "out": enc(out if not isinstance(out, list) else tuple(out)), "weights": [t2j(w) for w in ws],
                  "grads": grads})


r = torch.randn
# ---- pointwise ----
a, b = r(3, 4), r(3, 4)
case("logaddexp", a, b)
case("logaddexp", torch.tensor([0.0, 1.0, -math.inf, 5.0]), torch.tensor([0.0, -math.inf, -math.inf, 5.0]), grad=False)
case("logaddexp", r(2, 1), r(3), )
case("logaddexp2", a, b)
case("xlogy", torch.tensor([0.0, 2.0, 0.0, 1.5]), torch.tensor([-1.0, 3.0, 2.0, 0.5]))
case("xlogy", torch.tensor([0.0, 0.0]), torch.tensor([0.0, math.inf]), grad=False)  # grads at 0, 0: see the test
case("xlogy", torch.tensor([0.0, 1.0]), torch.tensor([math.nan, 2.0]), grad=False)
case("xlogy", 2.0, torch.tensor([1.0, 3.0]))
case("special.xlog1py", torch.tensor([0.0, 2.0, 0.0]), torch.tensor([-2.0, 3.0, 2.0]))
case("special.xlog1py", torch.tensor([0.0, 1.0]), torch.tensor([-1.0, -1.0]), grad=False)
case("float_power", torch.tensor([1, 2, 3]), 2)
case("float_power", a.abs(), b)
case("copysign", a, b)
case("copysign", torch.tensor([1, -2]), torch.tensor([-0.0, 1.0], dtype=torch.float32))
case("signbit", torch.tensor([-0.0, 0.0, -1.0, 2.0]))
case("signbit", torch.tensor([-1, 0, 3]))
case("sgn", a)
case("fmax", torch.tensor([1.0, math.nan, 3.0, math.nan]), torch.tensor([math.nan, 2.0, 1.0, math.nan]), grad=False)
case("fmin", a, b)
case("fmax", torch.tensor([1, 5]), torch.tensor([3, 2]))
case("sinc", torch.tensor([0.0, 0.5, -1.25, 3.0]))
case("asinh", torch.tensor([0.0, -2.0, 1e-3, 40.0]))
case("acosh", torch.tensor([1.5, 2.0, 30.0]))
case("atanh", torch.tensor([0.0, 0.5, -0.9]))
case("Tensor.arcsinh", torch.tensor([0.25, -3.0]))
case("fix", torch.tensor([-1.5, 2.7]))
# ---- in-place ----
for name in ["abs_", "sqrt_", "sigmoid_", "tanh_", "sin_", "cos_", "exp2_", "log1p_", "rsqrt_", "reciprocal_", "square_",
             "erf_", "atan_", "floor_", "trunc_", "sinh_", "expm1_", "log_"]:
    case("Tensor." + name, torch.rand(2, 3) + 0.5)
case("Tensor.cumprod_", r(4), 0)
case("Tensor.cumsum_", r(2, 3), 1)
case("Tensor.tril_", r(3, 3))
case("Tensor.clamp_min_", r(5), 0.1)
case("Tensor.clamp_max_", r(5), 0.1)
case("Tensor.lerp_", r(3), r(3), 0.3)
case("Tensor.addcmul_", r(3), r(3), r(3), value=0.5)
case("Tensor.addcdiv_", r(3), r(3), torch.rand(3) + 1, value=2.0)
case("Tensor.addmm_", r(2, 2), r(2, 3), r(3, 2), beta=0.5, alpha=2.0)
case("Tensor.hypot_", r(3), r(3))
case("Tensor.atan2_", r(3), r(3))
case("Tensor.xlogy_", torch.rand(3), torch.rand(3) + 0.1)
case("Tensor.eq_", torch.tensor([1.0, 2.0, 3.0]), torch.tensor([1.0, 0.0, 3.0]), grad=False)
case("Tensor.lt_", torch.tensor([1.0, 2.0, 3.0]), 2.5, grad=False)
case("Tensor.index_add_", torch.zeros(4, 2), 0, torch.tensor([0, 2, 0]), r(3, 2))
case("Tensor.fill_diagonal_", torch.zeros(5, 3), 2.0, wrap=True, grad=False)
case("Tensor.fill_diagonal_", torch.zeros(3, 3, 3), 1.0, grad=False)
case("Tensor.unfold", r(2, 7), 1, 3, 2)
case("Tensor.unfold", r(5), 0, 5, 1)
# ---- reductions ----
nanx = torch.tensor([[1.0, math.nan, 2.0], [math.nan, math.nan, 4.0]])
case("nansum", nanx)
case("nansum", nanx, 1, keepdim=True)
case("nanmean", nanx, 1)
case("nanmean", nanx, 0, grad=False)  # an all-NaN column: PyTorch's gradient is NaN there, loom's 0
case("nanmean", r(3, 2))
# ---- products ----
case("cross", r(4, 3), r(4, 3), dim=1)
case("cross", r(3, 2), r(3, 2), dim=0)
case("linalg.cross", r(2, 3), r(1, 3))
case("kron", r(2, 3), r(3, 2))
case("kron", r(2), r(2, 2, 2))
case("tensordot", r(2, 3, 4), r(3, 4, 5))
case("tensordot", r(2, 3, 4), r(4, 3, 5), dims=([1, 2], [1, 0]))
case("tensordot", r(2, 3), r(4, 5), dims=0)
case("inner", r(2, 3), r(4, 3))
case("inner", r(3), r(3))
case("addmv", r(2), r(2, 3), r(3), beta=0.5, alpha=2.0)
case("addr", r(2, 3), r(2), r(3))
case("addbmm", r(2, 5), r(3, 2, 4), r(3, 4, 5), alpha=0.5)
case("addmv", torch.tensor([math.nan, math.inf]), r(2, 3), r(3), beta=0, grad=False)
case("chain_matmul", r(2, 3), r(3, 4), r(4, 2))
# ---- distances ----
case("cdist", r(4, 3), r(5, 3))
case("cdist", r(2, 4, 3), r(2, 5, 3), p=1.0)
case("cdist", r(30, 3), r(6, 3))
case("cdist", r(3, 2), r(4, 2), p=math.inf)
case("cdist", r(3, 4), r(2, 4), p=0.5)
case("cdist", r(3, 4), r(2, 4), compute_mode="use_mm_for_euclid_dist")
case("cdist", torch.tensor([[0.0, 1.0], [2.0, 2.0]]), torch.tensor([[0.0, 1.0]]))
# ---- statistics ----
obs = r(3, 6)
case("cov", obs)
case("cov", obs, correction=0)
case("cov", obs, fweights=torch.tensor([1, 2, 1, 3, 1, 1]), aweights=torch.rand(6))
case("cov", r(5))
case("corrcoef", obs)
case("bincount", torch.tensor([0, 1, 1, 3, 1]))
case("bincount", torch.tensor([0, 1, 1]), weights=torch.tensor([0.5, 1.0, 2.0]), minlength=5, grad=False)
case("bincount", torch.tensor([2, 0]), weights=torch.tensor([1, 2]))
case("histc", torch.tensor([1.0, 2.0, 1.0, 2.5, 7.0]), bins=4, min=0, max=3)
case("histc", r(20), bins=5)
# ---- integration, vander, membership ----
case("trapezoid", r(3, 5))
case("trapezoid", r(3, 5), torch.tensor([0.0, 0.5, 1.5, 2.0, 4.0]))
case("trapezoid", r(4, 3), dx=0.5, dim=0)
case("trapz", r(5), r(5).cumsum(0))
case("cumulative_trapezoid", r(2, 4))
case("cumulative_trapezoid", r(4), torch.tensor([0.0, 1.0, 3.0, 4.0]))
case("vander", torch.tensor([1.0, 2.0, 3.0]), grad=False)  # PyTorch 2.15 cannot differentiate vander
case("vander", torch.tensor([1, 2, 3]), N=4, increasing=True)
case("isin", torch.tensor([[1, 2], [3, 4]]), torch.tensor([2, 4, 6]))
case("isin", torch.tensor([1.0, 2.5, math.nan]), torch.tensor([2.5, 3.0, math.nan]), invert=True)
case("isin", torch.tensor([1, 2, 3]), torch.tensor([2.5, 3.0]))
# ---- shapes ----
case("tensor_split", r(7, 2), 3)
case("tensor_split", r(2, 7), [1, 4, 9], dim=1)
case("tensor_split", r(5), torch.tensor([2, -1]))
case("hsplit", r(2, 6), 3)
case("hsplit", r(6), [2, 3])
case("vsplit", r(4, 2), 2)
case("dsplit", r(1, 2, 4), [1])
case("take", r(3, 4), torch.tensor([[0, 11], [-1, 5]]))
case("take_along_dim", r(3, 4), torch.tensor([[0], [3], [1]]), dim=1)
case("take_along_dim", r(3, 4), torch.tensor([0, 11, 5]))
case("take_along_dim", r(1, 4), torch.tensor([[0, 1], [2, 3], [3, 3]]), dim=1)
for k in (1, 2, 3, -1, 0):
    case("rot90", r(2, 3, 4), k, [1, 2])
case("rot90", r(2, 3), 1, [1, 0])
case("fliplr", r(2, 3))
case("flipud", r(3))
case("broadcast_tensors", r(2, 1), r(3), r(1, 1))
case("block_diag", r(2, 2), torch.tensor(3.0), r(3), r(2, 1))
case("block_diag", torch.tensor([[1, 2]]), torch.tensor([[1.5]], dtype=torch.float32))
case("cartesian_prod", torch.tensor([1, 2]), torch.tensor([3, 4, 5]))
case("cartesian_prod", r(2), r(3))
case("combinations", r(4))
case("combinations", r(3), r=3, with_replacement=True)
case("repeat_interleave", r(2, 3), 2)
case("repeat_interleave", r(2, 3), 2, dim=1)
case("repeat_interleave", r(3, 2), torch.tensor([1, 0, 2]), dim=0)
case("repeat_interleave", torch.tensor([2, 0, 3]))
case("repeat_interleave", r(2, 2), torch.tensor(3))
case("diag_embed", r(2, 3))
case("diag_embed", r(2, 3), 1, 0, 2)
case("diag_embed", r(3), -2)
case("diagflat", r(2, 2), 1)
case("argwhere", torch.tensor([[1, 0], [0, 3]]))
case("unravel_index", torch.tensor([4, 1, -1]), (2, 3))
case("tril_indices", 4, 3, 1)
case("triu_indices", 3, 5, -1)
case("ravel", r(2, 3).t())
case("swapdims", r(2, 3, 4), 0, 2)
case("row_stack", [r(3), r(2, 3)])
case("concatenate", [r(2), r(3)])
# ---- linalg ----
x, A = r(3, 4), r(2, 3, 3)
case("linalg.vector_norm", x)
case("linalg.vector_norm", x, 1, dim=1)
case("linalg.vector_norm", x, math.inf)
case("linalg.vector_norm", x, -math.inf, dim=0)
case("linalg.vector_norm", x, 0)
case("linalg.vector_norm", x, 3.5, (0, 1), keepdim=True)
case("linalg.vector_norm", x, -1.5, 1)
case("linalg.vector_norm", torch.tensor([[0.0, 0.0], [3.0, 4.0]]), dim=1)
case("linalg.vector_norm", torch.tensor([1, 2, 3]).float(), dtype=torch.float64)
case("linalg.matrix_norm", A)
case("linalg.matrix_norm", A, 1)
case("linalg.matrix_norm", A, -1)
case("linalg.matrix_norm", A, math.inf)
case("linalg.matrix_norm", A, -math.inf, keepdim=True)
case("linalg.matrix_norm", A, 1, dim=(0, 2))
case("linalg.norm", x)
case("linalg.norm", x, "fro")
case("linalg.norm", r(5), 3)
case("linalg.norm", x, math.inf)
case("linalg.norm", A, dim=(0, 1))
case("linalg.norm", A, 1, dim=1)
case("linalg.multi_dot", [r(2, 3), r(3, 4), r(4, 5)])
case("linalg.multi_dot", [r(3), r(3, 4), r(4, 1), r(1)])
case("linalg.multi_dot", [r(10, 2), r(2, 10), r(10, 3)])
case("linalg.vecdot", r(2, 3), r(3))
case("linalg.vecdot", r(3, 2), r(3, 2), dim=0)
for n in (0, 1, 3, 6):
    case("linalg.matrix_power", A, n)
case("linalg.diagonal", A, offset=1)
# ---- special ----
z = torch.tensor([-3.0, -0.5, 0.0, 0.25, 2.0])
case("special.expit", z)
case("special.logit", torch.tensor([0.0, 0.2, 0.9, 1.0]), eps=1e-3)
case("special.entr", torch.tensor([0.25, 0.5, 2.0]))
case("special.entr", torch.tensor([0.0, 0.5, -1.0]), grad=False)  # PyTorch's gradient: inf at 0, NaN below
case("special.ndtr", z)
case("special.log_ndtr", torch.tensor([-40.0, -21.0, -19.0, -5.0, -1.0, 0.0, 3.0, 10.0]))
case("special.log_ndtr", torch.tensor([-30.0, -8.0, 0.5], dtype=torch.float32))
case("special.erfc", z)
case("special.exp2", z)
case("special.expm1", z)
case("special.log1p", z.abs())
case("special.round", torch.tensor([1.2345, -2.5]), decimals=2)
case("special.sinc", z)
case("special.softmax", x, 1)
case("special.log_softmax", x, 0)
case("special.logsumexp", x, 1)
# ---- special functions (kernels) ----
g_in = torch.tensor([0.1, 0.5, 1.0, 1.5, 2.0, 3.7, 10.5, 25.0, 150.0, -0.5, -1.5, -2.25])
case("lgamma", g_in)
case("digamma", g_in)
case("polygamma", 1, g_in, grad=False)  # loom has no polygamma(2, x): trigamma is not differentiable
case("Tensor.polygamma", g_in, 1, grad=False)
case("special.polygamma", 0, g_in, grad=False)
case("lgamma", torch.tensor([0.0, -1.0, -2.0, math.inf, -math.inf, math.nan]), grad=False)
case("digamma", torch.tensor([0.0, -0.0, -1.0, -3.0, math.inf, math.nan, 1e-8, 1e17]), grad=False)
case("polygamma", 1, torch.tensor([0.0, math.inf, 1e-8, 1e9, -0.999]), grad=False)  # at -1 loom: inf
case("erfinv", torch.tensor([-0.999999, -0.9, -0.5, -0.1, 0.0, 0.3, 0.7, 0.99, 0.9999999999]))
case("erfinv", torch.tensor([-1.0, 1.0, 1.5, -2.0, math.nan, 1 - 1e-10, -1 + 1e-11]), grad=False)
case("erfinv", torch.tensor([-0.9, -0.2, 0.0, 0.5, 0.999], dtype=torch.float32))
case("digamma", torch.tensor([0.5, 2.5, 7.0], dtype=torch.float32))
case("Tensor.lgamma_", torch.rand(4) + 0.5)
case("Tensor.erfinv_", torch.rand(4) * 1.8 - 0.9)
# Bessel functions I0 / I1 (both sides of the series / asymptotic switch at 30), erfcx, incomplete gamma
bes_in = torch.tensor([-50.0, -30.5, -30.0, -29.9, -5.0, -1.0, -1e-5, 0.0, 1e-5, 0.5, 1.0, 2.0, 15.0, 29.99, 30.0,
                       30.01, 45.0, 100.0, 700.0])
for fn in ("i0", "special.i0", "special.i0e", "special.i1", "special.i1e", "special.modified_bessel_i0",
           "special.modified_bessel_i1"):
    case(fn, bes_in)
case("special.i0e", torch.tensor([math.inf, -math.inf, math.nan, 1e5, -1e300]), grad=False)
case("special.i1e", torch.tensor([math.inf, -math.inf, math.nan, 1e5, -1e300]), grad=False)
case("special.i1", torch.tensor([-3.0, 0.25, 4.0], dtype=torch.float32))
case("Tensor.i0_", torch.tensor([0.5, -2.0, 7.0]))
case("special.erfcx", torch.tensor([-26.0, -10.0, -3.0, -1.0, -1e-8, 0.0, 1e-8, 0.5, 1.0, 5.0, 11.9, 12.0, 12.1,
                                    26.0, 27.0, 50.0, 1e3]))
case("special.erfcx", torch.tensor([-27.0, -math.inf, math.inf, math.nan, 1e10, 1e200]), grad=False)
case("special.erfcx", torch.tensor([-2.0, 0.3, 20.0], dtype=torch.float32))
ga = torch.tensor([1e-3, 0.1, 0.5, 1.0, 2.5, 10.0, 50.0, 200.0, 1000.0, 5000.0]).unsqueeze(1)
gx = torch.tensor([1e-4, 0.01, 0.5, 1.0, 3.0, 9.9, 10.0, 11.0, 49.0, 50.0, 51.0, 180.0, 220.0, 950.0, 1050.0,
                   4900.0, 5100.0, 1e5])
case("special.gammainc", ga, gx, grad=False)
case("special.gammaincc", ga, gx, grad=False)
edge_a = torch.tensor([0.0, 0.0, 0.0, 1.0, 1.0, -1.0, 2.0, math.inf, 2.0, math.nan, 3.0])
edge_x = torch.tensor([0.0, 1.0, math.inf, 0.0, math.inf, 1.0, -1.0, 1.0, math.inf, 1.0, math.nan])
case("special.gammainc", edge_a, edge_x, grad=False)
case("special.gammaincc", edge_a, edge_x, grad=False)
# the gradient in x (a float32 a takes none: PyTorch has no derivative for it)
case("special.gammainc", torch.tensor([0.5, 1.0, 2.5, 30.0], dtype=torch.float32), torch.tensor([0.3, 2.0, 1.5, 28.0]))
case("special.gammaincc", torch.tensor([0.5, 1.0, 2.5, 30.0], dtype=torch.float32), torch.tensor([0.3, 2.0, 1.5, 28.0]))
case("special.gammainc", torch.tensor([0.7, 4.0], dtype=torch.float32), torch.tensor([1.1, 2.0], dtype=torch.float32))
case("igamma", torch.tensor([2.0, 5.0]), torch.tensor([1.0, 7.5]), grad=False)
case("igammac", torch.tensor([2.0, 5.0]), torch.tensor([1.0, 7.5]), grad=False)
case("Tensor.igamma", torch.tensor([2.0, 5.0]), torch.tensor([1.0, 7.5]), grad=False)
case("Tensor.igammac_", torch.tensor([2.0, 5.0]), torch.tensor([1.0, 7.5]), grad=False)
case("kaiser_window", 9, dtype=torch.float64, grad=False)
case("kaiser_window", 8, False, 5.5, dtype=torch.float64, grad=False)
case("kaiser_window", 16, True, 30.0, dtype=torch.float32, grad=False)
case("kaiser_window", 1, dtype=torch.float64, grad=False)
v3 = torch.rand(2, 3, 4, 6, 5) + 0.1
case("nn.functional.lp_pool3d", v3, 2.0, 2)
case("nn.functional.lp_pool3d", v3, 3.0, (2, 3, 2), (1, 2, 2), True)
pooled, where = torch.nn.functional.max_pool3d(r(2, 2, 4, 6, 4), 2, return_indices=True)
case("nn.functional.max_unpool3d", pooled, where, 2)
case("nn.functional.max_unpool3d", pooled, where, 2, output_size=(5, 7, 5))
pooled, where = torch.nn.functional.max_pool3d(r(2, 5, 7, 6), (2, 3, 2), (2, 2, 2), 1, return_indices=True)
case("nn.functional.max_unpool3d", pooled, where, (2, 3, 2), (2, 2, 2), 1, output_size=(5, 7, 6))
# shifts: negative amounts and amounts past the width, int32 and int64, numbers on either side
sh_a = torch.tensor([1, -8, 3, 2 ** 62, -2 ** 63, 0, 7, -1, 12345])
sh_b = torch.tensor([1, 2, 64, 1, 63, 70, -1, 40, 5])
case("bitwise_left_shift", sh_a, sh_b)
case("bitwise_right_shift", sh_a, sh_b)
case("bitwise_left_shift", torch.tensor([1, -8, 3, 2 ** 30, -2 ** 31, 7, -1], dtype=torch.int32),
     torch.tensor([1, 2, 32, 1, 31, -1, 40], dtype=torch.int32))
case("bitwise_right_shift", torch.tensor([1, -8, 3, 2 ** 30, -2 ** 31, 7, -1], dtype=torch.int32),
     torch.tensor([1, 2, 32, 1, 31, -1, 40], dtype=torch.int32))
case("Tensor.__lshift__", sh_a, 3)
case("Tensor.__rshift__", torch.tensor([[-100], [100]], dtype=torch.int32), torch.tensor([0, 3, 31, 33], dtype=torch.int32))
case("Tensor.__rlshift__", sh_b, 5)
case("Tensor.__rrshift__", torch.tensor([1, 2, 3], dtype=torch.int32), -64)
case("Tensor.bitwise_left_shift_", torch.tensor([1, 2, 3]), torch.tensor([4, 70, -2]))
case("bitwise_left_shift", torch.tensor([True, False]), 3)
# J0, J1, Y0, Y1, K0, K1: PyTorch 2.15's gradients (x > 0 for Y and K; 0 included for J)
case("special.bessel_j0", torch.tensor([-9.0, -2.0, 0.0, 0.3, 2.4048, 5.0, 8.5, 40.0]))
case("special.bessel_j1", torch.tensor([-9.0, -2.0, 0.0, 0.3, 3.8317, 5.0, 8.5, 40.0]))
case("special.bessel_y0", torch.tensor([0.01, 0.3, 0.8936, 2.0, 5.0, 8.5, 40.0]))
case("special.bessel_y1", torch.tensor([0.01, 0.3, 2.1971, 5.0, 8.5, 40.0]))
case("special.modified_bessel_k0", torch.tensor([0.01, 0.3, 1.0, 2.0, 5.0, 30.0]))
case("special.modified_bessel_k1", torch.tensor([0.01, 0.3, 1.0, 2.0, 5.0, 30.0]))
case("special.bessel_j0", torch.tensor([0.5, 3.0, 12.0], dtype=torch.float32))
case("special.gammaln", g_in)
case("special.multigammaln", torch.tensor([2.5, 4.0, 7.25]), 3)
case("mvlgamma", torch.tensor([[1.5, 2.0], [3.0, 9.5]]), 2)
case("special.ndtri", torch.tensor([0.01, 0.3, 0.5, 0.9, 0.999999]))
case("special.psi", torch.tensor([0.7, 3.3]))

# ---- order statistics, scatters, the rest ----
qx = r(3, 5)
case("quantile", qx, 0.3)
case("quantile", qx, torch.tensor([0.0, 0.25, 0.9, 1.0]), dim=1, keepdim=True)
for interp in ("lower", "higher", "midpoint", "nearest"):
    case("quantile", qx, torch.tensor([0.1, 0.5, 0.75]), dim=0, interpolation=interp)
case("quantile", torch.tensor([[1.0, math.nan, 3.0], [4.0, 5.0, 6.0]]), 0.5, dim=1, grad=False)
case("nanquantile", torch.tensor([[1.0, math.nan, 3.0, 7.0], [math.nan] * 4, [2.0, 4.0, 6.0, 8.0]]),
     torch.tensor([0.2, 0.5]), dim=1, grad=False)
case("nanquantile", qx, 0.6, dim=1)
case("nanmedian", torch.tensor([[1.0, math.nan, 3.0, 7.0], [math.nan, 2.0, math.nan, 9.0]]), 1, grad=False)
case("nanmedian", torch.tensor([3.0, math.nan, 1.0, 2.0]), grad=False)
case("mode", torch.tensor([[1, 2, 2, 3, 3], [5, 5, 1, 1, 0]]), 1)
case("mode", torch.tensor([[1.0, 2.0], [1.0, 3.0], [4.0, 3.0]]), 0, keepdim=True)
case("index_put", r(4, 3), (torch.tensor([0, 2, 0]),), r(3, 3), accumulate=True)
case("index_put", r(3, 4), (torch.tensor([0, 2]), torch.tensor([1, 3])), r(2))
case("Tensor.index_put_", r(3, 4), (torch.tensor([1, 1]), torch.tensor([0, 0])), torch.tensor([2.0, 5.0]),
     accumulate=True)
case("masked_scatter", r(2, 3), torch.tensor([[True, False, True], [False, True, False]]), r(5))
case("masked_scatter", r(3, 2), torch.tensor([True, False]), r(3, 2))
case("index_reduce", r(4, 2), 0, torch.tensor([0, 3, 0]), r(3, 2), "amax")
case("index_reduce", r(4, 2), 0, torch.tensor([1, 1, 2]), r(3, 2) + 2, "prod", include_self=False)
case("index_reduce", r(2, 4), 1, torch.tensor([3, 0, 3]), r(2, 3), "mean")
case("diagonal_scatter", r(3, 4), r(3), 1, grad=False)
case("diagonal_scatter", r(2, 3, 3), r(2, 2), -1, 1, 2)
case("select_scatter", r(3, 4), r(4), 0, 1)
case("slice_scatter", r(5, 3), r(2, 3), 0, 1, 5, 2)
case("Tensor.put_", r(2, 3), torch.tensor([0, 5, -1]), r(3), accumulate=True)
case("renorm", r(3, 4) * 3, 2, 0, 1.5)
case("renorm", r(3, 4) * 3, 1, 1, 0.5)
case("Tensor.sum_to_size", r(2, 3, 4), 3, 1)
case("Tensor.split_with_sizes", r(5, 2), [2, 3])
case("gcd", torch.tensor([12, -18, 0, 7, 0]), torch.tensor([8, 12, 5, 0, 0]))
case("lcm", torch.tensor([4, -6, 0, 7]), torch.tensor([6, 4, 3, 5]))
case("ldexp", r(4), torch.tensor([1, -2, 3, 0]))
case("angle", torch.tensor([-2.0, 0.0, 3.0]), grad=False)
case("Tensor.adjoint", r(2, 3))

# ---- dtypes (with loom's default dtype, float32, for Python floats) ----
torch.set_default_dtype(torch.float32)
case("result_type", torch.tensor([1, 2]), 2.5)
case("result_type", torch.tensor(1.0, dtype=torch.float64), torch.tensor([1], dtype=torch.int32))
case("result_type", torch.tensor([True]), 3)
case("result_type", torch.tensor([1], dtype=torch.int32), torch.tensor(5, dtype=torch.int64))
case("promote_types", torch.int32, torch.float32)
case("promote_types", torch.bool, torch.int64)
case("can_cast", torch.float64, torch.int32)
case("can_cast", torch.int32, torch.float32)
case("lgamma", torch.tensor([1, 2, 5]), grad=False)  # integers give float32
# histograms and the floating-point decomposition
hx = torch.tensor([1.0, 2.0, 1.0, 4.0, 2.5, 7.0, -1.0])
case("histogram", hx, 3)
case("histogram", hx, 4, range=(0.0, 4.0), weight=torch.tensor([1.0, 2, 3, 4, 5, 6, 7]), density=True)
case("histogram", hx, torch.tensor([0.0, 1.5, 3.0, 10.0]))
case("histogram", r(4, 5).float(), 6, grad=False)
case("histogram", torch.ones(3), 2)
case("Tensor.histogram", hx, 2)
case("histogramdd", torch.tensor([[0.0, 1.0], [1.0, 0.0], [2.0, 0.0], [2.0, 2.0]]), bins=[3, 3])
case("histogramdd", r(2, 10, 3), bins=[2, 3, 4], range=[-1.0, 1.0, -2.0, 2.0, -0.5, 0.5], density=True, grad=False)
case("histogramdd", r(20, 2), bins=[torch.tensor([-2.0, 0.0, 0.5, 2.0]), torch.tensor([-1.0, 1.0])],
     weight=r(20).abs(), grad=False)
case("frexp", torch.tensor([0.0, -0.0, 1.0, 0.75, -3.5, math.inf, -math.inf, math.nan, 5e-324, 1.7976931348623157e308,
                            -2.0 ** -1022, 1024.0, 1023.9999999999999]))
case("frexp", torch.tensor([1e-45, 3e38, 2.0 ** -126, -0.3, 16777215.0], dtype=torch.float32), grad=False)
case("Tensor.frexp", r(3, 4) * 100)

# ---- torch.special's Bessel, Airy and orthogonal polynomial functions, at full precision ----
# tests/python/test_special_functions_torch.py compares loom with these to a few ulp where PyTorch is
# accurate (its own tolerances): every value keeps 17 digits (t2j rounds to 12). The gradients of the
# differentiable Bessel functions are ordinary cases above (PyTorch 2.15 differentiates J0, J1, Y0, Y1, K0,
# K1 and no other of these).
special = []


def full(t):
    return {"shape": list(t.shape), "dtype": str(t.dtype).replace("torch.", ""), "data": t.flatten().tolist()}


MP = {"bessel_j0": lambda x: mpmath.besselj(0, x), "bessel_j1": lambda x: mpmath.besselj(1, x),
      "bessel_y0": lambda x: mpmath.bessely(0, x) if x >= 0 else mpmath.nan,
      "bessel_y1": lambda x: mpmath.bessely(1, x) if x >= 0 else mpmath.nan,
      "modified_bessel_k0": lambda x: mpmath.besselk(0, x) if x >= 0 else mpmath.nan,
      "modified_bessel_k1": lambda x: mpmath.besselk(1, x) if x >= 0 else mpmath.nan,
      "scaled_modified_bessel_k0": lambda x: mpmath.besselk(0, x) * mpmath.exp(x) if x >= 0 else mpmath.nan,
      "scaled_modified_bessel_k1": lambda x: mpmath.besselk(1, x) * mpmath.exp(x) if x >= 0 else mpmath.nan,
      "spherical_bessel_j0": lambda x: mpmath.sin(x) / x if x else mpmath.mpf(1), "airy_ai": mpmath.airyai}


def exact(fn, x):
    """40-digit values of fn at the finite float64 x (NaN elsewhere): where PyTorch is not accurate (J0 near
    5.5: 2e-5 relative), loom is checked against these instead."""
    mpmath.mp.dps = 40
    return [float(MP[fn](mpmath.mpf(v))) if math.isfinite(v) and abs(v) < 1e4 else math.nan for v in x.tolist()]


def special_case(fn, *args):
    out = getattr(torch.special, fn)(*args)
    c = {"fn": fn, "args": [full(a) if isinstance(a, torch.Tensor) else a for a in args], "out": full(out)}
    if fn in MP and out.dtype == torch.float64:
        c["exact"] = exact(fn, args[0])
    special.append(c)


g = torch.Generator().manual_seed(5)
wide = torch.cat([torch.linspace(-30, 30, 121), torch.logspace(-8, 3, 34), -torch.logspace(-8, 3, 34),
                  torch.rand(100, generator=g) * 16 - 8, torch.tensor([0.0, -0.0, 1e-300, 5e-324, 7.9999, 8.0,
                                                                      8.0001, 1.9999, 2.0, 2.0001, 1.0, 1e4, 1e5])]).double()
edges = torch.tensor([math.inf, -math.inf, math.nan, 1e20, -1e20, 700.0, 705.0, 709.0, 710.0, 745.0, 1e300],
                     dtype=torch.float64)
for fn in ("bessel_j0", "bessel_j1", "bessel_y0", "bessel_y1", "modified_bessel_k0", "modified_bessel_k1",
           "scaled_modified_bessel_k0", "scaled_modified_bessel_k1", "spherical_bessel_j0", "airy_ai"):
    special_case(fn, wide)
    special_case(fn, wide.float())
    special_case(fn, edges)
    special_case(fn, torch.tensor([[0, 1, 3], [-2, 5, 7]]))  # integers give float32
special_case("airy_ai", torch.tensor([-103.0, -50.0, -10.0, -2.5, -2.0, -1.0, 0.5, 1.9, 2.0, 2.1, 5.0, 20.0, 103.0,
                                      103.89, 103.9, 110.0], dtype=torch.float64))
# the polynomials: x over a grid that holds the end points and beyond, n from -2 to 40 (a column:
# broadcasting), non-integer, NaN, infinite and huge degrees, large degrees where the trigonometric forms
# or the recurrences' NaN stop decide the value
xs = torch.cat([torch.linspace(-1.5, 1.5, 13), torch.tensor([-1.0, 1.0, 0.0, 0.5, 1e-20, -1e-20, 3.0, -7.0, 1e3,
                                                              math.inf, -math.inf, math.nan])]).double()
ns = torch.tensor([-2.0, -0.5, 0.0, 0.7, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.5, 20.0, 40.0,
                   math.nan, math.inf, -math.inf, 1e30], dtype=torch.float64).unsqueeze(1)
big_n = torch.tensor([100.0, 129.0, 300.0, 513.0, 2000.0], dtype=torch.float64).unsqueeze(1)
for fn in ("chebyshev_polynomial_t", "chebyshev_polynomial_u", "chebyshev_polynomial_v", "chebyshev_polynomial_w",
           "shifted_chebyshev_polynomial_t", "shifted_chebyshev_polynomial_u", "shifted_chebyshev_polynomial_v",
           "shifted_chebyshev_polynomial_w", "hermite_polynomial_h", "hermite_polynomial_he",
           "laguerre_polynomial_l", "legendre_polynomial_p"):
    special_case(fn, xs, ns)
    special_case(fn, xs, big_n)
    special_case(fn, xs.float(), ns.float())
    special_case(fn, xs, 3)  # a number on either side
    special_case(fn, 0.3, ns)
    special_case(fn, torch.tensor([2, -1, 0]), torch.tensor([3, 2, 5]))  # integers give float32
    special_case(fn, torch.tensor([0.25], dtype=torch.float32), torch.tensor([5.0], dtype=torch.float64))  # float64 from n

write("torch_functions.json", {"cases": cases, "special": special})
