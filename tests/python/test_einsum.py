"""loom.einsum against numpy.einsum: matrix products, batches, diagonals, traces, sums, outer products,
three operands, ellipsis with broadcasting, implicit outputs, upper-case letters, operands as a list,
gradients, and bad equations."""
import numpy as np
import pytest

import loom
from loom.autograd import gradcheck

rng = np.random.default_rng(7)


def R(*shape):
    return rng.standard_normal(shape)


def T(a):
    return loom.tensor(np.ascontiguousarray(a))


CASES = [
    ("ij,jk->ik", (R(3, 4), R(4, 5))),
    ("ij,jk", (R(3, 4), R(4, 5))),
    ("bij,bjk->bik", (R(2, 3, 4), R(2, 4, 5))),
    ("bij,jk->bik", (R(2, 3, 4), R(4, 5))),
    ("ii->i", (R(4, 4),)),
    ("ii", (R(4, 4),)),
    ("bii->bi", (R(2, 3, 3),)),
    ("iij->j", (R(3, 3, 2),)),
    ("ij->ji", (R(3, 4),)),
    ("ij->", (R(3, 4),)),
    ("ij->j", (R(3, 4),)),
    ("i,j->ij", (R(4), R(5))),
    ("i,i", (R(4), R(4))),
    ("ij,ij->i", (R(3, 4), R(3, 4))),
    ("ij,kj->ik", (R(3, 4), R(5, 4))),
    ("ij,jk,kl->il", (R(2, 3), R(3, 4), R(4, 5))),
    ("ab,bc,ca->", (R(2, 3), R(3, 4), R(4, 2))),
    ("bhqd,bhkd->bhqk", (R(2, 3, 4, 5), R(2, 3, 6, 5))),
    ("bhqk,bhkd->bqhd", (R(2, 3, 4, 6), R(2, 3, 6, 5))),
    ("...ij,...jk->...ik", (R(2, 3, 4), R(2, 4, 5))),
    ("...ij,...jk", (R(2, 1, 3, 4), R(5, 4, 2))),
    ("...i,...i->...", (R(2, 1, 3), R(4, 3))),
    ("i...->...", (R(3, 2, 4),)),
    ("...", (R(2, 3),)),
    ("Ab,bC->AC", (R(2, 3), R(3, 4))),
    ("i j , j k -> i k", (R(2, 3), R(3, 2))),
    ("ijk->kji", (R(2, 3, 4),)),
]


@pytest.mark.parametrize("eq,ops", CASES, ids=[c[0] for c in CASES])
def test_einsum_matches_numpy(eq, ops):
    want = np.einsum(eq.replace(" ", ""), *ops)
    got = loom.einsum(eq, *[T(o) for o in ops])
    assert got.shape == want.shape
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-10, atol=1e-10)


def test_einsum_list_operands_dtypes_and_gradients():
    a, b = R(3, 4), R(4, 5)
    np.testing.assert_allclose(loom.einsum("ij,jk->ik", [T(a), T(b)]).numpy(), a @ b, atol=1e-12)
    f32 = loom.einsum("ij,jk->ik", T(a.astype(np.float32)), T(b.astype(np.float32)))
    assert f32.dtype == loom.float32
    ints = loom.einsum("ij->j", T(np.arange(6).reshape(2, 3)))
    assert ints.dtype == loom.int64 and ints.tolist() == [3, 5, 7]
    x = loom.tensor(R(2, 3, 3), requires_grad=True)
    y = loom.tensor(R(3, 4), requires_grad=True)
    assert gradcheck(lambda p, q: loom.einsum("bii,ij->bj", p, q), (x, y))
    assert gradcheck(lambda p, q: loom.einsum("bij,jk->bk", p, q), (x, y))
    assert gradcheck(lambda p: loom.einsum("bij->ji", p), (x,))


@pytest.mark.parametrize("eq,shapes,exc", [
    ("ij,jk->ik", [(3, 4)], ValueError),               # fewer operands than terms
    ("ij->ik", [(3, 4)], ValueError),                  # output letter not in the inputs
    ("ij->ii", [(3, 4)], ValueError),                  # repeated output letter
    ("ij", [(3, 4, 5)], RuntimeError),                 # too many dims, no ellipsis
    ("ijk", [(3, 4)], RuntimeError),                   # too few dims
    ("ii", [(3, 4)], RuntimeError),                    # diagonal of unequal sizes
    ("ij,jk->ik", [(3, 4), (5, 6)], RuntimeError),     # contracted sizes differ
    ("i1,1k", [(3, 4), (4, 5)], ValueError),           # not a letter
    ("....", [(3,)], ValueError),                      # bad ellipsis
])
def test_einsum_errors(eq, shapes, exc):
    with pytest.raises(exc):
        loom.einsum(eq, *[T(R(*s)) for s in shapes])


def test_einsum_argument_types():
    with pytest.raises(TypeError):
        loom.einsum(3, T(R(2)))
    with pytest.raises(TypeError):
        loom.einsum("i", R(2))
    with pytest.raises(ValueError):
        loom.einsum("i")
