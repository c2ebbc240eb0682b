"""loom.profiler: torch.profiler's API over loom's profiler (core/profiler.h).

    with loom.profiler.profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA],
                               record_shapes=True) as prof:
        with loom.profiler.record_function("forward"):
            loss = model(x).sum()
        loss.backward()
    print(prof.key_averages().table(sort_by="cuda_time_total", row_limit=10))
    prof.export_chrome_trace("trace.json")   # ui.perfetto.dev or chrome://tracing
    prof.roofline_plot("roofline.png")       # needs matplotlib

Every op reports its FLOPs and minimum bytes, so the table ends with a
roofline column: achieved TFLOP/s and GB/s and the % of the device's roof at
the op's arithmetic intensity (device_roof() says what the roof is). With
ProfilerActivity.CUDA the GPU kernels of each op are timed (CUPTI, else CUDA
event pairs; the emulator's launch records in an emulator build). with_stack
is accepted and ignored.
"""
import ast
import enum
import functools
import weakref
from collections import namedtuple

from .._C._functional import _profiler as _P

__all__ = ["profile", "record_function", "schedule", "emit_nvtx", "ProfilerActivity", "ProfilerAction",
           "device_roof", "set_device_roof", "roofline_plot"]


class ProfilerActivity(enum.Enum):
    CPU = 0
    CUDA = 1


class ProfilerAction(enum.Enum):
    NONE = 0
    WARMUP = 1
    RECORD = 2
    RECORD_AND_SAVE = 3


class _Schedule:
    """What schedule() returns: call it with a step number for its action."""

    def __init__(self, wait, warmup, active, repeat, skip_first):
        self.args = (wait, warmup, active, repeat, skip_first)
        _P._schedule_action(0, *self.args)  # raises ValueError for bad counts

    def __call__(self, step):
        return ProfilerAction(_P._schedule_action(step, *self.args))

    def __repr__(self):
        return "schedule(wait={}, warmup={}, active={}, repeat={}, skip_first={})".format(*self.args)


def schedule(*, wait, warmup, active, repeat=0, skip_first=0):
    """Skip skip_first steps, then cycles of wait, warmup and active steps;
    repeat cycles (0: until stop). Only active steps record; on_trace_ready runs
    at the end of each cycle's active steps."""
    return _Schedule(wait, warmup, active, repeat, skip_first)


Interval = namedtuple("Interval", ["start", "end"])
Kernel = namedtuple("Kernel", ["name", "start_ns", "end_ns", "device", "stream", "op", "grid", "block", "shared_mem",
                               "registers", "occupancy", "waves", "bytes", "source"])


class FunctionEvent:
    """One recorded op call or record_function range; times in microseconds."""

    def __init__(self, id, d):
        self.id = id
        self.name = d["name"]
        self.key = d["name"]
        self.is_user_annotation = d["category"] == "user_annotation"
        self.thread = d["thread"]
        self.time_range = Interval(d["start_ns"] / 1e3, d["end_ns"] / 1e3)
        self.cpu_time_total = (d["end_ns"] - d["start_ns"]) / 1e3
        self.self_cpu_time_total = self.cpu_time_total
        self.input_shapes = [list(s) for s in d["input_shapes"]]
        self.input_dtypes = list(d["input_dtypes"])
        self.cpu_memory_usage = d["cpu_memory_usage"]
        self.self_cpu_memory_usage = d["self_cpu_memory_usage"]
        self.device_index = d["device"]
        self.device_type = "CUDA" if d["device"] >= 0 else "CPU"
        self.flops = d["flops"] if d["flops"] >= 0 else None
        self.bytes = d["bytes"] if d["bytes"] >= 0 else None
        self.precision = d["precision"]
        self.device_time_total = d["cuda_ns"] / 1e3
        self.self_device_time_total = d["self_cuda_ns"] / 1e3
        self.cuda_time_total = self.device_time_total
        self.self_cuda_time_total = self.self_device_time_total
        self.kernels = []
        self.cpu_parent = None
        self.cpu_children = []

    def __repr__(self):
        return "<FunctionEvent id={} name={} thread={} cpu_time_total={:.3f}us>".format(
            self.id, self.name, self.thread, self.cpu_time_total)


class FunctionEventAvg:
    """One row of key_averages(): totals over the calls of one name (and input
    shapes, when grouped by them); times in microseconds, memory in bytes."""

    def __init__(self, d):
        self.key = d["key"]
        self.count = d["count"]
        self.cpu_time_total = d["cpu_time_total"]
        self.self_cpu_time_total = d["self_cpu_time_total"]
        self.cpu_time = d["cpu_time"]
        self.input_shapes = ast.literal_eval(d["input_shapes"]) if d["input_shapes"] else []
        self.cpu_memory_usage = d["cpu_memory_usage"]
        self.self_cpu_memory_usage = d["self_cpu_memory_usage"]
        # GPU time of the calls' kernels (0 without ProfilerActivity.CUDA).
        self.device_time_total = d["cuda_time_total"]
        self.self_device_time_total = d["self_cuda_time_total"]
        self.device_time = d["cuda_time"]
        self.cuda_time_total = self.device_time_total
        self.self_cuda_time_total = self.self_device_time_total
        self.cuda_time = self.device_time
        self.device_index = d["device"]
        self.device_type = "CUDA" if d["device"] >= 0 else "CPU"
        # The roofline: summed cost of the calls and what they achieved;
        # None where unknown.
        known = lambda v: v if v >= 0 else None
        self.flops = known(d["flops"])
        self.bytes = known(d["bytes"])
        self.precision = d["precision"]
        self.achieved_flops = known(d["achieved_flops"])          # FLOP/s
        self.achieved_bandwidth = known(d["achieved_bandwidth"])  # bytes/s
        self.roofline_fraction = known(d["roofline_fraction"])    # of min(peak, intensity x bandwidth)

    def __repr__(self):
        return "<FunctionEventAvg key={} count={} cpu_time_total={:.3f}us self_cpu_time_total={:.3f}us>".format(
            self.key, self.count, self.cpu_time_total, self.self_cpu_time_total)


class EventList(list):
    """key_averages()'s rows, plus the PyTorch-style table."""

    def __init__(self, rows, profiler, group_by_input_shape):
        super().__init__(rows)
        self._profiler = profiler
        self._group = group_by_input_shape

    def table(self, sort_by=None, row_limit=100):
        """Columns Name, Self CPU %, Self CPU, CPU total %, CPU total, CPU time avg,
        (Self CUDA, Self CUDA %, CUDA total, CUDA time avg with GPU timing,) (CPU Mem,
        Self CPU Mem with profile_memory,) # of Calls (, Total FLOPs, TFLOP/s, GB/s,
        % of roof with with_flops) (, Input Shapes).
        sort_by: None (first appearance) or one of the keys _P._sort_keys() lists;
        without GPU timing the cuda_* keys sort by the CPU times."""
        if sort_by is not None and not isinstance(sort_by, str):
            raise TypeError("table(): sort_by must be a str or None, not " + type(sort_by).__name__)
        if isinstance(row_limit, bool) or not isinstance(row_limit, int):
            raise TypeError("table(): row_limit must be an int, not " + type(row_limit).__name__)
        return self._profiler.table(sort_by or "", row_limit, self._group)


class profile:
    """Records the ops (and record_function ranges) run between start() and
    stop(), or inside the with block, on every thread."""

    def __init__(self, *, activities=None, schedule=None, on_trace_ready=None, record_shapes=False,
                 profile_memory=False, with_stack=False, with_flops=True, cuda_timing="auto"):
        """activities: default CPU, plus CUDA when a GPU is present (as PyTorch).
        with_flops: the roofline columns (on by default in loom). cuda_timing:
        "auto" (CUPTI, else CUDA event pairs; the emulator's records in an emulator
        build), "cupti", "events" or "off"."""
        if activities is None:
            from .. import cuda as _cuda
            activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if _cuda.is_available() else [])
        activities = list(activities)
        if cuda_timing not in ("auto", "cupti", "events", "off"):
            raise ValueError("profile(): cuda_timing must be 'auto', 'cupti', 'events' or 'off', got " + repr(cuda_timing))
        for a in activities:
            if not isinstance(a, ProfilerActivity):
                raise TypeError("profile(): activities must be ProfilerActivity values, got " + repr(a))
        if schedule is not None and not isinstance(schedule, _Schedule):
            raise TypeError("profile(): schedule must come from loom.profiler.schedule(...), got " + repr(schedule))
        if on_trace_ready is not None and not callable(on_trace_ready):
            raise TypeError("profile(): on_trace_ready must be callable, got " + repr(on_trace_ready))
        self.activities = set(activities)
        self.record_shapes = bool(record_shapes)
        self.profile_memory = bool(profile_memory)
        self.with_stack = bool(with_stack)
        self.schedule = schedule
        self.on_trace_ready = on_trace_ready
        self.step_num = 0
        self.with_flops = bool(with_flops)
        self._c = _P._Profiler(self.record_shapes, self.profile_memory, ProfilerActivity.CUDA in self.activities,
                               cuda_timing, self.with_flops)
        if schedule is not None:
            self._c.set_schedule(*schedule.args)
        if on_trace_ready is not None:
            ref = weakref.ref(self)
            self._c.set_on_trace_ready(lambda: on_trace_ready(ref()))

    def start(self):
        self.step_num = 0
        self._c.start()

    def stop(self):
        self._c.stop()

    def step(self):
        """Marks the end of a training step: advances the schedule."""
        self.step_num += 1
        self._c.step()

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()
        return False

    def events(self):
        """The recorded calls, parents before children, with cpu_parent and
        cpu_children linked and self times computed."""
        events = [FunctionEvent(i, d) for i, d in enumerate(self._c.events())]
        for e, d in zip(events, self._c.events()):
            if d["parent"] >= 0:
                parent = events[d["parent"]]
                e.cpu_parent = parent
                parent.cpu_children.append(e)
                parent.self_cpu_time_total -= e.cpu_time_total
        for k in self.kernels():
            if k.op >= 0:
                events[k.op].kernels.append(k)
        return events

    def kernels(self):
        """The GPU kernels, copies and memsets of the recording in start order
        (Kernel tuples; op is the index in events() of the op that launched it)."""
        return [Kernel(**d) for d in self._c.kernels()]

    @property
    def cuda_timing(self):
        """How GPU work was timed: "off", "cupti", "cuda_events" or "emulator"."""
        return self._c.cuda_timing_used()

    def roofline_plot(self, path, **kwargs):
        """Writes the roofline of this recording as a PNG: roofline_plot(self, path)."""
        return roofline_plot(self, path, **kwargs)

    def key_averages(self, group_by_input_shape=False):
        rows = [FunctionEventAvg(d) for d in self._c.key_averages(bool(group_by_input_shape))]
        return EventList(rows, self._c, bool(group_by_input_shape))

    def export_chrome_trace(self, path):
        """Writes the Chrome trace event format (complete "X" events, memory as
        "C" counters with profile_memory), through a temporary file."""
        self._c.export_chrome_trace(path)

    def peak_memory_bytes(self):
        """The process's peak of live CPU tensor bytes during the recording."""
        return self._c.peak_memory_bytes()


class record_function:
    """A named range in the profile: `with record_function("name"):` or
    `@record_function("name")` on a function. Costs nothing while no profiler records."""

    def __init__(self, name):
        if not isinstance(name, str):
            raise TypeError("record_function(): name must be a str, not " + type(name).__name__)
        self.name = name
        self._range = None

    def __enter__(self):
        self._range = _P._RecordFunction(self.name)
        return self

    def set_cost(self, flops, bytes, precision="fp32"):
        """Declares the range's work for the roofline column (inside the with block)."""
        if self._range is None:
            raise RuntimeError("record_function.set_cost(): call it inside the with block")
        self._range.set_cost(float(flops), float(bytes), str(precision))

    def __exit__(self, *exc):
        self._range.end()
        self._range = None
        return False

    def __call__(self, fn):
        name = self.name

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with record_function(name):
                return fn(*args, **kwargs)

        return wrapper


class emit_nvtx:
    """Every op and record_function range becomes an NVTX range while this is on, so
    Nsight Systems / Nsight Compute show loom's op names (PyTorch's
    torch.autograd.profiler.emit_nvtx). Needs a CUDA build; excludes a recording profile()."""

    def __init__(self, enabled=True):
        self.enabled = bool(enabled)
        self._on = None

    def __enter__(self):
        self._on = _P._EmitNvtx(self.enabled)
        return self

    def __exit__(self, *exc):
        self._on.end()
        self._on = None
        return False


def device_roof(device=None):
    """The roof the roofline column compares with: a dict with name, fp32, tf32,
    fp64 (FLOP/s), bandwidth (bytes/s) and where they come from. device: None or
    "cpu" for the CPU, an int or "cuda:N" for a GPU. The first call per device
    times a copy to measure the bandwidth."""
    return _P._device_roof(_device_index(device))


def set_device_roof(device=None, *, flops=0.0, bandwidth=0.0, tf32_flops=0.0, fp64_flops=0.0):
    """Replaces a device's roof with your own numbers (FP32 FLOP/s, bytes/s; 0
    keeps the measured value), e.g. from a data sheet or a STREAM run."""
    _P._set_device_roof(_device_index(device), float(flops), float(bandwidth), float(tf32_flops), float(fp64_flops))


def _device_index(device):
    if device is None or device == "cpu":
        return -1
    if isinstance(device, int) and not isinstance(device, bool):
        return device
    text = str(device)
    if text == "cuda":
        return 0
    if text.startswith("cuda:") and text[5:].isdigit():
        return int(text[5:])
    raise ValueError("device_roof(): expected None, 'cpu', 'cuda[:N]' or an int, got " + repr(device))


def roofline_plot(prof, path, *, title=None, max_labels=12):
    """Writes a roofline plot (PNG) of a finished profile: one point per op of
    key_averages() with a known cost (achieved FLOP/s against arithmetic
    intensity, FLOP per byte), and each device's roof (min(peak, intensity x
    bandwidth); FP32 solid, TF32 dashed where higher). The ops with the most
    time are labelled. Returns the list of plotted (name, intensity, FLOP/s)."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as e:  # pragma: no cover - matplotlib is installed by scripts/setup.sh
        raise ImportError("roofline_plot() needs matplotlib (pip install matplotlib)") from e
    rows = [r for r in prof.key_averages()
            if r.achieved_flops and r.flops and r.bytes and r.flops > 0 and r.bytes > 0]
    if not rows:
        raise RuntimeError("roofline_plot(): no op of this profile has both a known cost and a time")
    time_of = lambda r: r.device_time_total if r.device_index >= 0 else r.cpu_time_total
    rows.sort(key=time_of, reverse=True)
    fig, ax = plt.subplots(figsize=(9, 6), dpi=110)
    devices = sorted({r.device_index for r in rows})
    colors = ["tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple"]
    lo = min(r.flops / r.bytes for r in rows) / 4
    hi = max(r.flops / r.bytes for r in rows) * 4
    points = []
    for i, dev in enumerate(devices):
        roof = device_roof(dev)
        color = colors[i % len(colors)]
        lo = min(lo, roof["fp32"] / roof["bandwidth"] / 100)
        hi = max(hi, roof["tf32"] / roof["bandwidth"] * 10)
        xs = [lo * (hi / lo) ** (k / 200) for k in range(201)]
        ax.plot(xs, [min(roof["fp32"], x * roof["bandwidth"]) for x in xs], color=color, lw=2,
                label="{}: FP32 {:.1f} TFLOP/s, {:.0f} GB/s".format(roof["name"], roof["fp32"] / 1e12,
                                                                   roof["bandwidth"] / 1e9))
        if roof["tf32"] > roof["fp32"] * 1.01:
            ax.plot(xs, [min(roof["tf32"], x * roof["bandwidth"]) for x in xs], color=color, lw=1.5, ls="--",
                    label="{}: TF32 {:.1f} TFLOP/s".format(roof["name"], roof["tf32"] / 1e12))
        mine = [r for r in rows if r.device_index == dev]
        ax.scatter([r.flops / r.bytes for r in mine], [r.achieved_flops for r in mine], color=color, s=36,
                   edgecolor="black", zorder=3)
        points += [(r.key, r.flops / r.bytes, r.achieved_flops) for r in mine]
    for r in rows[:max_labels]:
        ax.annotate(r.key, (r.flops / r.bytes, r.achieved_flops), fontsize=8, xytext=(4, 4),
                    textcoords="offset points")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("arithmetic intensity (FLOP / byte)")
    ax.set_ylabel("achieved FLOP/s")
    ax.set_title(title or "loom roofline ({} ops)".format(len(rows)))
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return points
