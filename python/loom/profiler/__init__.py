"""loom.profiler: torch.profiler's API over loom's CPU profiler (core/profiler.h).

    with loom.profiler.profile(activities=[ProfilerActivity.CPU], record_shapes=True) as prof:
        with loom.profiler.record_function("forward"):
            loss = model(x).sum()
        loss.backward()
    print(prof.key_averages().table(sort_by="cpu_time_total", row_limit=10))
    prof.export_chrome_trace("trace.json")   # chrome://tracing or ui.perfetto.dev

This increment times ops on the CPU only: ProfilerActivity.CUDA is accepted
and records nothing GPU-side yet, and with_stack is accepted and ignored
(docs/profiling.md lists what comes later).
"""
import ast
import enum
import functools
import weakref
from collections import namedtuple

from .._C._functional import _profiler as _P

__all__ = ["profile", "record_function", "schedule", "emit_nvtx", "ProfilerActivity", "ProfilerAction"]


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
        self.device_type = "CPU"
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
        # No GPU timing yet (docs/profiling.md): the CUDA fields read zero.
        self.cuda_time_total = 0.0
        self.self_cuda_time_total = 0.0

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
        (CPU Mem, Self CPU Mem with profile_memory,) # of Calls (, Input Shapes).
        sort_by: None (first appearance) or one of the keys _P._sort_keys() lists;
        the cuda_* keys sort by the CPU times until GPU timing exists."""
        if sort_by is not None and not isinstance(sort_by, str):
            raise TypeError("table(): sort_by must be a str or None, not " + type(sort_by).__name__)
        if isinstance(row_limit, bool) or not isinstance(row_limit, int):
            raise TypeError("table(): row_limit must be an int, not " + type(row_limit).__name__)
        return self._profiler.table(sort_by or "", row_limit, self._group)


class profile:
    """Records the ops (and record_function ranges) run between start() and
    stop(), or inside the with block, on every thread."""

    def __init__(self, *, activities=None, schedule=None, on_trace_ready=None, record_shapes=False,
                 profile_memory=False, with_stack=False):
        activities = [ProfilerActivity.CPU] if activities is None else list(activities)
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
        self._c = _P._Profiler(self.record_shapes, self.profile_memory)
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
        return events

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
