"""loom.training: fit / evaluate / predict on a small separable problem, validation_split, callbacks
(early stopping, checkpoint-best, JSONL log, LR scheduler), gradient clipping, forward=, and errors."""
import io
import json

import pytest

import loom
from loom.training import (Callback, EarlyStopping, JSONLLogger, LRSchedulerCallback, ModelCheckpoint, Trainer,
                           accuracy)
from loom.utils.data import DataLoader, TensorDataset


def blobs(n=256, seed=0):
    g = loom.Generator()
    g.manual_seed(seed)
    y = loom.randint(0, 2, (n,), generator=g)
    x = loom.randn(n, 2, generator=g) * 0.5 + (y.to(loom.float32).unsqueeze(1) * 2 - 1) * 1.5
    return x, y


def make(lr=0.05):
    loom.manual_seed(0)
    model = loom.nn.Sequential(loom.nn.Linear(2, 16), loom.nn.ReLU(), loom.nn.Linear(16, 2))
    return model, Trainer(model, loom.nn.CrossEntropyLoss(), loom.optim.Adam(model.parameters(), lr=lr),
                          metrics=["accuracy"], device="cpu")


def test_fit_learns_and_evaluate_predict_agree(capsys):
    x, y = blobs()
    model, trainer = make()
    hist = trainer.fit((x, y), epochs=5, batch_size=32, validation_split=0.25, verbose=1)
    out = capsys.readouterr().out
    assert out.count("Epoch ") == 5 and "val_accuracy" in out  # one plain line per epoch off a terminal
    assert len(hist["loss"]) == 5 and hist["loss"][-1] < hist["loss"][0]
    assert hist["val_accuracy"][-1] > 0.9
    ev = trainer.evaluate((x, y), batch_size=64)
    assert set(ev) == {"loss", "accuracy"} and ev["accuracy"] > 0.9
    pred = trainer.predict(x, batch_size=50)
    assert list(pred.shape) == [256, 2]
    assert accuracy(pred, y).item() == pytest.approx(ev["accuracy"], abs=1e-6)


def test_metrics_are_sample_weighted_over_uneven_batches():
    x, y = blobs(10)
    model, trainer = make()
    full = trainer.evaluate((x, y), batch_size=10)
    uneven = trainer.evaluate((x, y), batch_size=3)  # 3 + 3 + 3 + 1
    assert uneven["loss"] == pytest.approx(full["loss"], rel=1e-5)
    assert uneven["accuracy"] == pytest.approx(full["accuracy"], rel=1e-6)


def test_callbacks(tmp_path):
    x, y = blobs()
    model, trainer = make(lr=0.05)
    sched = loom.optim.lr_scheduler.StepLR(trainer.optimizer, step_size=1, gamma=0.5)
    ckpt = ModelCheckpoint(tmp_path / "best.safetensors", monitor="val_loss")
    log = tmp_path / "log" / "metrics.jsonl"

    class Count(Callback):
        batches = 0

        def on_batch_end(self, trainer, batch, logs):
            Count.batches += 1

    hist = trainer.fit((x, y), epochs=4, batch_size=64, validation_split=0.25, verbose=0,
                       callbacks=[LRSchedulerCallback(sched), ckpt, JSONLLogger(log), Count()])
    assert hist["lr"] == [0.05, 0.025, 0.0125, 0.00625]
    assert Count.batches == 4 * 3
    lines = [json.loads(l) for l in log.read_text().splitlines()]
    assert [l["epoch"] for l in lines] == [1, 2, 3, 4] and "val_loss" in lines[0] and "time" in lines[0]
    assert ckpt.saved and (tmp_path / "best.safetensors").exists()
    state = loom.load(str(tmp_path / "best.safetensors"))
    assert set(state) == set(model.state_dict())


def test_early_stopping_restores_the_best_weights():
    x, y = blobs()
    model, trainer = make(lr=0.05)

    class Worse(Callback):  # a metric that improves once, then never
        def on_epoch_end(self, trainer, epoch, logs):
            logs["score"] = 1.0 if epoch == 1 else 0.5

    stop = EarlyStopping(monitor="score", patience=2, mode="max", restore_best_weights=True)
    hist = trainer.fit((x, y), epochs=20, batch_size=64, verbose=0, callbacks=[Worse(), stop])
    assert len(hist["loss"]) == 4 and stop.stopped_epoch == 3
    with pytest.raises(KeyError):
        make()[1].fit((x, y), epochs=1, verbose=0, callbacks=[EarlyStopping(monitor="nope")])


def test_forward_and_grad_clip_and_loader_input():
    x, y = blobs(64)
    loom.manual_seed(0)
    model = loom.nn.Linear(2, 2)
    trainer = Trainer(model, loom.nn.CrossEntropyLoss(), loom.optim.SGD(model.parameters(), lr=0.1),
                      grad_clip_norm=0.01, forward=lambda m, b: (m(b["x"]), b["y"]), device="cpu")

    class Dicts(loom.utils.data.Dataset):
        def __len__(self):
            return 64

        def __getitem__(self, i):
            return {"x": x[i], "y": y[i]}

    before = model.weight.detach().clone()
    trainer.fit(DataLoader(Dicts(), batch_size=64), epochs=1, verbose=0)
    step = (model.weight.detach() - before).norm().item()
    assert 0 < step <= 0.1 * 0.01 + 1e-6  # one SGD step of a gradient clipped to norm 0.01


def test_errors():
    x, y = blobs(16)
    model, trainer = make()
    with pytest.raises(ValueError):
        trainer.fit((x, y), validation_split=1.5, verbose=0)
    with pytest.raises(ValueError):
        Trainer(model, loom.nn.MSELoss(), metrics=["nope"])
    with pytest.raises(TypeError):
        trainer.fit(DataLoader(TensorDataset(x), batch_size=4), verbose=0)  # no target in the batch
    with pytest.raises(ValueError):
        Trainer(model, loom.nn.MSELoss()).fit((x, y), verbose=0)  # no optimizer


def test_module_to_keeps_parameters_already_in_place():
    m = loom.nn.Linear(2, 2)
    w = m.weight
    m.to("cpu")
    m.to(loom.float32)
    assert m.weight is w  # an optimizer built before .to() keeps working
    m.to(loom.float64)
    assert m.weight is not w and m.weight.dtype == loom.float64


def test_device_compares_unequal_to_strings_that_name_no_device():
    assert loom.device("cpu") == "cpu"
    assert not (loom.device("cpu") == "auto")
    assert loom.device("cpu") != "auto"
    m = loom.nn.Linear(2, 2)
    Trainer(m, loom.nn.MSELoss(), loom.optim.SGD(m.parameters(), lr=0.1), device=loom.device("cpu"))
