"""AdaptiveLogSoftmaxWithLoss beyond the PyTorch fixture (test_layers_torch.py): log_prob and predict agree
with forward, and bad arguments raise as PyTorch's."""
import numpy as np
import pytest

import loom
from loom import nn


def test_log_prob_predict_and_forward_agree():
    loom.manual_seed(0)
    m = nn.AdaptiveLogSoftmaxWithLoss(6, 12, [4, 8], div_value=2.0).double()
    x = loom.randn(7, 6, dtype=loom.float64)
    lp = m.log_prob(x)
    assert lp.shape == (7, 12)
    np.testing.assert_allclose(lp.exp().sum(1).detach().numpy(), 1.0, rtol=1e-12)
    target = loom.tensor([0, 3, 4, 7, 8, 11, 5])
    out, loss = m(x, target)
    np.testing.assert_allclose(out.detach().numpy(), lp.gather(1, target.unsqueeze(1)).squeeze(1).detach().numpy(),
                               rtol=1e-12)
    assert loss.item() == pytest.approx(-out.mean().item())
    np.testing.assert_array_equal(m.predict(x).numpy(), lp.argmax(1).numpy())
    assert m.log_prob(x[0]).shape == (12,) and m.predict(x[0]).dim() == 0


def test_errors():
    with pytest.raises(ValueError, match="cutoffs should be a sequence of unique"):
        nn.AdaptiveLogSoftmaxWithLoss(4, 10, [5, 3])
    with pytest.raises(ValueError, match="larger than 0"):
        nn.AdaptiveLogSoftmaxWithLoss(4, 10, [])
    m = nn.AdaptiveLogSoftmaxWithLoss(4, 10, [5])
    with pytest.raises(RuntimeError, match="Target values should be in \\[0, 9\\]"):
        m(loom.randn(2, 4), loom.tensor([1, 10]))
    with pytest.raises(RuntimeError, match="same size in the batch dimension"):
        m(loom.randn(3, 4), loom.tensor([1, 2]))
    with pytest.raises(RuntimeError, match="multi-target not supported"):
        m(loom.randn(2, 4), loom.tensor([[1], [2]]))
