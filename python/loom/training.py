"""loom.training: Keras-style fit / evaluate / predict for any loom model, loss and optimizer.

    trainer = loom.training.Trainer(model, loom.nn.CrossEntropyLoss(), loom.optim.AdamW(model.parameters()),
                                    metrics=["accuracy"])
    history = trainer.fit(train_data, epochs=10, batch_size=64, validation_split=0.1,
                          callbacks=[EarlyStopping(patience=3), ModelCheckpoint("best.safetensors"),
                                     JSONLLogger("metrics.jsonl")])
    trainer.evaluate(test_data)        # {"loss": ..., "accuracy": ...}
    trainer.predict(test_inputs)       # the model's outputs, concatenated

Data: a DataLoader, a Dataset (batched here with batch_size and shuffle), or a tuple of tensors (x, y) /
(x1, x2, y). A batch is a tuple whose last element is the target and the rest are the model's inputs:
loss = loss_fn(model(*inputs), target). Give `forward(model, batch) -> (output, target)` for anything
else (dict batches, models that return several things).

The device is chosen once ("auto": CUDA when available); batches are moved to it. Metrics are
averaged over samples (weighted by batch size). The progress bar redraws one line on a terminal (rate,
ETA, running loss and metrics) and prints one line per epoch otherwise.
"""
import json
import math
import os
import sys
import time

__all__ = ["Trainer", "History", "Callback", "EarlyStopping", "ModelCheckpoint", "JSONLLogger", "LRSchedulerCallback",
           "accuracy"]


def accuracy(output, target):
    """Top-1 accuracy of class scores [N, C] (or [N] binary logits) against integer labels [N]."""
    if output.dim() == 1 or (output.dim() == 2 and output.shape[1] == 1):
        pred = (output.reshape(-1) > 0).to(target.dtype)
    else:
        pred = output.argmax(-1)
    return (pred == target).to(output.dtype).mean()


_METRICS = {"accuracy": accuracy, "acc": accuracy}


def _to(obj, device):
    from . import _C
    if isinstance(obj, _C.Tensor):
        return obj if obj.device == device else obj.to(device)
    if isinstance(obj, dict):
        return {k: _to(v, device) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)) and not hasattr(obj, "_fields"):
        return type(obj)(_to(v, device) for v in obj)
    return obj


def _batch_size(batch):
    from . import _C
    if isinstance(batch, _C.Tensor):
        return batch.shape[0] if batch.dim() > 0 else 1
    if isinstance(batch, dict):
        for v in batch.values():
            n = _batch_size(v)
            if n:
                return n
    if isinstance(batch, (list, tuple)):
        for v in batch:
            n = _batch_size(v)
            if n:
                return n
    return 0


def _float(v):
    return float(v.item()) if hasattr(v, "item") else float(v)


class History:
    """What fit() returns: history[name] is the list of that metric per epoch ("loss", "val_loss", ...)."""

    def __init__(self):
        self.history = {}
        self.epoch = []

    def add(self, epoch, logs):
        self.epoch.append(epoch)
        for k, v in logs.items():
            self.history.setdefault(k, []).append(v)

    def __getitem__(self, key):
        return self.history[key]

    def __repr__(self):
        return "History(epochs={}, keys={})".format(len(self.epoch), sorted(self.history))


class Callback:
    """Hooks called by fit(); logs is a dict of the epoch's metrics. Set trainer.stop_training to stop."""

    def on_train_begin(self, trainer):
        pass

    def on_epoch_begin(self, trainer, epoch):
        pass

    def on_batch_end(self, trainer, batch, logs):
        pass

    def on_epoch_end(self, trainer, epoch, logs):
        pass

    def on_train_end(self, trainer, logs):
        pass


def _better(mode, monitor):
    if mode == "auto":
        mode = "max" if any(s in monitor for s in ("acc", "recall", "r@", "precision", "f1")) else "min"
    if mode not in ("min", "max"):
        raise ValueError("mode must be 'min', 'max' or 'auto', got " + repr(mode))
    return mode


class EarlyStopping(Callback):
    """Stops when `monitor` has not improved by min_delta for `patience` epochs; restore_best_weights puts
    the best epoch's weights back at the end."""

    def __init__(self, monitor="val_loss", patience=3, min_delta=0.0, mode="auto", restore_best_weights=False):
        self.monitor, self.patience, self.min_delta = monitor, int(patience), abs(float(min_delta))
        self.mode = _better(mode, monitor)
        self.restore_best_weights = restore_best_weights
        self.best, self.wait, self.stopped_epoch, self.best_weights = None, 0, None, None

    def on_train_begin(self, trainer):
        self.best, self.wait, self.stopped_epoch, self.best_weights = None, 0, None, None

    def _improved(self, value):
        if self.best is None:
            return True
        return value < self.best - self.min_delta if self.mode == "min" else value > self.best + self.min_delta

    def on_epoch_end(self, trainer, epoch, logs):
        if self.monitor not in logs:
            raise KeyError("EarlyStopping: metric {!r} is not in the epoch's logs {}".format(self.monitor,
                                                                                             sorted(logs)))
        value = logs[self.monitor]
        if self._improved(value):
            self.best, self.wait = value, 0
            if self.restore_best_weights:
                self.best_weights = {k: v.detach().clone() for k, v in trainer.model.state_dict().items()}
        else:
            self.wait += 1
            if self.wait >= self.patience:
                self.stopped_epoch = epoch
                trainer.stop_training = True

    def on_train_end(self, trainer, logs):
        if self.restore_best_weights and self.best_weights is not None:
            trainer.model.load_state_dict(self.best_weights)


class ModelCheckpoint(Callback):
    """Saves the model's state_dict (safetensors, loom.save) after each epoch, or only when `monitor`
    improves with save_best_only. The path may contain {epoch} and metric names: "ckpt-{epoch:02d}.safetensors"."""

    def __init__(self, filepath, monitor="val_loss", mode="auto", save_best_only=True):
        self.filepath, self.monitor, self.save_best_only = str(filepath), monitor, save_best_only
        self.mode = _better(mode, monitor)
        self.best = None
        self.saved = []

    def on_epoch_end(self, trainer, epoch, logs):
        from . import save
        if self.save_best_only:
            if self.monitor not in logs:
                raise KeyError("ModelCheckpoint: metric {!r} is not in the epoch's logs {}".format(
                    self.monitor, sorted(logs)))
            value = logs[self.monitor]
            better = self.best is None or (value < self.best if self.mode == "min" else value > self.best)
            if not better:
                return
            self.best = value
        path = self.filepath.format(epoch=epoch + 1, **logs)
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        save({k: v.detach().cpu().contiguous() for k, v in trainer.model.state_dict().items()}, path)
        self.saved.append(path)


class JSONLLogger(Callback):
    """Appends one JSON object per epoch ({"epoch": 1, "loss": ..., "val_loss": ..., "lr": ..., "time": ...})."""

    def __init__(self, path, append=False):
        self.path, self.append = str(path), append

    def on_train_begin(self, trainer):
        os.makedirs(os.path.dirname(os.path.abspath(self.path)), exist_ok=True)
        if not self.append:
            open(self.path, "w").close()

    def on_epoch_end(self, trainer, epoch, logs):
        with open(self.path, "a") as f:
            f.write(json.dumps(dict(epoch=epoch + 1, **logs)) + "\n")


class LRSchedulerCallback(Callback):
    """Steps a loom.optim.lr_scheduler scheduler once per epoch (or per batch with per_batch=True)."""

    def __init__(self, scheduler, per_batch=False):
        self.scheduler, self.per_batch = scheduler, per_batch

    def on_batch_end(self, trainer, batch, logs):
        if self.per_batch:
            self.scheduler.step()

    def on_epoch_end(self, trainer, epoch, logs):
        if not self.per_batch:
            self.scheduler.step()


class _Progress:
    """One redrawn line on a terminal; one line per epoch elsewhere (logs, CI)."""

    def __init__(self, verbose, stream=None):
        self.stream = stream or sys.stdout
        self.verbose = verbose
        self.tty = verbose == 1 and hasattr(self.stream, "isatty") and self.stream.isatty()

    @staticmethod
    def _fmt(logs):
        return "  ".join("{} {:.4f}".format(k, v) for k, v in logs.items())

    def batch(self, epoch, epochs, step, steps, t0, logs):
        if not self.tty:
            return
        elapsed = time.perf_counter() - t0
        rate = step / elapsed if elapsed > 0 else 0.0
        eta = (steps - step) / rate if rate > 0 and steps else 0.0
        width = 24
        done = int(width * step / steps) if steps else 0
        bar = "=" * done + (">" if done < width else "") + " " * max(0, width - done - 1)
        line = "\rEpoch {}/{} {:>5}/{} [{}] {:.1f} it/s ETA {}s  {}".format(
            epoch + 1, epochs, step, steps or "?", bar, rate, int(eta), self._fmt(logs))
        self.stream.write(line[:200].ljust(120))
        self.stream.flush()

    def epoch(self, epoch, epochs, seconds, logs):
        if not self.verbose:
            return
        line = "Epoch {}/{} {:.1f}s  {}".format(epoch + 1, epochs, seconds, self._fmt(logs))
        self.stream.write(("\r" + line.ljust(120) if self.tty else line) + "\n")
        self.stream.flush()


class Trainer:
    """Trains `model` with `loss_fn` and `optimizer`; see the module docstring."""

    def __init__(self, model, loss_fn, optimizer=None, metrics=None, device="auto", grad_clip_norm=None,
                 forward=None):
        from . import cuda, device as _device
        if device == "auto":
            device = "cuda" if cuda.is_available() else "cpu"
        self.device = _device(device) if isinstance(device, str) else device
        self.model = model.to(self.device)
        self.loss_fn = loss_fn
        self.optimizer = optimizer
        self.metrics = {}
        for m in metrics or []:
            if isinstance(m, str):
                if m not in _METRICS:
                    raise ValueError("Trainer: unknown metric {!r}; known: {} (or pass (name, fn))".format(
                        m, sorted(_METRICS)))
                self.metrics[m] = _METRICS[m]
            elif isinstance(m, tuple) and len(m) == 2 and callable(m[1]):
                self.metrics[m[0]] = m[1]
            elif callable(m):
                self.metrics[getattr(m, "__name__", "metric")] = m
            else:
                raise TypeError("Trainer: a metric is a name, a function or a (name, function) pair; got " + repr(m))
        self.grad_clip_norm = grad_clip_norm
        self.forward = forward or self._default_forward
        self.stop_training = False
        self.history = None

    @staticmethod
    def _default_forward(model, batch):
        if not isinstance(batch, (list, tuple)) or len(batch) < 2:
            raise TypeError("Trainer: a batch must be a tuple (inputs..., target), got {}; pass forward=fn(model, "
                            "batch) -> (output, target) for other batches".format(type(batch).__name__))
        return model(*batch[:-1]), batch[-1]

    def _loader(self, data, batch_size, shuffle):
        from .utils.data import DataLoader, Dataset, TensorDataset
        from . import _C
        if isinstance(data, DataLoader):
            return data
        if isinstance(data, (tuple, list)) and data and all(isinstance(t, _C.Tensor) for t in data):
            data = TensorDataset(*data)
        if isinstance(data, Dataset) or (hasattr(data, "__getitem__") and hasattr(data, "__len__")):
            return DataLoader(data, batch_size=batch_size, shuffle=shuffle)
        raise TypeError("Trainer: data must be a DataLoader, a Dataset or a tuple of tensors, got " +
                        type(data).__name__)

    def _run(self, loader, train, progress=None, epoch=0, epochs=1, callbacks=()):
        from .autograd.grad_mode import no_grad, enable_grad
        from .nn.utils import clip_grad_norm_
        self.model.train(train)
        sums, count = {}, 0
        steps = len(loader) if hasattr(loader, "__len__") else 0
        t0 = time.perf_counter()
        ctx = enable_grad() if train else no_grad()
        with ctx:
            for step, batch in enumerate(loader, 1):
                batch = _to(batch, self.device)
                output, target = self.forward(self.model, batch)
                loss = self.loss_fn(output, target)
                if train:
                    self.optimizer.zero_grad()
                    loss.backward()
                    if self.grad_clip_norm is not None:
                        clip_grad_norm_(self.model.parameters(), self.grad_clip_norm)
                    self.optimizer.step()
                n = _batch_size(target) or 1
                count += n
                values = {"loss": loss.detach()}
                if self.metrics:
                    with no_grad():
                        for name, fn in self.metrics.items():
                            values[name] = fn(output.detach(), target)
                for k, v in values.items():  # tensors stay on the device until the line is drawn
                    sums[k] = sums.get(k, 0.0) + v * n
                if train:
                    for cb in callbacks:
                        cb.on_batch_end(self, step, None)
                    if progress is not None and progress.tty:
                        progress.batch(epoch, epochs, step, steps, t0, {k: _float(v) / count for k, v in sums.items()})
        return {k: _float(v) / max(count, 1) for k, v in sums.items()}

    def fit(self, data, epochs=1, batch_size=32, shuffle=True, validation_data=None, validation_split=0.0,
            callbacks=None, verbose=1, initial_epoch=0):
        """Trains for `epochs`; returns a History with loss, metrics, val_* and lr per epoch."""
        if self.optimizer is None:
            raise ValueError("Trainer.fit: the Trainer was built without an optimizer")
        callbacks = list(callbacks or [])
        if validation_split and validation_data is None:
            if not 0 < validation_split < 1:
                raise ValueError("fit: validation_split must be in (0, 1), got {}".format(validation_split))
            data, validation_data = self._split(data, validation_split)
        train_loader = self._loader(data, batch_size, shuffle)
        val_loader = self._loader(validation_data, batch_size, False) if validation_data is not None else None
        progress = _Progress(verbose)
        self.history = History()
        self.stop_training = False
        for cb in callbacks:
            cb.on_train_begin(self)
        logs = {}
        for epoch in range(initial_epoch, epochs):
            for cb in callbacks:
                cb.on_epoch_begin(self, epoch)
            t0 = time.perf_counter()
            logs = self._run(train_loader, True, progress, epoch, epochs, callbacks)
            if val_loader is not None:
                logs.update({"val_" + k: v for k, v in self._run(val_loader, False).items()})
            logs["lr"] = self.optimizer.param_groups[0]["lr"]
            logs["time"] = time.perf_counter() - t0
            progress.epoch(epoch, epochs, logs["time"], {k: v for k, v in logs.items() if k not in ("time",)})
            for cb in callbacks:
                cb.on_epoch_end(self, epoch, logs)
            self.history.add(epoch, logs)
            if self.stop_training:
                break
        for cb in callbacks:
            cb.on_train_end(self, logs)
        return self.history

    def _split(self, data, fraction):
        """The last `fraction` of the samples for validation (as Keras: not shuffled first)."""
        from .utils.data import DataLoader, Subset, TensorDataset
        from . import _C
        if isinstance(data, DataLoader):
            raise ValueError("fit: validation_split needs a Dataset or tensors, not a DataLoader")
        if isinstance(data, (tuple, list)) and all(isinstance(t, _C.Tensor) for t in data):
            data = TensorDataset(*data)
        n = len(data)
        n_val = int(math.floor(n * fraction))
        if n_val == 0 or n_val == n:
            raise ValueError("fit: validation_split={} of {} samples leaves an empty split".format(fraction, n))
        return Subset(data, range(n - n_val)), Subset(data, range(n - n_val, n))

    def evaluate(self, data, batch_size=32):
        """The loss and metrics over `data` (eval mode, no gradients), averaged over samples."""
        return self._run(self._loader(data, batch_size, False), False)

    def predict(self, data, batch_size=32):
        """The model's outputs over `data`, concatenated along the batch dimension. A batch may hold inputs
        only (a tensor or a tuple of tensors); with forward=, its output is used and the target ignored."""
        from .autograd.grad_mode import no_grad
        from . import _C, cat
        loader = self._loader(data if not isinstance(data, _C.Tensor) else (data,), batch_size, False)
        self.model.eval()
        outs = []
        with no_grad():
            for batch in loader:
                batch = _to(batch, self.device)
                if self.forward is not self._default_forward:
                    out = self.forward(self.model, batch)[0]
                else:
                    inputs = batch if isinstance(batch, (list, tuple)) else (batch,)
                    out = self.model(*inputs)
                outs.append(out)
        return cat(outs, 0)
