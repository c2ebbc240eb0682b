"""loom.profiler's roofline column and GPU timing from Python: costs per op,
achieved FLOP/s and bytes/s, the device roof, user-declared costs, the
roofline plot, and kernels per op on a GPU."""
import json
import struct

import pytest

import loom
from _helpers import requires_cuda
from loom.profiler import ProfilerActivity, device_roof, profile, record_function, set_device_roof


@pytest.fixture(autouse=True)
def fresh_roofs():
    loom._C._functional._profiler._reset_device_roofs()
    yield
    loom._C._functional._profiler._reset_device_roofs()


def test_events_and_rows_carry_cost_and_roofline():
    a, b = loom.rand(128, 128), loom.rand(128, 128)
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        for _ in range(2):
            loom.matmul(a, b)
    mm = [e for e in prof.events() if e.name == "matmul"]
    assert len(mm) == 2
    assert mm[0].flops == 2 * 128 ** 3
    assert mm[0].bytes == 3 * 128 * 128 * 4
    assert mm[0].device_type == "CPU" and mm[0].kernels == []
    row = next(r for r in prof.key_averages() if r.key == "matmul")
    assert row.flops == 2 * 2 * 128 ** 3
    seconds = row.cpu_time_total * 1e-6
    assert row.achieved_flops == pytest.approx(row.flops / seconds)
    assert row.achieved_bandwidth == pytest.approx(row.bytes / seconds)
    assert 0 < row.roofline_fraction < 10
    table = prof.key_averages().table(sort_by="flops", row_limit=5)
    assert "TFLOP/s" in table and "% of roof" in table and "Roof of CPU" in table
    assert prof.kernels() == [] and prof.cuda_timing == "off"


def test_with_flops_false_drops_the_columns():
    with profile(activities=[ProfilerActivity.CPU], with_flops=False) as prof:
        loom.ones(8, 8).exp()
    assert "TFLOP/s" not in prof.key_averages().table()
    assert prof.key_averages()[0].roofline_fraction is None


def test_device_roof_and_user_roof():
    cpu = device_roof()
    assert cpu["name"].startswith("CPU") and cpu["fp32"] > 1e9 and cpu["bandwidth"] > 1e8
    assert cpu["bandwidth_source"] == "measured copy"
    set_device_roof("cpu", flops=1e9, bandwidth=2e9)
    user = device_roof("cpu")
    assert user["fp32"] == 1e9 and user["bandwidth"] == 2e9 and user["peak_source"] == "user"
    with pytest.raises(ValueError):
        set_device_roof("cpu")
    with pytest.raises(ValueError):
        device_roof("tpu")


def test_record_function_set_cost_feeds_the_roofline():
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        with record_function("my_op") as r:
            r.set_cost(flops=4e6, bytes=1e6)
            loom.ones(64, 64).sum()
    e = next(e for e in prof.events() if e.name == "my_op")
    assert e.flops == 4e6 and e.bytes == 1e6
    row = next(r for r in prof.key_averages() if r.key == "my_op")
    assert row.achieved_flops > 0
    with pytest.raises(RuntimeError):
        record_function("x").set_cost(1, 1)


def test_profile_rejects_bad_cuda_timing():
    with pytest.raises(ValueError):
        profile(cuda_timing="nvprof")


def test_roofline_plot_writes_a_png(tmp_path):
    pytest.importorskip("matplotlib")
    x, w = loom.rand(8, 3, 16, 16), loom.rand(8, 3, 3, 3)
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        y = loom.nn.functional.conv2d(x, w, padding=1).relu()
        loom.matmul(loom.rand(64, 64), loom.rand(64, 64))
    path = tmp_path / "roofline.png"
    points = prof.roofline_plot(str(path), title="test")
    names = {p[0] for p in points}
    assert "conv2d" in names and "matmul" in names
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    assert width > 400 and height > 300


@requires_cuda
def test_gpu_kernels_are_timed_per_op(tmp_path):
    x = loom.rand(4, 3, 32, 32, device="cuda")
    w = loom.rand(16, 3, 3, 3, device="cuda")
    with profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA], record_shapes=True) as prof:
        y = loom.nn.functional.conv2d(x, w, padding=1).relu().sum()
        loom.cuda.synchronize()
    assert prof.cuda_timing in ("cupti", "cuda_events", "emulator")
    kernels = prof.kernels()
    assert kernels and all(k.end_ns >= k.start_ns for k in kernels)
    conv = next(e for e in prof.events() if e.name == "conv2d")
    assert conv.device_type == "CUDA" and conv.cuda_time_total > 0
    rows = {r.key: r for r in prof.key_averages()}
    assert rows["conv2d"].cuda_time_total > 0 and rows["conv2d"].roofline_fraction is not None
    assert "Self CUDA" in prof.key_averages().table(sort_by="cuda_time_total")
    path = tmp_path / "trace.json"
    prof.export_chrome_trace(str(path))
    trace = json.loads(path.read_text())["traceEvents"]
    assert any(e.get("cat") == "kernel" for e in trace)
    assert any(e.get("ph") == "f" for e in trace)
