"""AdaptiveLogSoftmaxWithLoss: the adaptive softmax of Grave et al. (torch.nn.AdaptiveLogSoftmaxWithLoss).

The head scores the shortlist (the classes below cutoffs[0]) and one entry per tail cluster; cluster i
scores its classes through a projection to in_features // div_value^(i+1) features. A target in a
cluster costs log p(cluster) + log p(class | cluster), computed for the rows whose targets fall there
(their indices are read on the host, as PyTorch's)."""
import collections

from ... import _C
from .container import ModuleList, Sequential
from .linear import Linear
from .module import Module

__all__ = ["AdaptiveLogSoftmaxWithLoss"]

_ASMoutput = collections.namedtuple("_ASMoutput", ["output", "loss"])


class AdaptiveLogSoftmaxWithLoss(Module):
    def __init__(self, in_features, n_classes, cutoffs, div_value=4.0, head_bias=False, device=None, dtype=None):
        super().__init__()
        cutoffs = list(cutoffs)
        if not cutoffs:
            raise ValueError("cutoffs should be a sequence of length larger than 0")
        if (cutoffs != sorted(cutoffs) or min(cutoffs) <= 0 or max(cutoffs) > n_classes - 1 or
                len(set(cutoffs)) != len(cutoffs) or any(int(c) != c for c in cutoffs)):
            raise ValueError("cutoffs should be a sequence of unique, positive integers sorted in an increasing "
                             "order, where each value is between 1 and n_classes-1")
        self.in_features = in_features
        self.n_classes = n_classes
        self.cutoffs = cutoffs + [n_classes]
        self.div_value = div_value
        self.head_bias = head_bias
        self.shortlist_size = self.cutoffs[0]
        self.n_clusters = len(self.cutoffs) - 1
        self.head_size = self.shortlist_size + self.n_clusters
        self.head = Linear(in_features, self.head_size, bias=head_bias)
        self.tail = ModuleList()
        for i in range(self.n_clusters):
            hsz = int(in_features // (div_value ** (i + 1)))
            osz = self.cutoffs[i + 1] - self.cutoffs[i]
            self.tail.append(Sequential(Linear(in_features, hsz, bias=False), Linear(hsz, osz, bias=False)))
        if device is not None or dtype is not None:
            self.to(*[a for a in (device, dtype) if a is not None])

    def reset_parameters(self):
        self.head.reset_parameters()
        for proj in self.tail:
            for lin in proj:
                lin.reset_parameters()

    def forward(self, input_, target_):
        """(output, loss): output[i] = log p(target[i] | input[i]), loss = -output.mean()."""
        if target_.dim() == 1:
            if input_.shape[0] != target_.shape[0]:
                raise RuntimeError("Input and target should have the same size in the batch dimension.")
            if input_.dim() != 2:
                raise RuntimeError(f"1D target tensor expects 2D input tensors, but found inputs with size "
                                   f"{list(input_.shape)}")
        elif target_.dim() == 0:
            if input_.dim() != 1:
                raise RuntimeError(f"0D target tensor expects 1D input tensors, but found inputs with size "
                                   f"{list(input_.shape)}")
        else:
            raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
        batched = target_.dim() > 0
        input = input_ if batched else input_.unsqueeze(0)
        target = target_ if batched else target_.unsqueeze(0)
        target = target.long()
        n = target.shape[0]
        if n and (int(target.min()) < 0 or int(target.max()) >= self.n_classes):
            raise RuntimeError(f"Target values should be in [0, {self.n_classes - 1}], but values in range "
                               f"[{int(target.min())}, {int(target.max())}] were found. ")
        head_logprob = self.head(input).log_softmax(1)
        # the head's column for each row: the class itself in the shortlist, else its cluster's entry
        gather = target.clone()
        output = input.new_zeros(n)
        for i in range(1, len(self.cutoffs)):
            lo, hi = self.cutoffs[i - 1], self.cutoffs[i]
            mask = target.ge(lo).logical_and(target.lt(hi))
            rows = mask.nonzero().reshape(-1)
            if rows.numel() == 0:
                continue
            gather = _C.where(mask, self.shortlist_size + i - 1, gather)
            cluster_logprob = self.tail[i - 1](input.index_select(0, rows)).log_softmax(1)
            local = cluster_logprob.gather(1, (target.index_select(0, rows) - lo).unsqueeze(1)).squeeze(1)
            output = output.index_add(0, rows, local)
        output = output + head_logprob.gather(1, gather.unsqueeze(1)).squeeze(1)
        loss = (-output).mean()
        return _ASMoutput(output if batched else output.squeeze(0), loss)

    def _full_log_prob(self, input, head_output):
        head_logprob = head_output.log_softmax(1)
        parts = [head_logprob.narrow(1, 0, self.shortlist_size)]
        for i in range(self.n_clusters):
            cluster_logprob = self.tail[i](input).log_softmax(1)
            parts.append(cluster_logprob + head_logprob.narrow(1, self.shortlist_size + i, 1))
        return _C.cat(parts, 1)

    def log_prob(self, input):
        """log p(c | input) for every class: [N, n_classes] (or [n_classes] for one input)."""
        batched = input.dim() == 2
        x = input if batched else input.unsqueeze(0)
        out = self._full_log_prob(x, self.head(x))
        return out if batched else out.squeeze(0)

    def predict(self, input):
        """The most probable class of each row (log_prob(input).argmax(1), skipping the tails when the
        head's best entry is in the shortlist everywhere)."""
        batched = input.dim() == 2
        x = input if batched else input.unsqueeze(0)
        head_output = self.head(x)
        best = head_output.argmax(1)
        if not bool(best.ge(self.shortlist_size).any()):
            out = best
        else:
            out = self._full_log_prob(x, head_output).argmax(1)
        return out if batched else out.squeeze(0)
