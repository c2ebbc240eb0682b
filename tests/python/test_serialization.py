"""loom.save / loom.load: safetensors checkpoints that the safetensors library
reads, files from PyTorch that load into loom, nested (optimizer) state dicts,
atomic writes and clear errors on corrupt files."""
import json
import os
import pathlib
import struct

import numpy as np
import pytest

import loom

DATA = pathlib.Path(__file__).resolve().parents[1] / "data"


def _sample():
    return {
        "f32": loom.tensor([[1.5, -2.0, 3.0], [4.0, 5.0, 6.0]], dtype=loom.float32),
        # from_numpy: loom.tensor(..., dtype=float64) currently rounds through float32
        "f64": loom.from_numpy(np.array([0.1, -0.2, 1e300])),
        "i32": loom.tensor([[1, -2], [3, 2147483647]], dtype=loom.int32),
        "i64": loom.tensor([-(2**62), 0, 42], dtype=loom.int64),
        "bool": loom.tensor([True, False, True]),
        "scalar": loom.tensor(7.5),
        "empty": loom.zeros(0, 3, dtype=loom.float64),
    }


def _assert_same(a, b):
    assert list(a) == list(b)
    for k in a:
        assert a[k].dtype == b[k].dtype, k
        assert tuple(a[k].shape) == tuple(b[k].shape), k
        np.testing.assert_array_equal(a[k].numpy(), b[k].numpy())


def test_round_trip_every_dtype_and_shape(tmp_path):
    sd = _sample()
    path = tmp_path / "ck.safetensors"
    loom.save(sd, path)  # os.PathLike is accepted, like torch.save
    back = loom.load(str(path))
    _assert_same(back, sd)
    assert back["scalar"].dim() == 0 and back["empty"].numel() == 0
    assert not back["f32"].requires_grad
    _assert_same(loom.load(path, map_location="cpu"), sd)
    _assert_same(loom.load(path, map_location=loom.device("cpu")), sd)
    assert os.listdir(tmp_path) == ["ck.safetensors"]  # no temporary left behind


def test_views_and_parameters_are_saved_as_contiguous_copies(tmp_path):
    base = loom.arange(12, dtype=loom.float32).reshape(3, 4)
    w = loom.randn(3, 4, requires_grad=True)
    loom.save({"t": base.t(), "s": base[:, 1::2], "w": w}, tmp_path / "v.safetensors")
    back = loom.load(tmp_path / "v.safetensors")
    np.testing.assert_array_equal(back["t"].numpy(), base.numpy().T)
    np.testing.assert_array_equal(back["s"].numpy(), base.numpy()[:, 1::2])
    np.testing.assert_array_equal(back["w"].numpy(), w.detach().numpy())


def test_nested_state_dict_round_trip(tmp_path):
    # The shape of an optimizer's state_dict: int keys, lists, floats, tuples.
    state = {
        "state": {
            0: {"step": 3, "exp_avg": loom.ones(2, 2), "exp_avg_sq": loom.zeros(2, 2)},
            1: {"step": 3, "momentum_buffer": None},
        },
        "param_groups": [
            {"lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-8, "amsgrad": False, "params": [0, 1], "name": "all"}
        ],
    }
    path = tmp_path / "opt.safetensors"
    loom.save(state, path)
    back = loom.load(path)
    assert set(back) == {"state", "param_groups"}
    assert set(back["state"]) == {0, 1}  # int keys keep their type
    s0 = back["state"][0]
    assert s0["step"] == 3
    np.testing.assert_array_equal(s0["exp_avg"].numpy(), np.ones((2, 2), np.float32))
    assert back["state"][1] == {"step": 3, "momentum_buffer": None}
    assert back["param_groups"] == [
        {"lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-8, "amsgrad": False, "params": [0, 1], "name": "all"}
    ]


def test_save_errors(tmp_path):
    with pytest.raises(TypeError, match="expected a dict"):
        loom.save([loom.ones(1)], tmp_path / "x.safetensors")
    with pytest.raises(TypeError, match="cannot save an object of type object"):
        loom.save({"a": object()}, tmp_path / "x.safetensors")
    with pytest.raises(ValueError, match="same key 'a.b'"):
        loom.save({"a.b": loom.ones(1), "a": {"b": loom.ones(1)}}, tmp_path / "x.safetensors")
    with pytest.raises(ValueError, match="reserved"):
        loom.save({"__metadata__": loom.ones(1)}, tmp_path / "x.safetensors")
    with pytest.raises(RuntimeError, match="no_such_dir"):
        loom.save({"a": loom.ones(1)}, tmp_path / "no_such_dir" / "x.safetensors")
    assert os.listdir(tmp_path) == []


def test_load_errors(tmp_path):
    with pytest.raises(FileNotFoundError):
        loom.load(tmp_path / "missing.safetensors")
    good = tmp_path / "good.safetensors"
    loom.save(_sample(), good)
    raw = good.read_bytes()
    for n in (0, 7, 8, 20, len(raw) - 1):
        bad = tmp_path / "bad.safetensors"
        bad.write_bytes(raw[:n])
        with pytest.raises(RuntimeError, match="safetensors: "):
            loom.load(bad)
    bad.write_bytes(struct.pack("<Q", 1 << 40) + raw[8:])
    with pytest.raises(RuntimeError, match="exceeds the limit"):
        loom.load(bad)
    header = b'{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}'
    bad.write_bytes(struct.pack("<Q", len(header)) + header + bytes(8))
    with pytest.raises(RuntimeError, match="overlap"):
        loom.load(bad)
    header = b'{"a":{"dtype":"F16","shape":[2],"data_offsets":[0,4]}}'
    bad.write_bytes(struct.pack("<Q", len(header)) + header + bytes(4))
    with pytest.raises(NotImplementedError, match="F16, which loom does not support yet"):
        loom.load(bad)
    with pytest.raises(TypeError, match="map_location"):
        loom.load(good, map_location=lambda s, loc: s)


def test_loom_file_opens_in_safetensors(tmp_path):
    st = pytest.importorskip("safetensors")
    from safetensors.numpy import load_file

    sd = _sample()
    path = tmp_path / "loom.safetensors"
    loom.save(sd, path, metadata={"format": "pt"})
    arrays = load_file(str(path))
    assert set(arrays) == set(sd)
    for k, t in sd.items():
        np.testing.assert_array_equal(arrays[k], t.numpy())
        assert arrays[k].dtype == t.numpy().dtype
    with st.safe_open(str(path), framework="numpy") as f:
        assert f.metadata() == {"format": "pt"}

    # Nested dicts: flattened names, the structure in the metadata.
    loom.save({"state": {0: {"exp_avg": loom.ones(2)}}, "lr": 0.1}, tmp_path / "opt.safetensors")
    with st.safe_open(str(tmp_path / "opt.safetensors"), framework="numpy") as f:
        assert list(f.keys()) == ["state.0.exp_avg"]
        assert "loom.structure" in f.metadata()
        json.loads(f.metadata()["loom.structure"])


def test_safetensors_file_loads_into_loom(tmp_path):
    pytest.importorskip("safetensors")
    from safetensors.numpy import save_file

    rng = np.random.default_rng(0)
    arrays = {
        "w": rng.standard_normal((3, 5)).astype(np.float32),
        "d": rng.standard_normal(4),
        "i": np.arange(6, dtype=np.int64).reshape(2, 3),
        "j": np.array([1, 2], dtype=np.int32),
        "m": np.array([True, False]),
    }
    path = tmp_path / "np.safetensors"
    save_file(arrays, str(path))
    back = loom.load(path)
    assert set(back) == set(arrays)
    for k, a in arrays.items():
        np.testing.assert_array_equal(back[k].numpy(), a)


def test_pytorch_linear_fixture_reproduces_torch_output():
    # Made once by tests/data/make_torch_fixtures.py with torch and safetensors.
    sd = loom.load(DATA / "torch_linear.safetensors")
    assert set(sd) == {"weight", "bias"}
    assert tuple(sd["weight"].shape) == (3, 4) and tuple(sd["bias"].shape) == (3,)
    io = json.loads((DATA / "torch_linear_io.json").read_text())
    x = loom.tensor(io["input"], dtype=loom.float32)
    y = loom.nn.functional.linear(x, sd["weight"], sd["bias"])
    np.testing.assert_allclose(y.numpy(), np.array(io["output"], np.float32), rtol=1e-6, atol=1e-6)


def test_pytorch_linear_fixture_loads_into_loom_module():
    import loom.nn

    layer = loom.nn.Linear(4, 3)
    layer.load_state_dict(loom.load(DATA / "torch_linear.safetensors"))
    io = json.loads((DATA / "torch_linear_io.json").read_text())
    with loom.no_grad():
        y = layer(loom.tensor(io["input"]))
    np.testing.assert_allclose(y.numpy(), np.array(io["output"], np.float32), rtol=1e-6, atol=1e-6)


def test_model_and_optimizer_checkpoint_resume(tmp_path):
    import loom.nn
    import loom.optim

    def make():
        m = loom.nn.Linear(3, 2)
        return m, loom.optim.Adam(m.parameters(), lr=0.1)

    def step(m, opt, x):
        opt.zero_grad()
        m(x).pow(2).sum().backward()
        opt.step()

    x = loom.randn(4, 3)
    m1, o1 = make()
    step(m1, o1, x)
    loom.save(m1.state_dict(), tmp_path / "model.safetensors")
    loom.save(o1.state_dict(), tmp_path / "optim.safetensors")

    m2, o2 = make()
    m2.load_state_dict(loom.load(tmp_path / "model.safetensors"))
    o2.load_state_dict(loom.load(tmp_path / "optim.safetensors"))
    step(m1, o1, x)
    step(m2, o2, x)
    for (n1, p1), (n2, p2) in zip(m1.state_dict().items(), m2.state_dict().items()):
        assert n1 == n2
        np.testing.assert_array_equal(p1.numpy(), p2.numpy())


def test_invalid_utf8_in_header_names_file_and_byte(tmp_path):
    bad = tmp_path / "bad_utf8.safetensors"
    header = b'{"w\xff":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}'
    bad.write_bytes(struct.pack("<Q", len(header)) + header + bytes(4))
    with pytest.raises(RuntimeError, match=r"bad_utf8\.safetensors.*invalid UTF-8 in a string in the header "
                                           r"\(at byte 3 of the \d+-byte header\)"):
        loom.load(bad)
    header = b'{"__metadata__":{"k":"\xed\xa0\x80"}}'  # an encoded surrogate is not UTF-8 either
    bad.write_bytes(struct.pack("<Q", len(header)) + header)
    with pytest.raises(RuntimeError, match="invalid UTF-8"):
        loom.load(bad)
    # Raw UTF-8 of every length is fine.
    header = '{"café €😀":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}'.encode()
    bad.write_bytes(struct.pack("<Q", len(header)) + header + bytes(4))
    assert list(loom.load(bad)) == ["café €😀"]


def test_paths_and_keys_with_lone_surrogates(tmp_path):
    sd = {"w": loom.ones(2)}
    with pytest.raises(ValueError, match=r"valid UTF-8 text \(lone surrogate U\+D800 at position \d+\)"):
        loom.save(sd, str(tmp_path / "a\ud800.safetensors"))
    with pytest.raises(ValueError, match="lone surrogate U\\+D800"):
        loom.load(str(tmp_path / "a\ud800.safetensors"))
    with pytest.raises(ValueError, match=r"lone surrogate U\+DC00 at position 1"):
        loom.save({"a\udc00": loom.ones(1)}, tmp_path / "k.safetensors")
    with pytest.raises(ValueError, match=r"lone surrogate U\+D800 at position 0"):
        loom.save(sd, tmp_path / "m.safetensors", metadata={"k": "\ud800"})
    with pytest.raises(ValueError, match="lone surrogate"):
        loom.load(tmp_path / "m.safetensors", map_location="cpu\ud800")
    assert os.listdir(tmp_path) == []
    # A file name that is not UTF-8 arrives as surrogateescape and works, as with open().
    name = str(tmp_path / "caf\udce9.safetensors")
    loom.save(sd, name)
    assert os.listdir(os.fsencode(tmp_path)) == [b"caf\xe9.safetensors"]
    assert loom.load(name)["w"].tolist() == [1.0, 1.0]
    assert loom.load(os.fsencode(name))["w"].tolist() == [1.0, 1.0]
    # Errors that quote such a name escape its bytes instead of failing to decode.
    (tmp_path / "caf\udce9.safetensors").write_bytes(b"\x01")
    with pytest.raises(RuntimeError, match=r"caf\\xe9\.safetensors.*fewer than the 8-byte header"):
        loom.load(name)
    with pytest.raises(TypeError, match=r"loom.load: path must be a str, bytes or os.PathLike, not int"):
        loom.load(3)
