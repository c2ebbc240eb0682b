"""Bad input raises the exception type PyTorch raises, with a useful message."""
import pytest

import loom


def test_shape_mismatch_is_runtime_error():
    with pytest.raises(RuntimeError, match=r"\[2, 3\].*\[4\]|\[4\].*\[2, 3\]"):
        loom.ones(2, 3) + loom.ones(4)


def test_dim_out_of_range_is_index_error():
    x = loom.ones(2, 3)
    with pytest.raises(IndexError):
        x.sum(dim=5)
    with pytest.raises(IndexError):
        x.transpose(0, 2)
    with pytest.raises(IndexError):
        x.size(3)
    with pytest.raises(IndexError):
        x.softmax(-3)


def test_index_out_of_bounds_is_index_error():
    x = loom.ones(3)
    with pytest.raises(IndexError, match="out of bounds.*size 3"):
        x[3]
    with pytest.raises(IndexError):
        x.index_select(0, loom.tensor([5]))
    with pytest.raises(IndexError):
        x.select(0, -4)


def test_bad_dtype_and_argument_types_are_type_errors():
    with pytest.raises(TypeError):
        loom.zeros(2, dtype="complex128")
    with pytest.raises(TypeError):
        loom.zeros(2, dtype=3.5)
    with pytest.raises(TypeError):
        loom.ones(2) + "a"
    with pytest.raises(TypeError):
        loom.ones(2).add("a")
    with pytest.raises(TypeError):
        "a" * loom.ones(2)
    with pytest.raises(TypeError):
        loom.ones(2) @ 3
    with pytest.raises(TypeError):
        loom.cat(loom.ones(2))
    with pytest.raises(TypeError):
        loom.ones("a")
    with pytest.raises(TypeError):
        loom.exp([1.0])
    with pytest.raises(TypeError):
        loom.tensor(["a", "b"])
    with pytest.raises(TypeError):
        loom.ones(2).masked_fill(loom.ones(2, dtype=loom.bool), "x")


def test_matmul_shape_mismatch_is_runtime_error():
    with pytest.raises(RuntimeError, match=r"3.*4|4.*3"):
        loom.ones(2, 3) @ loom.ones(4, 5)
    with pytest.raises(RuntimeError):
        loom.ones(2, 3).mm(loom.ones(2, 3))


def test_view_of_incompatible_shape():
    with pytest.raises(RuntimeError):
        loom.ones(2, 3).view(4)
    with pytest.raises(RuntimeError):
        loom.ones(2, 3).t().view(6)


def test_cuda_without_gpu_is_runtime_error():
    if loom.cuda.is_available():
        pytest.skip("a GPU is available: this checks the error raised without one")
    with pytest.raises(RuntimeError, match="CUDA"):
        loom.zeros(2, device="cuda")
    with pytest.raises(RuntimeError, match="CUDA"):
        loom.ones(2).cuda()
    with pytest.raises(RuntimeError, match="CUDA"):
        loom.cuda.synchronize()
    assert loom.cuda.device_count() == 0


def test_bad_device_string():
    with pytest.raises(RuntimeError):
        loom.device("tpu")


def test_numpy_requires_grad_error():
    with pytest.raises(RuntimeError, match="detach"):
        loom.ones(1, requires_grad=True).numpy()


def test_scalar_conversion_errors():
    with pytest.raises(ValueError):
        loom.ones(2).item()
    with pytest.raises(RuntimeError):
        bool(loom.ones(3))
    with pytest.raises(TypeError):
        len(loom.tensor(1.0))


def test_out_of_memory_error_class():
    assert issubclass(loom.OutOfMemoryError, RuntimeError)
    assert loom.cuda.OutOfMemoryError is loom.OutOfMemoryError


def test_error_kinds_from_cpp_are_translated():
    with pytest.raises(ValueError):
        loom.ones(3)[::0]
    with pytest.raises(RuntimeError):
        loom.ones(2, 3).expand(3, 3)


@pytest.mark.parametrize("call", [
    lambda s: loom.device(s),
    lambda s: loom.device("cuda" + s, 0),
    lambda s: loom.zeros(2, device=s),
    lambda s: loom.zeros(2, dtype=s),
    lambda s: loom.ones(2).to(s),
    lambda s: loom.ones(2).to(dtype=s),
    lambda s: loom.ones(2).cuda(s),
    lambda s: loom.Generator(device=s),
    lambda s: loom.nn.functional.mse_loss(loom.ones(2), loom.ones(2), reduction=s),
    lambda s: loom.nn.functional.cross_entropy(loom.ones(2, 3), loom.tensor([0, 1]), reduction=s),
], ids=["device", "device_index", "factory_device", "factory_dtype", "to", "to_dtype", "cuda", "generator",
        "mse_reduction", "cross_entropy_reduction"])
def test_lone_surrogate_in_a_string_argument_is_value_error(call):
    # pybind11 alone says "incompatible function arguments" (TypeError) or UnicodeEncodeError.
    with pytest.raises(ValueError, match=r"^str argument must be valid UTF-8 text \(lone surrogate U\+D800 at "
                                         r"position \d+\)$") as info:
        call("x\ud800")
    assert not isinstance(info.value, UnicodeError)
