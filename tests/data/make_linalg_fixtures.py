"""Generates tests/data/torch_linalg.json, PyTorch's side of tests/python/test_linalg_torch.py.

Run once with a Python that has torch (the PyPI wheel: benchmarks' /opt/torchpypi venv):

    /opt/torchpypi/bin/python tests/data/make_linalg_fixtures.py

Each case is a Python expression over ``lib`` (torch here, loom in the test) and named float64 inputs;
the fixture stores the inputs, the expression's result and the gradients of sum(result * weights) to every
input. Eigenvectors and singular vectors are compared through sign-invariant expressions (each column
multiplied by the sign of its sum), since LAPACK may pick either sign.
"""
import torch
from _fixtures import t2j, write  # noqa: E402  (tests/data/_fixtures.py)

torch.manual_seed(0)
torch.set_default_dtype(torch.float64)

cases = []


def case(expr, grad=True, **inputs):
    ins = {k: v.clone().requires_grad_(grad) for k, v in inputs.items()}
    out = eval(expr, {"lib": torch, "fix": fix}, dict(ins))
    outs = flat(out)
    ws = [torch.randn_like(o) if o.is_floating_point() else None for o in outs]
    entry = {"expr": expr, "inputs": {k: t2j(v) for k, v in inputs.items()},
             "outputs": [t2j(o.detach()) for o in outs], "weights": [t2j(w) if w is not None else None for w in ws]}
    if grad:
        loss = sum((o * w).sum() for o, w in zip(outs, ws) if w is not None and o.requires_grad)
        gs = torch.autograd.grad(loss, list(ins.values()), allow_unused=True)
        entry["grads"] = {k: t2j(g) if g is not None else None for k, g in zip(ins, gs)}
    cases.append(entry)


def flat(out):
    """The tensors of a result, nested tuples flattened in order."""
    if isinstance(out, (tuple, list)):
        return tuple(t for o in out for t in flat(o))
    return (out,)


def fix(V):
    """Columns with a positive sum (a sign-invariant form of eigen- and singular vectors)."""
    return V * V.sum(-2, keepdim=True).sign()


r = torch.randn
A3, A4, B = r(3, 3), r(2, 4, 4), r(2, 4, 2)
SPD = r(2, 4, 4)
SPD = SPD @ SPD.mT + 4 * torch.eye(4)
SYM = r(3, 5, 5)
SYM = SYM + SYM.mT

case("lib.linalg.inv(A)", A=A4)
case("lib.linalg.inv_ex(A).inverse", A=A3)
case("lib.linalg.det(A)", A=A4)
case("lib.det(A)", A=A3)
case("lib.linalg.slogdet(A)", A=A4)
case("lib.logdet(A)", A=SPD)
case("lib.linalg.solve(A, B)", A=A4, B=B)
case("lib.linalg.solve(A, B)", A=A4, B=r(4, 3))
case("lib.linalg.solve(A, B)", A=A4, B=r(2, 4))
case("lib.linalg.solve(A, B, left=False)", A=A4, B=r(2, 3, 4))
case("lib.linalg.solve_triangular(A, B, upper=True)", A=A4 + 3 * torch.eye(4), B=B)
case("lib.linalg.solve_triangular(A, B, upper=False, left=False)", A=A4 + 3 * torch.eye(4), B=r(2, 3, 4))
case("lib.linalg.solve_triangular(A, B, upper=False, unitriangular=True)", A=A4, B=B)
case("lib.linalg.cholesky(A)", A=SPD)
case("lib.linalg.cholesky(A, upper=True)", A=SPD)
case("lib.cholesky_solve(B, lib.linalg.cholesky(A))", A=SPD, B=B)
case("lib.cholesky_inverse(lib.linalg.cholesky(A))", A=SPD[0])
case("lib.linalg.qr(A)", A=r(5, 3))
case("lib.linalg.qr(A)", A=r(2, 3, 5))
case("lib.linalg.qr(A, mode='complete')", A=r(4, 4))
case("lib.linalg.qr(A, mode='r').R", A=r(5, 3), grad=False)  # PyTorch: not differentiable
case("(lambda e: (e.eigenvalues, fix(e.eigenvectors)))(lib.linalg.eigh(A))", A=SYM)
case("(lambda e: (e.eigenvalues, fix(e.eigenvectors)))(lib.linalg.eigh(A, UPLO='U'))", A=r(4, 4))
case("lib.linalg.eigvalsh(A)", A=SYM)
case("(lambda s: (fix(s.U), s.S, fix(s.Vh.mT)))(lib.linalg.svd(A, full_matrices=False))", A=r(2, 5, 3))
case("(lambda s: (fix(s.U), s.S, fix(s.Vh.mT)))(lib.linalg.svd(A, full_matrices=False))", A=r(3, 6))
case("(lambda s: (fix(s.U), s.S, fix(s.Vh.mT)))(lib.linalg.svd(A))", A=r(4, 4))
case("lib.linalg.svd(A).S", A=r(4, 6), grad=False)
case("lib.linalg.svdvals(A)", A=r(2, 3, 5))
case("(lambda s: (fix(s.U), s.S, fix(s.V)))(lib.svd(A))", A=r(5, 3))
case("lib.linalg.pinv(A)", A=r(2, 5, 3))
case("lib.linalg.pinv(A @ lib.diag(B))", A=r(3, 4), B=torch.tensor([1.0, 2.0, 0.0, 3.0]), grad=False)
case("lib.pinverse(A)", A=r(4, 3))
case("lib.linalg.lstsq(A, B).solution", A=r(6, 3), B=r(6, 2))
case("lib.linalg.matrix_rank(A @ B @ C)", A=r(5, 4), B=r(4, 3), C=r(3, 6), grad=False)
case("lib.linalg.matrix_rank(A, atol=1.0)", A=torch.diag(torch.tensor([3.0, 0.5, 2.0])), grad=False)
case("lib.linalg.cond(A)", A=A4)
case("lib.linalg.cond(A, 'fro')", A=A3, grad=False)  # PyTorch 2.15 cannot differentiate it
case("lib.linalg.cond(A, 1)", A=A3, grad=False)
case("lib.linalg.matrix_norm(A, 'nuc')", A=r(2, 3, 4))
case("lib.linalg.matrix_norm(A, 2)", A=r(3, 4))
case("lib.linalg.matrix_norm(A, -2, keepdim=True)", A=r(2, 4, 4))
case("lib.linalg.norm(A, 'nuc', dim=(0, 2))", A=r(3, 2, 4))
case("lib.linalg.matrix_power(A, -2)", A=A4)
case("lib.linalg.matrix_exp(A)", A=A4)
case("lib.matrix_exp(A)", A=5 * A3)
case("lib.linalg.matrix_exp(A)", A=torch.zeros(2, 2))
case("lib.triangular_solve(B, A, upper=False).solution", A=A4 + 3 * torch.eye(4), B=B)
case("lib.triangular_solve(B, A, transpose=True).solution", A=A4 + 3 * torch.eye(4), B=B)
case("A.inverse() @ B", A=A4, B=B)
case("(A.det(), A.slogdet()[1], A.matrix_power(3))", A=A3)
# torch.autograd.functional (here for its expression harness)
AF = "lib.autograd.functional"
case(AF + ".jacobian(lambda a: a.sin() * a.sum(), A)", A=r(3), grad=False)
case(AF + ".jacobian(lambda a, b: (a @ b, (a * a).sum()), (A, B))", A=r(2, 3), B=r(3, 2), grad=False)
case(AF + ".jacobian(lambda a: a.sin() * a.sum(), A, create_graph=True)", A=r(3))
case(AF + ".hessian(lambda a: (a.exp() * a.sum()).sum(), A)", A=r(4), grad=False)
case(AF + ".hessian(lambda a, b: (a.sin() * b).sum(), (A, B))", A=r(3), B=r(3), grad=False)
case(AF + ".vjp(lambda a: a.tanh() @ a.t(), A, V)", A=r(2, 3), V=r(2, 2), grad=False)
case(AF + ".vjp(lambda a: a.tanh() @ a.t(), A, V, create_graph=True)", A=r(2, 3), V=r(2, 2))
case(AF + ".jvp(lambda a: a.tanh() @ a.t(), A, V)", A=r(2, 3), V=r(2, 3), grad=False)
case(AF + ".hvp(lambda a: (a ** 3).sum() * a.sum(), A, V)", A=r(3), V=r(3), grad=False)
case(AF + ".vhp(lambda a, b: (a * b.exp()).sum(), (A, B), (V, W))", A=r(3), B=r(3), V=r(3), W=r(3), grad=False)
# LU and what builds on it (P, L, U of square, wide and tall matrices; solves from the packed factors)
case("lib.linalg.lu_factor(A)", A=A4)
case("lib.linalg.lu_factor_ex(A)", A=r(4, 4))
case("lib.linalg.lu(A)", A=r(2, 4, 4))
case("lib.linalg.lu(A)", A=r(3, 5))
case("lib.linalg.lu(A)", A=r(2, 5, 3))
case("lib.linalg.lu_factor(A).LU", A=r(3, 5))
case("lib.linalg.lu_factor(A).LU", A=r(2, 5, 3))
case("lib.linalg.lu_solve(*lib.linalg.lu_factor(A), B)", A=A4, B=B)
case("lib.linalg.lu_solve(*lib.linalg.lu_factor(A), B, adjoint=True)", A=A4, B=B)
case("lib.linalg.lu_solve(*lib.linalg.lu_factor(A), B, left=False)", A=A4, B=r(2, 3, 4))
case("lib.linalg.lu_solve(*lib.linalg.lu_factor(A), B, left=False, adjoint=True)", A=A4, B=r(2, 3, 4))
case("lib.linalg.lu_solve(*lib.linalg.lu_factor(A), B)", A=r(4, 4), B=r(3, 1, 4, 2))
case("lib.lu_unpack(*lib.linalg.lu_factor(A))", A=r(2, 3, 5))
case("lib.lu_solve(B, *lib.lu(A))", A=A4, B=B)
case("lib.lu(A, get_infos=True)", A=r(3, 3), grad=False)
case("A.lu()[0]", A=r(3, 3))
case("lib.linalg.lu(A)", A=torch.tensor([[0.0, 0.0], [0.0, 0.0]]), grad=False)
case("lib.linalg.lu_factor_ex(A)", A=torch.tensor([[1.0, 2.0], [2.0, 4.0]]), grad=False)
case("lib.linalg.tensorinv(A, ind=1)", A=r(6, 2, 3))
case("lib.linalg.tensorinv(A)", A=r(2, 3, 6))
case("lib.linalg.tensorsolve(A, B)", A=r(2, 3, 6), B=r(2, 3))
case("lib.linalg.tensorsolve(A, B, dims=(0,))", A=r(6, 2, 3), B=r(2, 3))
# Householder products (geqrf is not differentiable)
case("lib.linalg.householder_product(A, tau)", A=r(5, 3), tau=r(3))
case("lib.linalg.householder_product(A, tau)", A=r(2, 4, 4), tau=r(2, 3))
case("lib.orgqr(*lib.geqrf(A))", A=r(5, 3), grad=False)
case("lib.geqrf(A)", A=r(2, 5, 3), grad=False)
case("lib.geqrf(A)", A=r(3, 5), grad=False)
case("lib.ormqr(A, tau, C)", A=r(5, 3), tau=r(3), C=r(5, 2))
case("lib.ormqr(A, tau, C, transpose=True)", A=r(2, 4, 3), tau=r(2, 3), C=r(2, 4, 2))
case("lib.ormqr(A, tau, C, left=False)", A=r(4, 3), tau=r(3), C=r(2, 4))
case("lib.ormqr(A, tau, C, left=False, transpose=True)", A=r(4, 3), tau=r(3), C=r(2, 4))
case("lib.linalg.vander(A)", A=r(2, 3))
case("lib.linalg.vander(A, N=4)", A=r(3))

write("torch_linalg.json", {"cases": cases})
