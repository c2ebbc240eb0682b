"""The factories take PyTorch's keywords (size=, dtype, layout, device,
requires_grad, pin_memory, out, generator) and reject unknown ones; loom.Generator
draws reproducible numbers without touching the global generator."""
import pickle

import pytest

import loom

SHAPE_FACTORIES = ["zeros", "ones", "empty", "rand", "randn"]
RANDOM_FACTORIES = ["rand", "randn"]


@pytest.mark.parametrize("name", SHAPE_FACTORIES)
def test_size_forms(name):
    f = getattr(loom, name)
    for t in (f(2, 3), f((2, 3)), f([2, 3]), f(loom.Size([2, 3])), f(size=(2, 3)), f(size=[2, 3])):
        assert t.shape == (2, 3)
    assert f(()).shape == () and f(size=()).shape == ()
    assert f(loom.tensor(4)).shape == (4,)  # anything with __index__
    with pytest.raises(TypeError, match=rf"{name}\(\) missing 1 required positional argument: 'size'"):
        f()
    with pytest.raises(TypeError, match=rf"{name}\(\) got multiple values for argument 'size'"):
        f(2, size=(3,))
    with pytest.raises(TypeError, match="size must be a tuple of ints, but got float"):
        f(2.0)
    with pytest.raises(TypeError, match="size must be a tuple of ints, but got bool"):
        f(True)


@pytest.mark.parametrize("name", SHAPE_FACTORIES + ["randint", "randperm", "full", "arange", "linspace", "eye"])
def test_unknown_keyword_is_type_error(name):
    args = {"randint": (0, 5, (2,)), "randperm": (4,), "full": ((2,), 1.0), "arange": (3,), "linspace": (0, 1, 3),
            "eye": (2,)}.get(name, (2,))
    f = getattr(loom, name)
    with pytest.raises(TypeError, match=rf"^{name}\(\) got an unexpected keyword argument 'dtpye'$"):
        f(*args, dtpye=loom.int32)


@pytest.mark.parametrize("name", ["zeros_like", "ones_like", "empty_like", "rand_like", "randn_like"])
def test_like_keywords(name):
    f = getattr(loom, name)
    x = loom.ones(2, 3, dtype=loom.float64)
    t = f(x, dtype=loom.float32, layout=loom.strided, device="cpu", requires_grad=True, memory_format=None)
    assert t.shape == (2, 3) and t.dtype == loom.float32 and t.requires_grad
    with pytest.raises(TypeError, match=rf"{name}\(\) got an unexpected keyword argument 'dtpye'"):
        f(x, dtpye=loom.float32)


def test_options_layout_out_pin_memory():
    t = loom.zeros(2, dtype=loom.int32, layout=loom.strided, device=loom.device("cpu"), requires_grad=False,
                   pin_memory=False, out=None)
    assert t.dtype == loom.int32 and t.tolist() == [0, 0]
    assert loom.ones(size=(2,), layout=None).tolist() == [1.0, 1.0]
    assert repr(loom.strided) == "loom.strided" and isinstance(loom.strided, loom.layout)
    assert pickle.loads(pickle.dumps(loom.strided)) is loom.strided
    with pytest.raises(TypeError, match=r"zeros\(\): layout must be loom.strided or None, got 'sparse_coo'"):
        loom.zeros(2, layout="sparse_coo")
    with pytest.raises(NotImplementedError, match=r"ones\(\): out= is not supported"):
        loom.ones(2, out=loom.zeros(2))
    with pytest.raises(NotImplementedError, match=r"randn\(\): pin_memory=True is not supported"):
        loom.randn(2, pin_memory=True)
    with pytest.raises(NotImplementedError, match=r"full\(\): out="):
        loom.full((2,), 1.0, out=loom.zeros(2))
    with pytest.raises(TypeError, match="layout"):
        loom.arange(3, layout=loom.float32)


def test_randint_forms():
    g = lambda: loom.Generator().manual_seed(11)  # noqa: E731
    ref = loom.randint(0, 10, (3, 2), generator=g())
    assert ref.shape == (3, 2) and ref.dtype == loom.int64
    assert ((ref >= 0) & (ref < 10)).all()
    for t in (loom.randint(10, (3, 2), generator=g()), loom.randint(10, size=(3, 2), generator=g()),
              loom.randint(0, 10, size=(3, 2), generator=g()), loom.randint(high=10, size=(3, 2), generator=g()),
              loom.randint(low=0, high=10, size=[3, 2], generator=g())):
        assert t.tolist() == ref.tolist()
    t = loom.randint(5, 8, (100,), dtype=loom.int32, layout=loom.strided)
    assert t.dtype == loom.int32 and int(t.min()) >= 5 and int(t.max()) < 8
    with pytest.raises(TypeError, match=r"randint\(\) missing 1 required argument: 'size'"):
        loom.randint(10)
    with pytest.raises(TypeError, match=r"randint\(\) missing 1 required argument: 'high'"):
        loom.randint(size=(2,))
    with pytest.raises(RuntimeError, match="randint"):
        loom.randint(5, 5, (2,))


def test_randperm_keywords():
    p = loom.randperm(10, generator=loom.Generator().manual_seed(3), dtype=loom.int32, layout=loom.strided)
    assert p.dtype == loom.int32 and sorted(p.tolist()) == list(range(10))
    q = loom.randperm(10, generator=loom.Generator().manual_seed(3))
    assert q.dtype == loom.int64 and q.tolist() == p.tolist()


def test_generator_api():
    g = loom.Generator()
    assert g.device == loom.device("cpu") and loom.Generator(device="cpu").device.type == "cpu"
    assert g.initial_seed() == 67280421310721  # PyTorch's default seed
    assert g.manual_seed(42) is g and g.initial_seed() == 42
    assert g.manual_seed(-1).initial_seed() == 2**64 - 1  # negative seeds wrap, as in PyTorch
    s = g.seed()
    assert isinstance(s, int) and 0 <= s < 2**64 and g.initial_seed() == s
    with pytest.raises(RuntimeError, match=r"seed 18446744073709551616 is out of the range"):
        g.manual_seed(2**64)
    with pytest.raises(TypeError, match="seed must be an int, not float"):
        g.manual_seed(1.5)


def test_generator_state_round_trip():
    g = loom.Generator().manual_seed(5)
    state = g.get_state()
    assert state.dtype == loom.int64 and state.shape == (2,)
    a = loom.randn(7, generator=g)
    b = loom.randn(7, generator=g)
    assert a.tolist() != b.tolist()  # the generator advanced
    assert g.set_state(state) is g
    assert loom.randn(7, generator=g).tolist() == a.tolist()
    with pytest.raises(ValueError, match=r"int64 tensor of shape \[2\].*float32 of shape \[3\]"):
        g.set_state(loom.zeros(3))
    with pytest.raises(TypeError, match="must be a Tensor"):
        g.set_state([1, 2])


@pytest.mark.parametrize("draw", [
    lambda g: loom.rand(4, 3, generator=g),
    lambda g: loom.randn(size=(5,), generator=g, dtype=loom.float64),
    lambda g: loom.randint(0, 100, (6,), generator=g),
    lambda g: loom.randperm(9, generator=g),
    lambda g: loom.rand_like(loom.zeros(2, 2), generator=g),
    lambda g: loom.randn_like(loom.zeros(3), generator=g),
])
def test_same_seed_same_numbers_and_global_rng_untouched(draw):
    loom.manual_seed(123)
    expected = loom.rand(8).tolist()
    loom.manual_seed(123)
    first = draw(loom.Generator().manual_seed(2024)).tolist()
    second = draw(loom.Generator().manual_seed(2024)).tolist()
    assert first == second
    assert draw(loom.Generator().manual_seed(2025)).tolist() != first
    assert loom.rand(8).tolist() == expected  # the global stream did not advance


def test_generator_matches_the_global_stream_of_the_same_seed():
    # A generator is the same Philox stream as the global one after manual_seed.
    loom.manual_seed(77)
    want = [loom.rand(3).tolist(), loom.randn(4).tolist()]
    g = loom.Generator().manual_seed(77)
    assert [loom.rand(3, generator=g).tolist(), loom.randn(4, generator=g).tolist()] == want


def test_generator_argument_errors():
    with pytest.raises(TypeError, match=r"rand\(\): generator must be a loom.Generator, not int"):
        loom.rand(2, generator=3)
    with pytest.raises(RuntimeError, match=r"randn\(\): expected a 'cpu' device type for generator but found 'cuda'"):
        loom.randn(2, generator=loom.Generator(device="cuda"))
    with pytest.raises(TypeError, match="unexpected keyword argument 'generator'"):
        loom.zeros(2, generator=loom.Generator())


def test_failed_draw_leaves_generator_and_global_state_alone():
    loom.manual_seed(9)
    expected = loom.rand(3).tolist()
    loom.manual_seed(9)
    g = loom.Generator().manual_seed(1)
    state = g.get_state().tolist()
    with pytest.raises(TypeError):
        loom.rand(2, dtype=loom.int64, generator=g)  # rand needs a floating dtype
    assert g.get_state().tolist() == state
    assert loom.rand(3).tolist() == expected


def test_global_manual_seed_takes_pytorch_range():
    loom.manual_seed(-1)
    assert loom.initial_seed() == 2**64 - 1
    with pytest.raises(RuntimeError, match="out of the range"):
        loom.manual_seed(2**64)
    with pytest.raises(TypeError, match="seed must be an int"):
        loom.manual_seed("1")
