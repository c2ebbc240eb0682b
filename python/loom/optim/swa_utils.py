"""loom.optim.swa_utils: weight averaging, as torch.optim.swa_utils.

``AveragedModel`` keeps a copy of a model whose parameters (and, with ``use_buffers=True``, buffers) are a
running average of the model's: stochastic weight averaging by default (the mean of every
``update_parameters`` call), an exponential moving average with ``multi_avg_fn=get_ema_multi_avg_fn(decay)``
(or ``avg_fn=get_ema_avg_fn(decay)``), or any function of (averaged, current, number averaged so far).
``SWALR`` anneals each group's learning rate to its ``swa_lr`` over ``anneal_epochs`` steps (cosine or
linear); ``update_bn`` recomputes the batch-norm statistics of a model (an averaged one) over a loader.
"""
import copy
import itertools
import math

from .. import _C
from .._factories import tensor as _tensor
from ..autograd.grad_mode import no_grad
from ..nn.modules.module import Module
from ..nn.modules.normalization import _BatchNorm
from .lr_scheduler import LRScheduler, _per_group_values

__all__ = ["AveragedModel", "SWALR", "update_bn", "get_ema_avg_fn", "get_swa_avg_fn", "get_ema_multi_avg_fn",
           "get_swa_multi_avg_fn"]


def _count(num_averaged):
    return float(num_averaged.item()) if isinstance(num_averaged, _C.Tensor) else float(num_averaged)


def get_ema_avg_fn(decay=0.999):
    """avg_fn of an exponential moving average: decay * averaged + (1 - decay) * current."""
    def ema(averaged, current, num_averaged):
        return decay * averaged + (1 - decay) * current
    return ema


def get_swa_avg_fn():
    """avg_fn of the running mean: averaged + (current - averaged) / (num_averaged + 1)."""
    def swa(averaged, current, num_averaged):
        return averaged + (current - averaged) / (num_averaged + 1)
    return swa


def get_ema_multi_avg_fn(decay=0.999):
    """multi_avg_fn of an exponential moving average, in place on lists of tensors."""
    def ema(averaged, current, num_averaged):
        with no_grad():
            for a, c in zip(averaged, current):
                if a.is_floating_point():
                    a.lerp_(c, 1 - decay)
                else:  # integer buffers: the average rounded toward zero, as a copy does
                    a.copy_(a * decay + c * (1 - decay))
    return ema


def get_swa_multi_avg_fn():
    """multi_avg_fn of the running mean, in place on lists of tensors."""
    def swa(averaged, current, num_averaged):
        weight = 1.0 / (_count(num_averaged) + 1)
        with no_grad():
            for a, c in zip(averaged, current):
                if a.is_floating_point():
                    a.lerp_(c, weight)
                else:
                    a.copy_(a + (c - a) * weight)
    return swa


class AveragedModel(Module):
    """A deep copy of ``model`` whose parameters average the model's over ``update_parameters`` calls.

    ``forward`` runs the copy (``self.module``); ``n_averaged`` (a buffer, saved in the state dict) counts the
    updates. The first update copies the model; later ones apply ``multi_avg_fn`` to the lists of averaged
    and current tensors of each (device, dtype), or ``avg_fn`` to each pair, or by default the running mean.
    Buffers are averaged too with ``use_buffers=True``; otherwise they are copied from the model on each
    update (then run ``update_bn`` for batch-norm statistics that match the averaged weights).
    """

    def __init__(self, model, device=None, avg_fn=None, multi_avg_fn=None, use_buffers=False):
        super().__init__()
        if avg_fn is not None and multi_avg_fn is not None:
            raise ValueError("AveragedModel: give avg_fn or multi_avg_fn, not both")
        self.module = copy.deepcopy(model)
        if device is not None:
            self.module = self.module.to(device)
        self.register_buffer("n_averaged", _tensor(0, dtype=_C.int64, device=device))
        self.avg_fn = avg_fn
        self.multi_avg_fn = multi_avg_fn
        self.use_buffers = use_buffers

    def forward(self, *args, **kwargs):
        return self.module(*args, **kwargs)

    def _averaged_tensors(self, model):
        if self.use_buffers:
            return (list(itertools.chain(self.module.parameters(), self.module.buffers())),
                    list(itertools.chain(model.parameters(), model.buffers())))
        return list(self.module.parameters()), list(model.parameters())

    def update_parameters(self, model):
        mine, theirs = self._averaged_tensors(model)
        if len(mine) != len(theirs):
            raise ValueError(f"AveragedModel.update_parameters: the model has {len(theirs)} tensors to average, "
                             f"the averaged copy {len(mine)}")
        averaged = [t.detach() for t in mine]
        current = [t.detach().to(a.device) for t, a in zip(theirs, averaged)]
        n = _count(self.n_averaged)
        with no_grad():
            if n == 0:
                for a, c in zip(averaged, current):
                    a.copy_(c)
            elif self.avg_fn is not None:
                for a, c in zip(averaged, current):
                    a.copy_(self.avg_fn(a, c, self.n_averaged.to(a.device)))
            elif self.multi_avg_fn is not None:
                groups = {}
                for a, c in zip(averaged, current):
                    lists = groups.setdefault((str(a.device), str(a.dtype)), ([], []))
                    lists[0].append(a)
                    lists[1].append(c)
                for (device, _), (a_list, c_list) in groups.items():
                    self.multi_avg_fn(a_list, c_list, self.n_averaged.to(device))
            else:
                swa = get_swa_avg_fn()
                for a, c in zip(averaged, current):
                    a.copy_(swa(a, c, n))
            if not self.use_buffers:
                for mine_b, their_b in zip(self.module.buffers(), model.buffers()):
                    mine_b.detach().copy_(their_b.detach().to(mine_b.device))
            self.n_averaged += 1


def update_bn(loader, model, device=None):
    """Recomputes the running statistics of every batch-norm layer of ``model``: the statistics are reset,
    then one forward pass in training mode over each batch of ``loader`` (the first element of a list or
    tuple batch; moved to ``device`` when given) accumulates their plain average (momentum None), and the
    layers' momenta and the model's training mode are restored."""
    norms = [m for m in model.modules() if isinstance(m, _BatchNorm)]
    if not norms:
        return
    momenta = {}
    for m in norms:
        m.reset_running_stats()
        momenta[m] = m.momentum
        m.momentum = None
    was_training = model.training
    model.train()
    with no_grad():
        for batch in loader:
            x = batch[0] if isinstance(batch, (list, tuple)) else batch
            if device is not None:
                x = x.to(device)
            model(x)
    for m, momentum in momenta.items():
        m.momentum = momentum
    model.train(was_training)


class SWALR(LRScheduler):
    """Anneals each parameter group's learning rate from its value to ``swa_lr`` (one value, or one per
    group) over ``anneal_epochs`` steps, along a cosine (``anneal_strategy="cos"``) or a line, then keeps it
    there. Each step blends the group's current rate, traced back to where the annealing started, with
    swa_lr, so a rate changed by hand or by another scheduler before SWALR takes over is annealed from."""

    def __init__(self, optimizer, swa_lr, anneal_epochs=10, anneal_strategy="cos", last_epoch=-1):
        for lr, group in zip(_per_group_values(optimizer, swa_lr, "swa_lr"), optimizer.param_groups):
            group["swa_lr"] = lr
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(f"anneal_strategy must by one of 'cos' or 'linear', instead got {anneal_strategy}")
        if isinstance(anneal_epochs, bool) or not isinstance(anneal_epochs, int) or anneal_epochs < 0:
            raise ValueError(f"anneal_epochs must be equal or greater than 0, got {anneal_epochs}")
        self.anneal_strategy = anneal_strategy
        self.anneal_epochs = anneal_epochs
        super().__init__(optimizer, last_epoch)

    def _anneal(self, t):
        """The share of swa_lr at the fraction t of the annealing."""
        return (1 - math.cos(math.pi * t)) / 2 if self.anneal_strategy == "cos" else t

    def _fraction(self, step):
        return max(0.0, min(1.0, step / max(1, self.anneal_epochs)))

    def get_lr(self):
        step = self._step_count - 1
        if self.anneal_epochs == 0:
            step = max(1, step)
        before, now = self._anneal(self._fraction(step - 1)), self._anneal(self._fraction(step))
        rates = []
        for group in self.optimizer.param_groups:
            lr, swa_lr = group["lr"], group["swa_lr"]
            # The rate the annealing started from, given that the current one is `before` of the way to swa_lr.
            start = swa_lr if before == 1 else (lr - before * swa_lr) / (1 - before)
            rates.append(swa_lr * now + start * (1 - now))
        return rates
