"""lerp, addcmul and addcdiv (one ternary kernel each), nll_loss and binary_cross_entropy_with_logits (their
own kernels), flip (one strided copy), pad (one kernel) and sign's PyTorch semantics: values against NumPy on broadcast and strided operands, dtypes and promotion, gradients,
in-place forms, errors."""
import numpy as np
import pytest

import loom
import loom.nn.functional as F
from loom.autograd import gradcheck

RNG = np.random.default_rng(7)


def T(a, **kw):
    return loom.tensor(np.asarray(a), **kw)


def test_lerp_values_broadcast_and_views():
    a = RNG.standard_normal((4, 6)).astype(np.float32)
    b = RNG.standard_normal(6).astype(np.float32)
    w = RNG.uniform(-0.5, 1.5, (4, 1)).astype(np.float32)
    ref = np.where(np.abs(w) < 0.5, a + w * (b - a), b - (b - a) * (1 - w))
    np.testing.assert_allclose(T(a).lerp(T(b), T(w)).numpy(), ref, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(loom.lerp(T(a), T(b), 0.3).numpy(), a + 0.3 * (b - a), rtol=1e-6, atol=1e-6)
    # a transposed view and a 0-d weight
    at = T(a.T.copy()).t()
    np.testing.assert_allclose(at.lerp(T(b), T(np.float32(0.8))).numpy(), b - (b - a) * 0.2, rtol=1e-6, atol=1e-6)
    # a 0-d tensor weight and number weights on both sides of 0.5 (a broadcast operand of the unit-stride loop)
    for wv in (0.3, -0.2, 0.7, 1.0):
        want = a + np.float32(wv) * (b - a) if abs(wv) < 0.5 else b - (b - a) * np.float32(1 - wv)
        np.testing.assert_allclose(T(a).lerp(T(b), T(np.float32(wv))).numpy(), want, rtol=1e-6, atol=1e-6)
        np.testing.assert_allclose(T(a).lerp(T(b), wv).numpy(), want, rtol=1e-6, atol=1e-6)
    # exact at both ends, as PyTorch
    x, y = T([1e8, -3.25, 7.0]), T([1.0, 2.5, -1e-8])
    assert x.lerp(y, 1.0).tolist() == y.tolist()
    assert x.lerp(y, 0.0).tolist() == x.tolist()
    assert loom.lerp(T(np.zeros(0, np.float32)), T(np.zeros(0, np.float32)), 0.5).shape == (0,)


def test_addcmul_addcdiv_values_and_dtypes():
    a = RNG.standard_normal((3, 5))
    b = RNG.standard_normal((1, 5))
    c = RNG.uniform(0.5, 2.0, (3, 1))
    np.testing.assert_allclose(T(a).addcmul(T(b), T(c), value=-2).numpy(), a - 2 * b * c, rtol=1e-12)
    np.testing.assert_allclose(loom.addcdiv(T(a), T(b), T(c), value=0.5).numpy(), a + 0.5 * (b / c), rtol=1e-12)
    i = T(np.array([1, 2, 3], np.int32))
    r = i.addcmul(i, i, value=2)
    assert r.dtype == loom.int32 and r.tolist() == [3, 10, 21]
    assert T([1, 2]).addcmul(T(np.float32([1.5, 2.0])), T([2, 2])).dtype == loom.float32  # promotion
    with pytest.raises(RuntimeError, match="addcmul.*floating point"):
        i.addcmul(i, i, value=0.5)
    with pytest.raises(RuntimeError, match="addcdiv.*Integer division"):
        i.addcdiv(i, i)
    with pytest.raises(TypeError, match="addcmul"):
        T([True]).addcmul(T([True]), T([True]))
    with pytest.raises(TypeError, match="lerp"):
        i.lerp(i, 0.5)
    with pytest.raises(TypeError, match="lerp"):
        loom.ones(2).lerp(2.0, 0.5)
    with pytest.raises(RuntimeError, match="addcdiv"):
        loom.ones(2, 3).addcdiv(loom.ones(4), loom.ones(3))
    with pytest.raises(TypeError):
        loom.ones(2).addcmul(loom.ones(2), loom.ones(2), 3)  # value is keyword-only


def test_ternary_gradients():
    x = T(RNG.standard_normal((3, 4)), requires_grad=True)
    u = T(RNG.standard_normal(4), requires_grad=True)
    w = T(RNG.uniform(0.2, 1.2, (3, 1)), requires_grad=True)
    assert gradcheck(lambda a, b, c: a.lerp(b, c), (x, u, w))
    assert gradcheck(lambda a, b: a.lerp(b, 0.7), (x, u))
    assert gradcheck(lambda a, b, c: a.addcmul(b, c, value=-1.5), (x, u, w))
    assert gradcheck(lambda a, b, c: a.addcdiv(b, c, value=0.5), (x, u, w))
    # second order through the backward's compositions
    g = loom.autograd.grad(x.addcdiv(u, w).pow(2).sum(), w, create_graph=True)[0]
    assert g.requires_grad


def test_ternary_saves_only_what_backward_reads():
    # addcmul reads the factors only: changing self in place afterwards is fine (as in PyTorch)
    x = loom.ones(3, requires_grad=True)
    a = x * 1
    b = loom.full((3,), 2.0, requires_grad=True)
    y = a.addcmul(b, b)
    a.add_(1)
    y.sum().backward()
    assert x.grad.tolist() == [1.0, 1.0, 1.0] and b.grad.tolist() == [4.0, 4.0, 4.0]
    # ... but changing a factor is caught
    c = x * 1
    y = x.addcmul(c, b)
    c.mul_(2)
    with pytest.raises(RuntimeError, match="inplace"):
        y.sum().backward()


def test_inplace_forms():
    x = T(np.array([0.0, 1.0, 2.0], np.float32))
    x.lerp_(T(np.array([2.0, 2.0, 2.0], np.float32)), 0.5)
    assert x.tolist() == [1.0, 1.5, 2.0]
    x.addcmul_(x, x, value=2)
    assert x.tolist() == [3.0, 6.0, 10.0]
    x.addcdiv_(x, T(np.array([3.0, 2.0, 5.0], np.float32)))
    assert x.tolist() == [4.0, 9.0, 12.0]


def _nll_ref(x, t, w=None, ignore=-100, reduction="mean"):
    x = np.moveaxis(x, 1, -1)  # [N, ..., C]
    w = np.ones(x.shape[-1]) if w is None else w
    keep = t != ignore
    tc = np.where(keep, t, 0)
    picked = np.take_along_axis(x, tc[..., None], -1)[..., 0]
    loss = np.where(keep, -w[tc] * picked, 0.0)
    if reduction == "none":
        return loss
    return loss.sum() if reduction == "sum" else loss.sum() / np.where(keep, w[tc], 0).sum()


@pytest.mark.parametrize("shape", [(5, 4), (3, 4, 2), (2, 4, 3, 2)])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_nll_loss_matches_numpy(shape, reduction):
    x = RNG.uniform(-3, 0, shape)
    t = RNG.integers(0, shape[1], (shape[0],) + shape[2:])
    t.flat[1] = -1
    w = RNG.uniform(0.5, 2.0, shape[1])
    for weight in (None, w):
        got = F.nll_loss(T(x), T(t), weight=None if weight is None else T(weight), ignore_index=-1,
                         reduction=reduction)
        np.testing.assert_allclose(got.numpy(), _nll_ref(x, t, weight, -1, reduction), rtol=1e-12)


def test_nll_loss_gradients_and_errors():
    x = T(RNG.uniform(-3, 0, (4, 5, 2)), requires_grad=True)
    t = T(np.array([[0, 4], [2, -100], [1, 1], [3, 0]]))
    w = T(RNG.uniform(0.5, 2, 5))
    for red in ("mean", "sum", "none"):
        assert gradcheck(lambda a: F.nll_loss(a, t, weight=w, reduction=red), (x,))
        # second order: the gradient is linear in the incoming gradient
        assert loom.autograd.gradgradcheck(lambda a: F.nll_loss(a, t, weight=w, reduction=red), (x,))
    # unbatched [C] with a 0-d target
    v = T(np.log(np.array([0.2, 0.5, 0.3])), requires_grad=True)
    out = F.nll_loss(v, T(np.array(1)))
    assert out.shape == () and abs(out.item() + np.log(0.5)) < 1e-12
    out.backward()
    assert v.grad.tolist() == [0.0, -1.0, 0.0]
    with pytest.raises(IndexError, match="nll_loss.*out of bounds"):
        F.nll_loss(x.detach(), t + 5)
    with pytest.raises(RuntimeError, match="nll_loss.*shape"):
        F.nll_loss(x.detach(), t[:2])
    with pytest.raises(RuntimeError, match="nll_loss.*weight"):
        F.nll_loss(x.detach(), t, weight=loom.ones(3, dtype=loom.float64))
    with pytest.raises(RuntimeError, match="nll_loss.*requires_grad"):
        F.nll_loss(x, t, weight=loom.ones(5, dtype=loom.float64, requires_grad=True))
    with pytest.raises(TypeError, match="nll_loss"):
        F.nll_loss(x.detach(), t.int())
    # every target ignored: mean is NaN (0 / 0), as PyTorch
    assert np.isnan(F.nll_loss(x.detach(), loom.full((4, 2), -100, dtype=loom.int64)).item())


def _bce_ref(x, t, w=None, pw=None):
    sp = np.maximum(-x, 0) + np.log1p(np.exp(-np.abs(x)))
    lw = 1.0 if pw is None else 1 + (pw - 1) * t
    loss = (1 - t) * x + lw * sp
    return loss if w is None else loss * w


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_bce_with_logits_matches_numpy(reduction):
    x = RNG.uniform(-40, 40, (5, 7))
    x[0, :4] = [0.0, 1e-300, -80.0, 80.0]
    t = RNG.uniform(0, 1, (5, 7))
    w, pw = RNG.uniform(0.5, 2, 7), RNG.uniform(0.5, 3, 7)
    red = {"mean": np.mean, "sum": np.sum, "none": lambda a: a}[reduction]
    for weight in (None, w):
        for pos in (None, pw):
            got = F.binary_cross_entropy_with_logits(T(x), T(t), weight=None if weight is None else T(weight),
                                                     pos_weight=None if pos is None else T(pos), reduction=reduction)
            np.testing.assert_allclose(got.numpy(), red(_bce_ref(x, t, weight, pos)), rtol=1e-12, atol=1e-14)
    # float32, a transposed view
    x32, t32 = x.astype(np.float32), t.astype(np.float32)
    got = F.binary_cross_entropy_with_logits(T(x32.T.copy()).t(), T(t32), reduction=reduction)
    np.testing.assert_allclose(got.numpy(), red(_bce_ref(x32.astype(np.float64), t32.astype(np.float64))),
                               rtol=3e-6, atol=1e-6)


def test_bce_with_logits_gradients_and_errors():
    x = T(RNG.uniform(-4, 4, (3, 4)), requires_grad=True)
    t = T(RNG.uniform(0, 1, (3, 4)), requires_grad=True)
    w = T(RNG.uniform(0.5, 2, 4), requires_grad=True)
    pw = T(RNG.uniform(0.5, 3, 4), requires_grad=True)
    for red in ("mean", "sum", "none"):
        assert gradcheck(lambda a, b: F.binary_cross_entropy_with_logits(a, b, reduction=red), (x, t))
        assert gradcheck(lambda a, b, c: F.binary_cross_entropy_with_logits(a, b, weight=c, reduction=red), (x, t, w))
        assert gradcheck(lambda a, b, c: F.binary_cross_entropy_with_logits(a, b, pos_weight=c, reduction=red),
                         (x, t, pw))
        assert loom.autograd.gradgradcheck(lambda a: F.binary_cross_entropy_with_logits(a, t.detach(), reduction=red),
                                           (x,))
    # the gradient of x is sigmoid(x) - t, exactly 0 where they agree
    z = T(np.zeros(3), requires_grad=True)
    F.binary_cross_entropy_with_logits(z, T(np.full(3, 0.5)), reduction="sum").backward()
    assert z.grad.tolist() == [0.0, 0.0, 0.0]
    with pytest.raises(ValueError, match="binary_cross_entropy_with_logits.*same as input size"):
        F.binary_cross_entropy_with_logits(x, t[:2])
    with pytest.raises(RuntimeError, match="binary_cross_entropy_with_logits"):
        F.binary_cross_entropy_with_logits(x, t, weight=loom.ones(3, dtype=loom.float64))
    with pytest.raises(TypeError, match="binary_cross_entropy_with_logits.*floating"):
        F.binary_cross_entropy_with_logits(x, t.long())
    with pytest.raises(ValueError, match="reduction"):
        F.binary_cross_entropy_with_logits(x, t, reduction="avg")


def test_sign_follows_pytorch():
    x = T(np.array([np.nan, -0.0, 0.0, 3.0, -2.0, np.inf, -np.inf]), requires_grad=True)
    s = loom.sign(x)
    assert s.tolist() == [0.0, 0.0, 0.0, 1.0, -1.0, 1.0, -1.0]
    assert not np.signbit(s.detach().numpy()[1])
    assert loom.sgn(x).tolist() == s.tolist()
    x.abs().sum().backward()  # abs' gradient is sign: 0 at NaN, as PyTorch
    assert x.grad.tolist() == [0.0, 0.0, 0.0, 1.0, -1.0, 1.0, -1.0]
    assert T(np.array([-5, 0, 7], np.int32)).sign().tolist() == [-1, 0, 1]


@pytest.mark.parametrize("k", [-3, -1, 0, 1, 2, 7])
def test_tril_triu_match_numpy(k):
    a = RNG.standard_normal((2, 3, 4, 5))
    np.testing.assert_array_equal(T(a).tril(k).numpy(), np.tril(a, k))
    np.testing.assert_array_equal(loom.triu(T(a), k).numpy(), np.triu(a, k))
    # a transposed view, integers, bool
    at = T(a).transpose(2, 3)
    np.testing.assert_array_equal(at.tril(k).numpy(), np.tril(a.swapaxes(2, 3), k))
    i = RNG.integers(-5, 5, (4, 6)).astype(np.int32)
    got = T(i).triu(k)
    assert got.dtype == loom.int32
    np.testing.assert_array_equal(got.numpy(), np.triu(i, k))
    b = RNG.random((3, 3)) > 0.5
    np.testing.assert_array_equal(T(b).tril(k).numpy(), np.tril(b, k))


def test_tril_triu_gradients_inplace_and_errors():
    x = T(RNG.standard_normal((3, 4)), requires_grad=True)
    assert gradcheck(lambda a: a.tril(1), (x,)) and gradcheck(lambda a: a.triu(-1), (x,))
    assert loom.autograd.gradgradcheck(lambda a: (a.tril() * a).sum(), (x,))
    x.tril(0).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.tril(np.ones((3, 4))))
    y = T(np.arange(9.0).reshape(3, 3))
    view = y[:, :]
    view.triu_(1)
    assert y.tolist() == [[0.0, 1.0, 2.0], [0.0, 0.0, 5.0], [0.0, 0.0, 0.0]]
    assert loom.zeros(0, 3).tril().shape == (0, 3)
    with pytest.raises(RuntimeError, match="tril: input tensor must have at least 2 dimensions"):
        loom.ones(3).tril()
    with pytest.raises(TypeError):
        loom.ones(2, 2).triu(0.5)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int32, np.int64, np.bool_])
def test_flip_matches_numpy_on_views(dtype):
    a = np.asarray(RNG.standard_normal((4, 5, 6)) * 5).astype(dtype)
    for dims in [(0,), (-1,), (2, 0), (0, 1, 2), ()]:
        np.testing.assert_array_equal(T(a).flip(dims).numpy(), np.flip(a, dims) if dims else a)
    # transposed and stepped views, the last dim reversed (the vector path) and not
    np.testing.assert_array_equal(T(a).transpose(0, 2).flip(1, 2).numpy(), np.flip(a.transpose(2, 1, 0), (1, 2)))
    np.testing.assert_array_equal(T(a)[::2, :, 1::3].flip(-1).numpy(), np.flip(a[::2, :, 1::3], -1))
    long = np.asarray(RNG.standard_normal(1000) * 5).astype(dtype)
    np.testing.assert_array_equal(loom.flip(T(long), [0]).numpy(), long[::-1])
    got = T(a).flip(dims=[1])
    assert got.dtype == T(a).dtype and got.is_contiguous()


def test_flip_gradients_zero_d_and_errors():
    x = T(RNG.standard_normal((3, 4)), requires_grad=True)
    assert gradcheck(lambda a: a.flip(0, 1), (x,)) and gradcheck(lambda a: a[:, 1:].flip(-1), (x,))
    (x.flip(1) * T(np.arange(4.0))).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.tile(np.arange(3.0, -1.0, -1.0), (3, 1)))
    s = loom.tensor(2.5)
    assert s.flip(0).item() == 2.5 and s.flip([-1]).shape == ()
    assert loom.zeros(0, 3).flip(1).shape == (0, 3)
    with pytest.raises(RuntimeError, match="flip: dims has duplicates"):
        loom.ones(2, 2).flip(0, -2)
    with pytest.raises(IndexError, match="flip: Dimension out of range"):
        loom.ones(2, 2).flip(2)
    with pytest.raises(TypeError, match="dims"):
        loom.ones(2).flip()
    with pytest.raises(TypeError, match="unexpected keyword argument 'dim'"):
        loom.ones(2).flip(dim=0)


@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate", "circular"])
def test_pad_matches_numpy_and_gradients(mode):
    a = RNG.standard_normal((2, 3, 5, 6))
    np_mode = {"constant": "constant", "reflect": "reflect", "replicate": "edge", "circular": "wrap"}[mode]
    for pads in [(1, 2), (2, 1, 3, 0), (0, 0, 4, 4)]:
        widths = [(0, 0)] * (4 - len(pads) // 2) + [(pads[2 * j], pads[2 * j + 1]) for j in reversed(range(len(pads) // 2))]
        np.testing.assert_array_equal(F.pad(T(a), pads, mode=mode).numpy(), np.pad(a, widths, mode=np_mode))
    # a transposed view, an integer tensor, and the gradient (and its gradient) through every mode
    np.testing.assert_array_equal(F.pad(T(a).transpose(2, 3), (1, 1), mode=mode).numpy(),
                                  np.pad(a.transpose(0, 1, 3, 2), [(0, 0)] * 3 + [(1, 1)], mode=np_mode))
    i = RNG.integers(-9, 9, (3, 4))
    got = F.pad(T(i), (2, 1), mode=mode)
    assert got.dtype == loom.int64
    np.testing.assert_array_equal(got.numpy(), np.pad(i, [(0, 0), (2, 1)], mode=np_mode))
    x = T(RNG.standard_normal((2, 4, 5)), requires_grad=True)
    assert gradcheck(lambda t: F.pad(t, (2, 3, 1, 2), mode=mode), (x,))
    assert loom.autograd.gradgradcheck(lambda t: (F.pad(t, (1, 2, 3, 1), mode=mode) ** 2).sum(), (x,))


def test_pad_constant_values_crops_and_errors():
    a = RNG.standard_normal((3, 4))
    np.testing.assert_array_equal(F.pad(T(a), (1, -1), value=2.5).numpy(),
                                  np.pad(a[:, :3], [(0, 0), (1, 0)], constant_values=2.5))
    np.testing.assert_array_equal(F.pad(T(a), (-1, -2, 2, -1)).numpy(), np.pad(a[:2, 1:2], [(2, 0), (0, 0)]))
    np.testing.assert_array_equal(F.pad(T(a), ()).numpy(), a)
    assert F.pad(loom.zeros(0, 3), (1, 1)).shape == (0, 5)
    np.testing.assert_array_equal(F.pad(loom.zeros(2, 0), (1, 2), value=3.0).numpy(), np.full((2, 3), 3.0))
    b = F.pad(T(a > 0), (1, 1), value=True)
    assert b.dtype == loom.bool and b.numpy()[:, 0].all()
    with pytest.raises(RuntimeError, match="padding length must be divisible by 2"):
        F.pad(T(a), (1,))
    with pytest.raises(NotImplementedError, match="unknown padding mode"):
        F.pad(T(a), (1, 1), mode="wrap")
    with pytest.raises(RuntimeError, match="doesn't take in value"):
        F.pad(T(a), (1, 1), mode="reflect", value=1.0)
    with pytest.raises(RuntimeError, match="padding size should be less than the corresponding"):
        F.pad(T(a), (4, 0), mode="reflect")
    with pytest.raises(RuntimeError, match="negative padding is only supported in constant mode"):
        F.pad(T(a), (-1, 0), mode="replicate")
    with pytest.raises(RuntimeError, match="leaves a negative size"):
        F.pad(T(a), (-3, -2))
    with pytest.raises(RuntimeError, match="padding of an empty dim"):
        F.pad(loom.zeros(2, 0), (0, 0), mode="replicate")
    # A value an integer tensor cannot hold raises (as PyTorch); a float value truncates.
    ints = loom.tensor([1, 2, 3])
    for bad in (float("nan"), 1e20):
        with pytest.raises(RuntimeError, match="cannot be converted"):
            F.pad(ints, (1, 1), value=bad)
    with pytest.raises(RuntimeError, match="cannot be converted"):
        F.pad(ints.int(), (1, 0), value=2**40)
    assert F.pad(ints, (1, 1), value=-2.5).tolist() == [-2, 1, 2, 3, -2]
