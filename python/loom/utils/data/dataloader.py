"""DataLoader: batches of a dataset, in order, optionally prefetched by background threads."""
import atexit
import collections.abc
import numbers
import queue
import threading
import weakref

from .dataset import IterableDataset
from .sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler

__all__ = ["DataLoader", "default_collate", "get_worker_info"]


class WorkerInfo:
    """What get_worker_info() returns inside a worker: id, num_workers, seed, dataset."""

    def __init__(self, id, num_workers, seed, dataset):
        self.id, self.num_workers, self.seed, self.dataset = id, num_workers, seed, dataset

    def __repr__(self):
        return "WorkerInfo(id={}, num_workers={}, seed={})".format(self.id, self.num_workers, self.seed)


_worker = threading.local()

# Worker threads must not outlive the interpreter while inside loom's C++ (which releases the GIL):
# one that tries to take the GIL back during finalization aborts the process. So an iteration stops
# and joins its threads when it ends, when it is abandoned (the generator is closed or collected),
# and at exit for any still running.
_live = weakref.WeakSet()


class _Workers:
    def __init__(self, threads, stop, wake):
        self.threads, self.stop, self.wake = threads, stop, wake
        _live.add(self)

    def shutdown(self):
        self.stop.set()
        for _ in range(50):  # wake() unblocks workers waiting on a queue; retry while they finish
            self.wake()
            for t in self.threads:
                t.join(timeout=0.1)
            if not any(t.is_alive() for t in self.threads):
                break
        _live.discard(self)


@atexit.register
def _shutdown_all():
    for w in list(_live):
        w.shutdown()


def get_worker_info():
    """The WorkerInfo of the calling worker thread; None in the main thread (num_workers=0)."""
    return getattr(_worker, "info", None)


def default_collate(batch):
    """Stacks a list of samples into a batch: tensors are stacked along a new first dim, numbers become a
    tensor, strings stay a list, and dicts, tuples and lists are collated element-wise."""
    from ... import _C, stack, tensor
    elem = batch[0]
    if isinstance(elem, _C.Tensor):
        return stack(list(batch), 0)
    if type(elem).__module__ == "numpy" and hasattr(elem, "shape"):
        import numpy as np
        return tensor(np.stack(batch))
    if isinstance(elem, bool):
        return tensor(batch)
    if isinstance(elem, numbers.Integral):
        return tensor(batch)
    if isinstance(elem, numbers.Real):
        return tensor(batch, dtype=None)
    if isinstance(elem, (str, bytes)):
        return list(batch)
    if isinstance(elem, collections.abc.Mapping):
        return {k: default_collate([d[k] for d in batch]) for k in elem}
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # namedtuple
        return type(elem)(*(default_collate(list(s)) for s in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        if any(len(e) != len(elem) for e in batch):
            raise RuntimeError("default_collate: each element in list of batch should be of equal size")
        out = [default_collate(list(s)) for s in zip(*batch)]
        return tuple(out) if isinstance(elem, tuple) else out
    if elem is None:
        return list(batch)
    raise TypeError("default_collate: batch must contain tensors, numbers, strings, dicts or lists; found " +
                    type(elem).__name__)


def default_convert(data):
    """Converts NumPy arrays and numbers inside ``data`` (dicts, lists, tuples, namedtuples) to tensors,
    without stacking anything: the collate_fn of a DataLoader without batch_size."""
    from ... import _C, tensor
    if isinstance(data, _C.Tensor):
        return data
    if type(data).__module__ == "numpy":
        import numpy as np
        if isinstance(data, np.ndarray) and data.dtype.kind in "US":
            return data
        return tensor(data)
    if isinstance(data, (str, bytes)):
        return data
    if isinstance(data, collections.abc.Mapping):
        converted = {k: default_convert(v) for k, v in data.items()}
        try:
            return type(data)(converted)
        except TypeError:  # a mapping type without a constructor from a dict
            return converted
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, collections.abc.Sequence):
        return [default_convert(d) for d in data]
    return data


def _pin(batch):
    if hasattr(batch, "pin_memory"):
        return batch.pin_memory()
    if isinstance(batch, dict):
        return {k: _pin(v) for k, v in batch.items()}
    if isinstance(batch, (list, tuple)) and not isinstance(batch, str):
        return type(batch)(_pin(v) for v in batch) if not hasattr(batch, "_fields") else type(batch)(
            *(_pin(v) for v in batch))
    return batch


class _WorkerError:
    """An exception caught in a worker, re-raised in the main thread with where it happened."""

    def __init__(self, exc, where):
        self.exc, self.where = exc, where

    def reraise(self):
        msg = "Caught {} in DataLoader worker thread {}.\nOriginal message: {}".format(
            type(self.exc).__name__, self.where, self.exc)
        try:
            new = type(self.exc)(msg)
        except Exception:  # an exception type whose constructor takes other arguments
            new = RuntimeError(msg)
        raise new from self.exc


class DataLoader:
    """torch.utils.data.DataLoader: batch_size, shuffle (with generator), sampler / batch_sampler,
    collate_fn, drop_last, num_workers (threads), prefetch_factor, pin_memory, worker_init_fn, timeout."""

    def __init__(self, dataset, batch_size=1, shuffle=None, sampler=None, batch_sampler=None, num_workers=0,
                 collate_fn=None, pin_memory=False, drop_last=False, timeout=0, worker_init_fn=None,
                 multiprocessing_context=None, generator=None, *, prefetch_factor=None, persistent_workers=False,
                 pin_memory_device=""):
        if not isinstance(num_workers, int) or num_workers < 0:
            raise ValueError("num_workers option should be non-negative; use num_workers=0 to disable threads")
        if timeout < 0:
            raise ValueError("timeout option should be non-negative")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError("prefetch_factor option could only be specified in multiprocessing: let num_workers "
                             "> 0 to enable it")
        if prefetch_factor is not None and prefetch_factor < 1:
            raise ValueError("prefetch_factor option should be positive")
        self.dataset = dataset
        self.num_workers = num_workers
        self.prefetch_factor = 2 if prefetch_factor is None and num_workers > 0 else prefetch_factor
        self.pin_memory = bool(pin_memory)
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.generator = generator
        self.persistent_workers = persistent_workers
        self._iterable = isinstance(dataset, IterableDataset)
        if self._iterable:
            if shuffle not in (None, False):
                raise ValueError("DataLoader with IterableDataset: expected unspecified shuffle option, but got "
                                 "shuffle={}".format(shuffle))
            if sampler is not None or batch_sampler is not None:
                raise ValueError("DataLoader with IterableDataset: expected unspecified sampler and batch_sampler")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("batch_sampler option is mutually exclusive with batch_size, shuffle, sampler, "
                                 "and drop_last")
            batch_size, drop_last = None, False
        elif batch_size is None and drop_last:
            raise ValueError("batch_size=None option disables auto-batching and is mutually exclusive with "
                             "drop_last")
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if sampler is None and not self._iterable:
            sampler = RandomSampler(dataset, generator=generator) if shuffle else SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None and not self._iterable:
            batch_sampler = BatchSampler(sampler, batch_size, bool(drop_last))
        self.batch_size = batch_size
        self.drop_last = bool(drop_last)
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self._auto_collation = batch_sampler is not None or (self._iterable and batch_size is not None)
        if collate_fn is None:
            collate_fn = default_collate if self._auto_collation else (lambda x: x)
        self.collate_fn = collate_fn

    def __len__(self):
        if self._iterable:
            n = len(self.dataset)
            if self.batch_size is None:
                return n
            return n // self.batch_size if self.drop_last else (n + self.batch_size - 1) // self.batch_size
        return len(self.batch_sampler) if self.batch_sampler is not None else len(self.sampler)

    # ---- one batch ----
    def _fetch(self, indices):
        """The collated batch of `indices` (a list, or one index without auto-batching); errors name the sample."""
        if self.batch_sampler is not None:
            samples = []
            for i in indices:
                try:
                    samples.append(self.dataset[i])
                except Exception as e:
                    e.loom_sample_index = i
                    raise
            return self.collate_fn(samples)
        try:
            return self.collate_fn(self.dataset[indices])
        except Exception as e:
            e.loom_sample_index = indices
            raise

    def __iter__(self):
        # Drawn whatever num_workers is (as PyTorch does), so that threads never change the shuffle order.
        seed = self._base_seed()
        if self._iterable:
            return self._iter_iterable(seed)
        order = iter(self.batch_sampler) if self.batch_sampler is not None else iter(self.sampler)
        if self.num_workers == 0:
            return self._iter_serial(order)
        return self._iter_threads(order, seed)

    def _iter_serial(self, order):
        for indices in order:
            batch = self._fetch(indices)
            yield _pin(batch) if self.pin_memory else batch

    def _iter_threads(self, order, seed_base):
        """Workers take (batch number, indices) from a task queue and put results in a dict; the main thread
        hands batches out in order. At most num_workers * prefetch_factor batches are in flight."""
        tasks = queue.Queue()
        done = {}
        cond = threading.Condition()
        stop = threading.Event()
        in_flight = self.num_workers * self.prefetch_factor

        def worker(wid):
            _worker.info = WorkerInfo(wid, self.num_workers, seed_base + wid, self.dataset)
            try:
                if self.worker_init_fn is not None:
                    self.worker_init_fn(wid)
            except Exception as e:
                with cond:
                    done[-1] = _WorkerError(e, "{} (in worker_init_fn)".format(wid))
                    cond.notify_all()
                return
            while not stop.is_set():
                task = tasks.get()
                if task is None or stop.is_set():
                    return
                n, indices = task
                try:
                    result = self._fetch(indices)
                    if self.pin_memory:
                        result = _pin(result)
                except Exception as e:
                    where = "{} while loading sample {}".format(wid, getattr(e, "loom_sample_index", indices))
                    result = _WorkerError(e, where)
                with cond:
                    done[n] = result
                    cond.notify_all()

        threads = [threading.Thread(target=worker, args=(w,), daemon=True, name="loom-dataloader-{}".format(w))
                   for w in range(self.num_workers)]

        def wake():
            try:
                while True:
                    tasks.get_nowait()
            except queue.Empty:
                pass
            for _ in threads:
                tasks.put(None)

        workers = _Workers(threads, stop, wake)
        for t in threads:
            t.start()
        try:
            sent = 0
            exhausted = False

            def top_up():
                nonlocal sent, exhausted
                while not exhausted and sent - received < in_flight:
                    try:
                        indices = next(order)
                    except StopIteration:
                        exhausted = True
                        break
                    tasks.put((sent, indices))
                    sent += 1

            received = 0
            top_up()
            while received < sent:
                with cond:
                    ok = cond.wait_for(lambda: received in done or -1 in done,
                                       timeout=self.timeout if self.timeout > 0 else None)
                    if not ok:
                        raise RuntimeError("DataLoader timed out after {} seconds".format(self.timeout))
                    result = done.pop(-1) if -1 in done else done.pop(received)
                if isinstance(result, _WorkerError):
                    result.reraise()
                received += 1
                top_up()
                yield result
        finally:
            workers.shutdown()

    def _base_seed(self):
        from ... import randint
        return int(randint(0, 2 ** 62, (1,), generator=self.generator).item())

    def _iter_iterable(self, seed_base):
        """Each worker iterates its own copy of the stream (shard with get_worker_info()); batches are taken
        from the workers in turn, as PyTorch does."""
        def batches(stream):
            if self.batch_size is None:
                for sample in stream:
                    yield self.collate_fn(sample)
                return
            buf = []
            for sample in stream:
                buf.append(sample)
                if len(buf) == self.batch_size:
                    yield self.collate_fn(buf)
                    buf = []
            if buf and not self.drop_last:
                yield self.collate_fn(buf)

        if self.num_workers == 0:
            for b in batches(iter(self.dataset)):
                yield _pin(b) if self.pin_memory else b
            return
        queues = [queue.Queue(maxsize=self.prefetch_factor) for _ in range(self.num_workers)]
        stop = threading.Event()
        end = object()

        def worker(wid):
            _worker.info = WorkerInfo(wid, self.num_workers, seed_base + wid, self.dataset)
            try:
                if self.worker_init_fn is not None:
                    self.worker_init_fn(wid)
                for b in batches(iter(self.dataset)):
                    if stop.is_set():
                        return
                    queues[wid].put(_pin(b) if self.pin_memory else b)
            except Exception as e:
                if not stop.is_set():
                    queues[wid].put(_WorkerError(e, str(wid)))
            if not stop.is_set():
                queues[wid].put(end)

        threads = [threading.Thread(target=worker, args=(w,), daemon=True) for w in range(self.num_workers)]

        def wake():  # unblock workers waiting on a full queue
            for q in queues:
                try:
                    while True:
                        q.get_nowait()
                except queue.Empty:
                    pass

        workers = _Workers(threads, stop, wake)
        for t in threads:
            t.start()
        try:
            live = list(range(self.num_workers))
            while live:
                for wid in list(live):
                    try:
                        item = queues[wid].get(timeout=self.timeout if self.timeout > 0 else None)
                    except queue.Empty:
                        raise RuntimeError("DataLoader timed out after {} seconds".format(self.timeout))
                    if item is end:
                        live.remove(wid)
                        continue
                    if isinstance(item, _WorkerError):
                        item.reraise()
                    yield item
        finally:
            workers.shutdown()
