"""Tensor creation, metadata, conversions, views and indexing, checked against NumPy."""
import numpy as np
import pytest

import loom
from _helpers import requires_cuda


def test_factories_dtype_device_requires_grad():
    z = loom.zeros(2, 3)
    assert z.shape == (2, 3) and isinstance(z.shape, loom.Size) and z.dtype == loom.float32
    assert loom.zeros((2, 3), dtype=loom.float64).dtype is loom.float64
    assert loom.ones(4, dtype=loom.int64).tolist() == [1, 1, 1, 1]
    assert loom.full((2,), 7).dtype == loom.int64 and loom.full((2,), 7.0).dtype == loom.float32
    assert loom.empty(3, 2).shape == (3, 2)
    r = loom.randn(3, requires_grad=True)
    assert r.requires_grad and r.is_leaf
    assert loom.arange(5).tolist() == [0, 1, 2, 3, 4] and loom.arange(5).dtype == loom.int64
    assert loom.arange(0, 1, 0.25).dtype == loom.float32
    np.testing.assert_allclose(loom.arange(1, 2, 0.25).numpy(), np.arange(1, 2, 0.25), rtol=1e-6)
    np.testing.assert_allclose(loom.linspace(0, 1, 5).numpy(), np.linspace(0, 1, 5), rtol=1e-6)
    np.testing.assert_array_equal(loom.eye(3, 2).numpy(), np.eye(3, 2))
    ri = loom.randint(0, 5, (100,))
    assert ri.dtype == loom.int64 and 0 <= ri.min().item() and ri.max().item() < 5
    assert sorted(loom.randperm(10).tolist()) == list(range(10))
    u = loom.rand(1000)
    assert 0 <= u.min().item() and u.max().item() < 1
    x = loom.randn(2, 3, dtype=loom.float64)
    for like in (loom.zeros_like, loom.ones_like, loom.empty_like, loom.rand_like, loom.randn_like):
        y = like(x)
        assert y.shape == x.shape and y.dtype == loom.float64
    assert loom.full_like(x, 2.5).tolist() == [[2.5] * 3] * 2
    assert loom.zeros_like(x, dtype=loom.int32).dtype == loom.int32


def test_dtype_aliases_and_names():
    assert loom.float is loom.float32 and loom.double is loom.float64
    assert loom.long is loom.int64 and loom.int is loom.int32
    assert repr(loom.float32) == "loom.float32"
    assert loom.zeros(1, dtype="float64").dtype == loom.float64
    assert loom.zeros(1, dtype=np.int32).dtype == loom.int32
    assert loom.float32.is_floating_point and not loom.int64.is_floating_point
    assert loom.float64.itemsize == 8


def test_tensor_from_data():
    assert loom.tensor([1, 2, 3]).dtype == loom.int64
    assert loom.tensor([1.0, 2.0]).dtype == loom.float32
    assert loom.tensor([True, False]).dtype == loom.bool
    assert loom.tensor(3.5).dim() == 0 and loom.tensor(3.5).item() == 3.5
    assert loom.tensor(np.zeros(3)).dtype == loom.float64  # NumPy dtypes are kept
    assert loom.tensor([[1, 2], [3, 4]], dtype=loom.float64).tolist() == [[1.0, 2.0], [3.0, 4.0]]
    assert loom.tensor([1, 2], requires_grad=False).requires_grad is False
    assert loom.tensor([1.0], requires_grad=True).requires_grad
    big = 2**60 + 1
    assert loom.tensor([big]).tolist() == [big]


def test_metadata():
    x = loom.zeros(2, 3, 4)
    assert x.size() == (2, 3, 4) and x.size(1) == 3 and x.size(-1) == 4
    assert x.dim() == 3 and x.ndim == 3 and x.numel() == 24 and len(x) == 2
    assert x.stride() == (12, 4, 1) and x.stride(0) == 12
    assert x.is_contiguous() and x.element_size() == 4 and x.storage_offset() == 0
    assert x.device == loom.device("cpu") and not x.is_cuda
    assert x.device.type == "cpu"
    t = x.transpose(0, 2)
    assert t.shape == (4, 3, 2) and not t.is_contiguous() and t.contiguous().is_contiguous()
    assert x[1].storage_offset() == 12
    assert x.data_ptr() + 12 * 4 == x[1].data_ptr()


def test_scalar_conversions():
    assert float(loom.tensor([2.5])) == 2.5
    assert int(loom.tensor(7)) == 7
    assert bool(loom.tensor([1])) is True
    assert loom.tensor(3).item() == 3 and isinstance(loom.tensor(3).item(), int)
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(loom.ones(2))
    with pytest.raises((TypeError, ValueError)):
        float(loom.ones(2))
    assert f"{loom.tensor(1.5):.2f}" == "1.50"
    assert [3, 4][loom.tensor(1)] == 4


def test_iteration_and_len():
    x = loom.arange(6).reshape(2, 3)
    rows = list(x)
    assert len(rows) == 2 and rows[1].tolist() == [3, 4, 5]
    with pytest.raises(TypeError):
        iter(loom.tensor(1.0))


def test_repr():
    r = repr(loom.tensor([1.0, 2.0]))
    assert r.startswith("tensor(") and "1." in r
    assert "grad_fn" in repr(loom.ones(2, requires_grad=True) * 2)


def test_to_and_casts():
    x = loom.tensor([1.7, -2.2])
    assert x.to(loom.float64).dtype == loom.float64
    assert x.to("cpu").device.type == "cpu"
    assert x.to(dtype=loom.int64).tolist() == [1, -2]
    assert x.long().dtype == loom.int64 and x.int().dtype == loom.int32
    assert x.double().dtype == loom.float64 and x.float().dtype == loom.float32
    assert x.bool().tolist() == [True, True]
    y = loom.zeros(1, dtype=loom.float64)
    assert x.to(y).dtype == loom.float64
    assert x.cpu() is not None
    assert x.to(loom.float32) is not None


def test_views_match_numpy(rng):
    a = rng.standard_normal((2, 3, 4)).astype(np.float32)
    x = loom.from_numpy(a.copy())
    np.testing.assert_array_equal(x.view(6, 4).numpy(), a.reshape(6, 4))
    np.testing.assert_array_equal(x.view((4, 6)).numpy(), a.reshape(4, 6))
    np.testing.assert_array_equal(x.reshape(-1).numpy(), a.reshape(-1))
    np.testing.assert_array_equal(x.permute(2, 0, 1).numpy(), a.transpose(2, 0, 1))
    np.testing.assert_array_equal(x.permute((2, 0, 1)).numpy(), a.transpose(2, 0, 1))
    np.testing.assert_array_equal(x.transpose(0, 1).numpy(), a.swapaxes(0, 1))
    np.testing.assert_array_equal(x[0].t().numpy(), a[0].T)
    np.testing.assert_array_equal(x[0].T.numpy(), a[0].T)
    np.testing.assert_array_equal(x.narrow(2, 1, 2).numpy(), a[:, :, 1:3])
    np.testing.assert_array_equal(x.select(1, 2).numpy(), a[:, 2])
    np.testing.assert_array_equal(x.unsqueeze(1).numpy(), a[:, None])
    np.testing.assert_array_equal(x.unsqueeze(1).squeeze().numpy(), a)
    np.testing.assert_array_equal(x.unsqueeze(1).squeeze(1).numpy(), a)
    np.testing.assert_array_equal(x.flatten().numpy(), a.ravel())
    np.testing.assert_array_equal(x.flatten(1).numpy(), a.reshape(2, 12))
    np.testing.assert_array_equal(x.unflatten(2, (2, 2)).numpy(), a.reshape(2, 3, 2, 2))
    b = loom.from_numpy(a[:, :1].copy())
    np.testing.assert_array_equal(b.expand(2, 5, 4).numpy(), np.broadcast_to(a[:, :1], (2, 5, 4)))
    np.testing.assert_array_equal(b.expand(-1, 3, -1).numpy(), np.broadcast_to(a[:, :1], (2, 3, 4)))
    np.testing.assert_array_equal(b.expand_as(x).numpy(), np.broadcast_to(a[:, :1], (2, 3, 4)))
    parts = x.split(1, dim=2)
    assert len(parts) == 4 and parts[3].shape == (2, 3, 1)
    parts = x.split([1, 3], dim=2)
    np.testing.assert_array_equal(parts[1].numpy(), a[:, :, 1:])
    assert [c.shape[1] for c in x.chunk(2, 1)] == [2, 1]
    assert [u.shape for u in x.unbind(1)] == [(2, 4)] * 3
    # views share memory
    v = x.view(24)
    v[0] = 100.0
    assert x[0, 0, 0].item() == 100.0


def test_clone_detach_contiguous():
    x = loom.ones(2, 2, requires_grad=True)
    d = x.detach()
    assert not d.requires_grad and d.data_ptr() == x.data_ptr()
    c = x.clone()
    assert c.requires_grad and c.data_ptr() != x.data_ptr() and c.grad_fn is not None
    y = x * 2
    y.detach_()
    assert not y.requires_grad and y.grad_fn is None


def test_getitem_basic(rng):
    a = rng.standard_normal((4, 5, 6)).astype(np.float32)
    x = loom.tensor(a)
    for idx in [0, -1, (1, 2), (1, 2, 3), slice(1, 3), (slice(None), 2), (Ellipsis, 1), (None, 1),
                (slice(None, None, 2), slice(1, None, 3)), (1, Ellipsis, None), (slice(-3, None),),
                (slice(1, 100),), (Ellipsis,), (0, None, slice(None), None)]:
        np.testing.assert_array_equal(x[idx].numpy(), a[idx], err_msg=str(idx))
    assert x[1:3].data_ptr() == x[1].data_ptr()  # a view


def test_getitem_advanced(rng):
    a = rng.standard_normal((4, 5)).astype(np.float32)
    x = loom.tensor(a)
    m = a > 0
    np.testing.assert_array_equal(x[loom.tensor(m)].numpy(), a[m])
    np.testing.assert_array_equal(x[m].numpy(), a[m])
    np.testing.assert_array_equal(x[[True, False, True, False]].numpy(), a[[True, False, True, False]])
    idx = np.array([3, 0, 0, -1])
    np.testing.assert_array_equal(x[loom.tensor(idx)].numpy(), a[idx])
    np.testing.assert_array_equal(x[[2, 1]].numpy(), a[[2, 1]])
    np.testing.assert_array_equal(x[:, [4, 0]].numpy(), a[:, [4, 0]])
    np.testing.assert_array_equal(x[1:, loom.tensor([0, 2])].numpy(), a[1:, [0, 2]])
    np.testing.assert_array_equal(x[loom.tensor([[0, 1], [2, 3]])].numpy(), a[np.array([[0, 1], [2, 3]])])
    rowmask = a[:, 0] > 0
    np.testing.assert_array_equal(x[loom.tensor(rowmask)].numpy(), a[rowmask])
    # Two index tensors pick elements pairwise (tests/python/test_advanced_indexing.py has the rest).
    np.testing.assert_array_equal(x[[0, 1], [1, 2]].numpy(), a[[0, 1], [1, 2]])


def test_getitem_errors():
    x = loom.zeros(3, 4)
    with pytest.raises(IndexError, match="size 3"):
        x[3]
    with pytest.raises(IndexError, match="size 4"):
        x[0, -5]
    with pytest.raises(IndexError, match="too many indices"):
        x[0, 0, 0]
    with pytest.raises(IndexError):
        x[loom.tensor([0, 7])]
    with pytest.raises(TypeError):
        x["a"]
    with pytest.raises(ValueError):
        x[::-1]


def test_setitem(rng):
    a = rng.standard_normal((4, 5)).astype(np.float32)
    x = loom.tensor(a)
    a[1] = 3.0
    x[1] = 3.0
    a[:, 2] = np.arange(4)
    x[:, 2] = loom.arange(4)
    a[2:, 3:] = -1
    x[2:, 3:] = -1
    a[..., 0] = np.array([9, 8, 7, 6])
    x[..., 0] = np.array([9, 8, 7, 6], dtype=np.float32)
    np.testing.assert_array_equal(x.numpy(), a)
    m = a > 0
    a[m] = 0.5
    x[loom.tensor(m)] = 0.5
    np.testing.assert_array_equal(x.numpy(), a)
    m = a < 0
    vals = np.arange(m.sum(), dtype=np.float32)
    a[m] = vals
    x[loom.tensor(m)] = loom.tensor(vals)
    np.testing.assert_array_equal(x.numpy(), a)
    x[0, 0] = loom.tensor(42.0)
    assert x[0, 0].item() == 42.0
    v0 = x._version
    x[1] = 0
    assert x._version > v0


def test_in_place_and_identity():
    x = loom.ones(3)
    y = x
    x += 1
    assert y is x and x.tolist() == [2.0, 2.0, 2.0]
    x *= loom.tensor([1.0, 2.0, 3.0])
    x -= 1
    x /= 2
    assert x.tolist() == [0.5, 1.5, 2.5]
    assert x.add_(1, alpha=2).tolist() == [2.5, 3.5, 4.5]
    assert x.zero_().tolist() == [0, 0, 0]
    assert x.fill_(4).tolist() == [4, 4, 4]
    x.copy_(loom.tensor([1, 2, 3]))
    assert x.tolist() == [1.0, 2.0, 3.0] and x.dtype == loom.float32


def test_deepcopy_and_pickle():
    import copy
    import pickle

    x = loom.randn(2, 3, requires_grad=True)
    y = copy.deepcopy(x)
    assert y.requires_grad and y.data_ptr() != x.data_ptr()
    np.testing.assert_array_equal(y.detach().numpy(), x.detach().numpy())
    z = pickle.loads(pickle.dumps(x.detach()))
    np.testing.assert_array_equal(z.numpy(), x.detach().numpy())


def test_manual_seed_reproducible():
    loom.manual_seed(7)
    a = loom.randn(5)
    loom.manual_seed(7)
    b = loom.randn(5)
    assert a.tolist() == b.tolist()


def test_threads_and_grad_mode_switches():
    n = loom.get_num_threads()
    loom.set_num_threads(1)
    assert loom.get_num_threads() == 1
    loom.set_num_threads(n)
    assert loom.is_grad_enabled()


@requires_cuda
def test_cuda_round_trip():
    x = loom.randn(3, 4)
    y = x.cuda()
    assert y.is_cuda and y.device == loom.device("cuda:0") and y.device.index == 0
    np.testing.assert_array_equal(y.cpu().numpy(), x.numpy())
    z = x.to("cuda", non_blocking=True)
    loom.cuda.synchronize()
    assert z.is_cuda
    w = loom.zeros(2, device="cuda")
    assert w.is_cuda and w.to(x).device.type == "cpu"


def test_backends_and_cuda_module_without_gpu():
    prev = loom.backends.cuda.matmul.allow_tf32
    loom.backends.cuda.matmul.allow_tf32 = True
    assert loom.backends.cuda.matmul.allow_tf32 is True
    loom.backends.cuda.matmul.allow_tf32 = False
    assert loom.backends.cuda.matmul.allow_tf32 is False
    loom.backends.cuda.matmul.allow_tf32 = prev
    loom.cuda.manual_seed(3)
    loom.cuda.manual_seed_all(3)
    if not loom.cuda.is_available():
        assert loom.cuda.device_count() == 0
        loom.cuda.empty_cache()  # a no-op without CUDA


@requires_cuda
def test_cuda_memory_stats():
    loom.cuda.reset_peak_memory_stats()
    before = loom.cuda.memory_allocated()
    x = loom.empty(1024, 1024, device="cuda")
    assert loom.cuda.memory_allocated() >= before + 4 * 1024 * 1024
    assert loom.cuda.max_memory_allocated() >= loom.cuda.memory_allocated()
    assert loom.cuda.memory_reserved() >= loom.cuda.memory_allocated()
    assert "allocated_bytes.all.current" in loom.cuda.memory_stats()
    del x
    loom.cuda.empty_cache()
    assert loom.cuda.current_device() == 0
    loom.cuda.set_device(0)


def test_gil_released_in_matmul_threads():
    import threading

    a = loom.randn(200, 200)
    out = []
    ts = [threading.Thread(target=lambda: out.append((a @ a).sum().item())) for _ in range(4)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert len(out) == 4 and all(abs(o - out[0]) < 1e-3 * max(1, abs(out[0])) for o in out)


def test_tensor_constructor_and_data():
    t = loom.ones(2, 3)
    p = loom.Tensor(t)  # a new leaf sharing t's data
    p.requires_grad_()
    assert p.requires_grad and not t.requires_grad and p.data_ptr() == t.data_ptr()
    assert loom.Tensor(2, 3).shape == (2, 3) and loom.Tensor([1, 2]).dtype == loom.float32
    x = loom.zeros(3, requires_grad=True)
    d = x.data
    assert not d.requires_grad and d.data_ptr() == x.data_ptr()
    x.data = loom.ones(4)
    assert x.shape == (4,) and x.requires_grad and x.tolist() == [1.0] * 4


def test_tensor_from_python_floats_keeps_float64_precision():
    t = loom.tensor([0.1, 1e-300], dtype=loom.float64)
    assert t.tolist() == [0.1, 1e-300]
    assert loom.tensor([0.1]).dtype == loom.float32


@pytest.mark.parametrize("data,dtype,value,name", [
    ([2**63], None, 2**63, "int64"),  # NumPy would infer uint64, then wrap to -2**63
    ([2**64], None, 2**64, "int64"),
    ([-(2**63) - 1], None, -(2**63) - 1, "int64"),
    ([1, 2**63], None, 2**63, "int64"),  # NumPy would infer float64
    ([[1, 2], [3, 2**70]], None, 2**70, "int64"),
    ([2**40], loom.int32, 2**40, "int32"),
    ([[0, -(2**31) - 1]], loom.int32, -(2**31) - 1, "int32"),
    ([2**63, 1.5], loom.int64, 2**63, "int64"),
])
def test_tensor_rejects_python_ints_that_do_not_fit(data, dtype, value, name):
    with pytest.raises(RuntimeError, match=rf"tensor\(\): Python int {value} is out of the range of {name}"):
        loom.tensor(data, dtype=dtype)


def test_python_ints_at_the_limits_and_beside_floats():
    assert loom.tensor([2**63 - 1, -(2**63)]).tolist() == [2**63 - 1, -(2**63)]
    assert loom.tensor([2**31 - 1, -(2**31)], dtype=loom.int32).tolist() == [2**31 - 1, -(2**31)]
    # With a float in the data (or a float dtype) the ints are converted to float, as in PyTorch.
    t = loom.tensor([1.5, 2**63])
    assert t.dtype == loom.float32 and t.tolist()[1] == pytest.approx(2.0**63)
    assert loom.tensor([2**70, 1.0]).tolist()[0] == pytest.approx(2.0**70)
    assert loom.tensor([2**63], dtype=loom.float64).tolist() == [2.0**63]
    assert loom.tensor([2**64], dtype=loom.float64).tolist() == [2.0**64]
    # NumPy arrays keep NumPy's own casting.
    assert loom.tensor(np.array([2**40]), dtype=loom.int32).dtype == loom.int32


def test_scalar_and_fill_values_must_fit_the_dtype():
    with pytest.raises(RuntimeError, match=r"tensor\(\): Python int 9223372036854775808 is out of the range of int64"):
        loom.tensor(2**63)
    with pytest.raises(RuntimeError, match=r"tensor\(\): value 1099511627776 cannot be converted to int32"):
        loom.tensor(2**40, dtype=loom.int32)
    with pytest.raises(RuntimeError, match=r"full\(\): value 1099511627776 cannot be converted to int32"):
        loom.full((2,), 2**40, dtype=loom.int32)
    with pytest.raises(RuntimeError, match=r"full\(\): Python int 9223372036854775808 is out of the range of int64"):
        loom.full((2,), 2**63)
    with pytest.raises(RuntimeError, match=r"full\(\): value 1e\+20 cannot be converted to int64"):
        loom.full((2,), 1e20, dtype=loom.int64)
    with pytest.raises(RuntimeError, match=r"full\(\): value nan cannot be converted to int32"):
        loom.full((2,), float("nan"), dtype=loom.int32)
    with pytest.raises(RuntimeError, match=r"full_like\(\): value 8589934592 cannot be converted to int32"):
        loom.full_like(loom.zeros(2, dtype=loom.int32), 2**33)
    x = loom.zeros(3, dtype=loom.int32)
    with pytest.raises(RuntimeError, match=r"fill_\(\): value 2147483648 cannot be converted to int32"):
        x.fill_(2**31)
    with pytest.raises(RuntimeError, match=r"__setitem__\(\): value 1099511627776 cannot be converted to int32"):
        x[0] = 2**40
    with pytest.raises(RuntimeError, match=r"masked_fill_\(\): value -2147483649 cannot be converted to int32"):
        x.masked_fill_(loom.tensor([True, False, True]), -(2**31) - 1)
    assert x.tolist() == [0, 0, 0]
    assert loom.full((2,), 2**31 - 1, dtype=loom.int32).tolist() == [2**31 - 1] * 2
    assert loom.full((1,), 2**63 - 1).tolist() == [2**63 - 1]
    assert loom.full((1,), 2**40, dtype=loom.float32).tolist() == [2.0**40]
    assert loom.full((1,), 7, dtype=loom.bool).tolist() == [True]


def test_sizes_and_scalars_beyond_int64():
    with pytest.raises(RuntimeError, match=r"zeros\(\): size 1180591620717411303424 is out of the range of int64"):
        loom.zeros(2**70)
    with pytest.raises(RuntimeError, match="Python int 18446744073709551616 is out of the range of int64"):
        loom.ones(2) + 2**64
    with pytest.raises(RuntimeError, match="Python int 18446744073709551616 is out of the range of int64"):
        loom.ones(2).view(2**64)
