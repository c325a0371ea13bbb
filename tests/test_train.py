"""nanojax.train.fit: the hand-written loop, packaged without losing purity.

fit must give exactly what the four-line loop gives, keep a history with the
documented entries, print nothing unless asked, leave its inputs alone, and
agree with itself with and without jit.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pytest

import nanojax as nj
import nanojax.numpy as jnp
from nanojax import losses, optim
from nanojax.train import fit

RNG = np.random.default_rng(0)
X = RNG.normal(size=(40, 2))
Y = X @ np.array([2.0, -1.0]) + 0.5
X_VAL = RNG.normal(size=(10, 2))
Y_VAL = X_VAL @ np.array([2.0, -1.0]) + 0.5
PARAMS = {"w": np.zeros(2), "b": 0.0}
MINIBATCHES = [(X[i:i + 10], Y[i:i + 10]) for i in range(0, 40, 10)]


def loss_fn(params: dict, batch: tuple) -> Any:
    x, y = batch
    return jnp.mean(losses.mse(x @ params["w"] + params["b"], y))


def within_half(params: dict, data: tuple) -> float:
    """An 'accuracy' for regression: the fraction predicted within 0.5."""
    x, y = data
    return float(np.mean(np.abs(x @ params["w"] + params["b"] - y) < 0.5))


def hand_loop(params: dict, opt: optim.GradientTransformation, batches: list) -> tuple:
    state, seen = opt.init(params), []
    for batch in batches:
        loss, grads = nj.value_and_grad(loss_fn)(params, batch)
        updates, state = opt.update(grads, state, params)
        params = optim.apply_updates(params, updates)
        seen.append(float(loss))
    return params, seen


def assert_params_equal(a: dict, b: dict, **kw) -> None:
    assert a.keys() == b.keys()
    for k in a:
        np.testing.assert_allclose(a[k], b[k], **kw)


# ----- What fit computes -----------------------------------------------------------------

@pytest.mark.parametrize("jit", [False, True], ids=["eager", "jit"])
def test_fit_gives_what_the_hand_written_loop_gives(jit: bool) -> None:
    opt = optim.sgd(0.1, momentum=0.5)
    batches = MINIBATCHES * 3
    trained, history = fit(loss_fn, PARAMS, opt, batches, log_every=4, jit=jit)
    want, losses_seen = hand_loop(PARAMS, opt, batches)
    assert_params_equal(trained, want, rtol=1e-12, atol=1e-14)
    assert history["step"] == [4, 8, 12]
    np.testing.assert_allclose(history["loss"], np.mean(np.reshape(losses_seen, (3, 4)), 1),
                               rtol=1e-12)


def test_jit_on_and_off_give_the_same_result() -> None:
    kwargs = dict(num_steps=25, log_every=5, accuracy_fn=within_half, train_data=(X, Y),
                  val_data=(X_VAL, Y_VAL))
    eager = fit(loss_fn, PARAMS, optim.adam(0.05), lambda s: MINIBATCHES[s % 4], jit=False,
                **kwargs)
    jitted = fit(loss_fn, PARAMS, optim.adam(0.05), lambda s: MINIBATCHES[s % 4], jit=True,
                 **kwargs)
    assert_params_equal(eager[0], jitted[0], rtol=1e-12, atol=1e-14)
    for key in eager[1]:
        np.testing.assert_allclose(eager[1][key], jitted[1][key], rtol=1e-12)


def test_history_has_an_entry_every_log_every_steps_and_after_the_last() -> None:
    _, history = fit(loss_fn, PARAMS, optim.sgd(0.1), lambda s: (X, Y), num_steps=23,
                     log_every=10, accuracy_fn=within_half, train_data=(X, Y),
                     val_data=(X_VAL, Y_VAL))
    assert set(history) == {"step", "loss", "train_accuracy", "val_accuracy"}
    assert history["step"] == [10, 20, 23]
    assert all(len(v) == 3 for v in history.values())
    assert history["loss"][0] > history["loss"][-1]


def test_accuracies_are_of_the_params_after_that_step() -> None:
    trained, history = fit(loss_fn, PARAMS, optim.sgd(0.1), lambda s: (X, Y), num_steps=30,
                           accuracy_fn=within_half, train_data=(X, Y), val_data=(X_VAL, Y_VAL))
    assert history["train_accuracy"][-1] == within_half(trained, (X, Y))
    assert history["val_accuracy"][-1] == within_half(trained, (X_VAL, Y_VAL))
    assert history["train_accuracy"][-1] == 1.0


def test_without_accuracy_fn_history_has_only_steps_and_losses() -> None:
    _, history = fit(loss_fn, PARAMS, optim.sgd(0.1), MINIBATCHES, log_every=2)
    assert history == {"step": [2, 4], "loss": history["loss"]}
    assert all(isinstance(x, float) for x in history["loss"])


def test_has_aux_records_the_aux_of_the_last_step() -> None:
    def with_aux(params, batch):
        loss = loss_fn(params, batch)
        return loss, {"loss_times_two": 2 * loss}

    _, history = fit(with_aux, PARAMS, optim.sgd(0.1), MINIBATCHES, has_aux=True, log_every=2)
    assert len(history["aux"]) == 2
    np.testing.assert_allclose(history["aux"][-1]["loss_times_two"] / 2,
                               loss_fn(hand_loop(PARAMS, optim.sgd(0.1), MINIBATCHES[:3])[0],
                                       MINIBATCHES[3]))


def test_num_steps_stops_an_endless_stream_of_batches() -> None:
    def endless():
        while True:
            yield X, Y

    _, history = fit(loss_fn, PARAMS, optim.sgd(0.1), endless(), num_steps=7, log_every=5)
    assert history["step"] == [5, 7]


def test_fit_stops_when_the_batches_run_out() -> None:
    _, history = fit(loss_fn, PARAMS, optim.sgd(0.1), iter(MINIBATCHES), num_steps=100)
    assert history["step"] == [4]


def test_no_batches_returns_the_params_and_an_empty_history() -> None:
    trained, history = fit(loss_fn, PARAMS, optim.sgd(0.1), [])
    assert trained is PARAMS and history == {"step": [], "loss": []}


# ----- Output: silent unless asked ---------------------------------------------------------

def test_fit_prints_nothing_by_default(capsys: pytest.CaptureFixture) -> None:
    fit(loss_fn, PARAMS, optim.sgd(0.1), lambda s: (X, Y), num_steps=20, accuracy_fn=within_half,
        train_data=(X, Y))
    assert capsys.readouterr() == ("", "")


def test_progress_writes_one_rewritten_line_to_stderr(capsys: pytest.CaptureFixture) -> None:
    _, history = fit(loss_fn, PARAMS, optim.sgd(0.1), lambda s: (X, Y), num_steps=20,
                     accuracy_fn=within_half, train_data=(X, Y), val_data=(X_VAL, Y_VAL),
                     progress=True)
    out, err = capsys.readouterr()
    assert out == ""
    assert err.count("\r") == 2 and err.endswith("\n") and err.count("\n") == 1
    assert f"step 20/20  loss {history['loss'][-1]:.4f}  train acc " in err
    assert "val acc" in err


# ----- Purity ----------------------------------------------------------------------------

def test_fit_leaves_params_and_batches_alone() -> None:
    params, batches = copy.deepcopy(PARAMS), copy.deepcopy(MINIBATCHES)
    trained, _ = fit(loss_fn, params, optim.adam(0.1), batches)
    assert_params_equal(params, PARAMS, rtol=0, atol=0)
    for (x, y), (x0, y0) in zip(batches, MINIBATCHES):
        np.testing.assert_array_equal(x, x0)
        np.testing.assert_array_equal(y, y0)
    assert not np.array_equal(trained["w"], PARAMS["w"])


def test_fit_twice_gives_the_same_result() -> None:
    a = fit(loss_fn, PARAMS, optim.adam(0.1), MINIBATCHES)
    b = fit(loss_fn, PARAMS, optim.adam(0.1), MINIBATCHES)
    assert_params_equal(a[0], b[0], rtol=0, atol=0)
    assert a[1] == b[1]


# ----- Bad arguments -----------------------------------------------------------------------

BAD_CALLS = [
    pytest.param(dict(batches=lambda s: (X, Y)), ValueError, "num_steps is needed",
                 id="function-batches-without-num_steps"),
    pytest.param(dict(train_data=(X, Y)), ValueError, "pass accuracy_fn",
                 id="data-without-accuracy_fn"),
    pytest.param(dict(log_every=0), ValueError, "log_every must be a positive integer",
                 id="log_every-zero"),
    pytest.param(dict(num_steps=2.5), ValueError, "num_steps must be a positive integer",
                 id="num_steps-float"),
    pytest.param(dict(optimizer=(lambda p: p)), TypeError, "GradientTransformation",
                 id="not-an-optimizer"),
]


@pytest.mark.parametrize("changes, error, fragment", BAD_CALLS)
def test_bad_arguments_raise_before_training(changes: dict, error: type,
                                             fragment: str) -> None:
    kwargs = dict(loss_fn=loss_fn, params=PARAMS, optimizer=optim.sgd(0.1),
                  batches=MINIBATCHES) | changes
    with pytest.raises(error, match=fragment):
        fit(**kwargs)
