"""NumPy and DLPack interop: round trips that share memory both ways."""
import gc

import numpy as np
import pytest

import loom
from _helpers import requires_cuda

DTYPES = [(np.float32, loom.float32), (np.float64, loom.float64), (np.int32, loom.int32),
          (np.int64, loom.int64), (np.bool_, loom.bool)]


@pytest.mark.parametrize("np_dtype,loom_dtype", DTYPES)
def test_from_numpy_shares_memory(np_dtype, loom_dtype, rng):
    a = (rng.standard_normal((3, 4)) * 10).astype(np_dtype)
    t = loom.from_numpy(a)
    assert t.dtype == loom_dtype and t.shape == (3, 4)
    np.testing.assert_array_equal(t.numpy(), a)
    a[0, 0] = 1
    assert t[0, 0].item() == a[0, 0]
    t[1, 1] = 0
    assert a[1, 1] == 0


def test_from_numpy_noncontiguous_and_lifetime():
    a = np.arange(24, dtype=np.float64).reshape(4, 6)
    t = loom.from_numpy(a[:, ::2])
    assert t.stride() == (6, 2)
    np.testing.assert_array_equal(t.numpy(), a[:, ::2])
    b = np.arange(5, dtype=np.float32)
    u = loom.from_numpy(b)
    del b
    gc.collect()
    assert u.tolist() == [0, 1, 2, 3, 4]  # the tensor keeps the array alive
    with pytest.raises(ValueError, match="negative"):
        loom.from_numpy(a[::-1])
    with pytest.raises(TypeError):
        loom.from_numpy(np.zeros(3, dtype=np.complex64))
    with pytest.raises(TypeError):
        loom.from_numpy([1, 2, 3])


def test_numpy_shares_memory():
    t = loom.zeros(2, 3)
    a = t.numpy()
    a[1, 2] = 5
    assert t[1, 2].item() == 5
    t.fill_(7)
    assert a[0, 0] == 7
    v = t.t().numpy()  # strided view
    assert v.shape == (3, 2) and v.strides == (4, 12)
    s = t[1, 1:].numpy()
    s[0] = -1
    assert t[1, 1].item() == -1
    del t
    gc.collect()
    assert a[0, 0] == 7  # the array keeps the storage alive


def test_numpy_on_requires_grad_raises():
    x = loom.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"Can't call numpy\(\) on Tensor that requires grad. "
                                           r"Use tensor.detach\(\).numpy\(\) instead."):
        x.numpy()
    assert x.detach().numpy().tolist() == [1, 1]
    assert x.numpy(force=True).tolist() == [1, 1]


def test_array_protocol(rng):
    t = loom.tensor(rng.standard_normal((2, 2)))
    a = np.asarray(t)
    assert a.dtype == np.float64 and np.shares_memory(a, t.numpy())
    np.testing.assert_array_equal(np.array(t, dtype=np.float32), t.numpy().astype(np.float32))
    assert np.exp(t).sum() == pytest.approx(t.exp().sum().item())


def test_numpy_scalars_as_operands():
    t = loom.ones(3)
    assert (t * np.float32(2)).tolist() == [2, 2, 2]
    assert (t + np.int64(1)).tolist() == [2, 2, 2]
    assert (np.float64(3) * t).tolist() == [3, 3, 3]


@pytest.mark.parametrize("np_dtype,loom_dtype", DTYPES)
def test_dlpack_numpy_to_loom(np_dtype, loom_dtype, rng):
    a = (rng.standard_normal((2, 5)) * 10).astype(np_dtype)
    t = loom.from_dlpack(a)
    assert t.dtype == loom_dtype
    np.testing.assert_array_equal(t.numpy(), a)
    assert t.data_ptr() == a.ctypes.data  # shared
    t[0, 0] = 0
    assert a[0, 0] == 0


@pytest.mark.parametrize("np_dtype,loom_dtype", DTYPES)
def test_dlpack_loom_to_numpy(np_dtype, loom_dtype, rng):
    t = loom.tensor((rng.standard_normal((3, 4)) * 10).astype(np_dtype))
    a = np.from_dlpack(t)
    assert a.dtype == np_dtype
    np.testing.assert_array_equal(a, t.numpy())
    assert a.ctypes.data == t.data_ptr()
    t.fill_(1)
    assert (a == 1).all()
    assert t.__dlpack_device__() == (1, 0)


def test_dlpack_strided_and_lifetime():
    t = loom.arange(12, dtype=loom.float64).reshape(3, 4).t()
    a = np.from_dlpack(t)
    np.testing.assert_array_equal(a, np.arange(12.0).reshape(3, 4).T)
    del t
    gc.collect()
    np.testing.assert_array_equal(a, np.arange(12.0).reshape(3, 4).T)  # storage kept alive by the capsule

    b = np.arange(6, dtype=np.float32)
    u = loom.from_dlpack(b)
    del b
    gc.collect()
    assert u.tolist() == [0, 1, 2, 3, 4, 5]


def test_dlpack_capsules():
    t = loom.arange(4)
    cap = t.__dlpack__()
    u = loom.from_dlpack(cap)
    assert u.tolist() == [0, 1, 2, 3] and u.data_ptr() == t.data_ptr()
    with pytest.raises(ValueError, match="consumed"):
        loom.from_dlpack(cap)
    unused = loom.to_dlpack(loom.ones(3))  # destroyed without a consumer: frees its tensor
    del unused
    gc.collect()
    with pytest.raises(RuntimeError):
        loom.ones(2, requires_grad=True).__dlpack__()
    with pytest.raises(TypeError):
        loom.from_dlpack(42)


def test_dlpack_loom_round_trip():
    t = loom.randn(3, 3)
    u = loom.from_dlpack(t)
    assert u.data_ptr() == t.data_ptr()
    np.testing.assert_array_equal(u.numpy(), t.numpy())


@requires_cuda
def test_dlpack_cuda_round_trip():
    t = loom.randn(4, 4, device="cuda")
    assert t.__dlpack_device__() == (2, 0)
    u = loom.from_dlpack(t)
    assert u.is_cuda and u.data_ptr() == t.data_ptr()
    np.testing.assert_array_equal(u.cpu().numpy(), t.cpu().numpy())


@requires_cuda
def test_numpy_on_cuda_tensor_raises():
    with pytest.raises(TypeError, match="cpu"):
        loom.ones(2, device="cuda").numpy()
