"""loom.profiler used the PyTorch way: a small model end to end, the table, the
Chrome trace, schedules, record_function, and the errors."""
import json

import pytest

import loom
from loom.profiler import ProfilerActivity, profile, record_function, schedule


def small_model_step(model, x):
    with record_function("forward"):
        y = loom.relu(model(x))
    loss = y.sum()
    loss.backward()
    return loss


@pytest.fixture
def model():
    loom.manual_seed(0)
    return loom.nn.Linear(16, 8)


def test_profile_small_model_end_to_end(model, tmp_path):
    x = loom.randn(4, 16)
    with profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA], record_shapes=True) as prof:
        small_model_step(model, x)
    rows = {r.key: r for r in prof.key_averages()}
    assert "forward" in rows and "linear" in rows and "relu" in rows and "sum" in rows
    assert rows["forward"].count == 1
    for r in rows.values():
        assert 0 <= r.self_cpu_time_total <= r.cpu_time_total + 1e-9
        assert r.cpu_time == pytest.approx(r.cpu_time_total / r.count)
    assert rows["forward"].self_cpu_time_total < rows["forward"].cpu_time_total

    events = prof.events()
    fwd = next(e for e in events if e.name == "forward")
    assert fwd.is_user_annotation
    assert any(c.name == "linear" for c in fwd.cpu_children)
    lin = next(e for e in events if e.name == "linear")
    assert lin.cpu_parent is fwd
    assert lin.input_shapes[:2] == [[4, 16], [8, 16]]

    grouped = prof.key_averages(group_by_input_shape=True)
    assert any(r.key == "linear" and r.input_shapes[:2] == [[4, 16], [8, 16]] for r in grouped)
    table = grouped.table(sort_by="cpu_time_total", row_limit=5)
    assert "Input Shapes" in table
    assert len([line for line in table.splitlines() if "%" in line and "Name" not in line]) <= 5

    table = prof.key_averages().table(sort_by="self_cpu_time_total")
    for col in ["Name", "Self CPU %", "Self CPU", "CPU total %", "CPU total", "CPU time avg", "# of Calls"]:
        assert col in table
    assert "linear" in table and "Self CPU time total:" in table
    for key in ["cpu_time_total", "count", "cuda_time_total", None]:
        assert "relu" in prof.key_averages().table(sort_by=key)

    path = tmp_path / "trace.json"
    prof.export_chrome_trace(str(path))
    trace = json.loads(path.read_text())
    xs = [e for e in trace["traceEvents"] if e["ph"] == "X"]
    assert {"forward", "linear", "relu", "sum"} <= {e["name"] for e in xs}
    assert {e["cat"] for e in xs} == {"cpu_op", "user_annotation"}
    fwd_ev = next(e for e in xs if e["name"] == "forward")
    lin_ev = next(e for e in xs if e["name"] == "linear")
    assert fwd_ev["ts"] <= lin_ev["ts"] and lin_ev["ts"] + lin_ev["dur"] <= fwd_ev["ts"] + fwd_ev["dur"]
    assert lin_ev["args"]["Input Dims"][:2] == [[4, 16], [8, 16]]
    assert not list(tmp_path.glob("*.tmp*"))  # the temporary was renamed away


def test_shapes_only_with_record_shapes(model):
    with profile() as prof:
        small_model_step(model, loom.randn(2, 16))
    assert all(e.input_shapes == [] for e in prof.events())


def test_profile_memory(tmp_path):
    x = loom.randn(128, 128)
    with profile(profile_memory=True) as prof:
        y = x.t().contiguous()
    rows = {r.key: r for r in prof.key_averages()}
    assert rows["contiguous"].cpu_memory_usage >= 128 * 128 * 4
    assert prof.peak_memory_bytes() >= 128 * 128 * 4
    assert "CPU Mem" in prof.key_averages().table(sort_by="self_cpu_memory_usage")
    path = tmp_path / "mem.json"
    prof.export_chrome_trace(path)  # os.PathLike works too
    trace = json.loads(path.read_text())
    assert any(e["ph"] == "C" for e in trace["traceEvents"])
    del y


def test_schedule_step_on_trace_ready(model):
    x = loom.randn(2, 16)
    seen = []

    def ready(p):
        seen.append(sorted(e.name for e in p.events() if e.name.startswith("step")))

    sched = schedule(wait=1, warmup=1, active=2, repeat=1)
    with profile(schedule=sched, on_trace_ready=ready) as prof:
        for i in range(6):
            with record_function("step%d" % i):
                small_model_step(model, x)
            prof.step()
    assert seen == [["step2", "step3"]]
    assert prof.step_num == 6
    assert [sched(i).name for i in range(5)] == ["NONE", "WARMUP", "RECORD", "RECORD_AND_SAVE", "NONE"]


def test_record_function_decorator():
    @record_function("my_fn")
    def f(a):
        return a * 2

    with profile() as prof:
        f(loom.ones(3))
        f(loom.ones(3))
    rows = {r.key: r for r in prof.key_averages()}
    assert rows["my_fn"].count == 2
    assert rows["mul"].count == 2
    assert f.__name__ == "f"
    assert f(loom.ones(1)).item() == 2  # works with no profiler on


def test_errors(tmp_path):
    with profile() as prof:
        loom.ones(2) + 1
    with pytest.raises(ValueError, match="cpu_time_total"):
        prof.key_averages().table(sort_by="bogus")
    with pytest.raises(ValueError):
        schedule(wait=0, warmup=0, active=0)
    with pytest.raises(TypeError):
        profile(activities=["cpu"])
    with pytest.raises(TypeError):
        record_function(3)

    p = profile()
    p.start()
    with pytest.raises(RuntimeError, match="stop"):
        p.export_chrome_trace(str(tmp_path / "early.json"))
    with pytest.raises(RuntimeError):
        profile().start()  # one profiler records at a time
    p.stop()
    with pytest.raises(RuntimeError):
        profile().export_chrome_trace(str(tmp_path / "never.json"))
    with pytest.raises(RuntimeError):
        prof.export_chrome_trace(str(tmp_path / "no_such_dir" / "t.json"))


def test_emit_nvtx():
    P = loom._C._functional._profiler
    if not P._nvtx_available():
        with pytest.raises(RuntimeError, match="NVTX needs a build"):
            with loom.profiler.emit_nvtx():
                pass
        return
    with loom.profiler.emit_nvtx():
        assert P._nvtx_enabled()
        with loom.profiler.record_function("outer"):
            assert P._nvtx_depth() == 1
            loom.ones(3).sum()
        assert P._nvtx_depth() == 0
        with pytest.raises(RuntimeError, match="another OpObserver"):
            with loom.profiler.profile():
                pass
    assert not P._nvtx_enabled()
    with loom.profiler.emit_nvtx(enabled=False):
        assert not P._nvtx_enabled()
