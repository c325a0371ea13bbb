"""A training loop that stays functional: params in, trained params out.

``fit`` runs the loop every example in the guide writes by hand::

    for step in range(num_steps):
        loss, grads = value_and_grad(loss_fn)(params, batch)
        updates, opt_state = optimizer.update(grads, opt_state, params)
        params = optim.apply_updates(params, updates)

and keeps a history of what happened. Nothing is printed unless
``progress=True``, and the params passed in are never changed. For anything
fancier (resuming an optimizer's state, custom schedules of evaluation) the
loop above is four lines: write it out.

``fit(loss_fn, params, optimizer, batches, *, num_steps=None, has_aux=False,
log_every=10, accuracy_fn=None, train_data=None, val_data=None, jit=True,
progress=False) -> (params, history)``

- ``loss_fn(params, batch)`` returns a scalar loss (or ``(loss, aux)`` with
  ``has_aux=True``).
- ``batches`` is an iterable of batches (a list, a generator) or a function
  ``batches(step) -> batch`` of the step number, counted from 0. For
  full-batch training pass ``lambda step: (X, y)``; a bare ``(X, y)`` would
  be read as two batches.
- ``history`` is a dict of equal-length lists, one entry every ``log_every``
  steps and one after the last step: ``"step"`` (updates done so far),
  ``"loss"`` (the mean loss over the steps since the previous entry), and,
  when ``accuracy_fn(params, data)`` is given, ``"train_accuracy"`` /
  ``"val_accuracy"`` of the current params on ``train_data`` / ``val_data``;
  with ``has_aux``, ``"aux"`` holds the last step's aux.

Examples:
    The guide's SVM on its six points, full batch, with the hinge loss and
    the regularization pull:

    >>> import nanojax as nj
    >>> import nanojax.numpy as jnp
    >>> X, y = nj.datasets.hackers_guide()
    >>> def loss_fn(params, batch):
    ...     X, y = batch
    ...     scores = X @ params["w"] + params["c"]
    ...     return jnp.mean(nj.losses.hinge(scores, y)) + 0.01 * jnp.sum(params["w"] ** 2)
    >>> def accuracy(params, data):
    ...     X, y = data
    ...     return float(jnp.mean(jnp.sign(X @ params["w"] + params["c"]) == y))
    >>> params = {"w": jnp.array([1.0, -2.0]), "c": -1.0}      # a=1, b=-2, c=-1
    >>> trained, history = nj.train.fit(
    ...     loss_fn, params, nj.optim.sgd(0.1), lambda step: (X, y), num_steps=30,
    ...     accuracy_fn=accuracy, train_data=(X, y))
    >>> history["step"]
    [10, 20, 30]
    >>> [round(a, 3) for a in history["train_accuracy"]]
    [0.667, 0.833, 1.0]
    >>> [round(loss, 3) for loss in history["loss"]]
    [0.737, 0.498, 0.345]
    >>> print(params["c"], round(float(trained["c"]), 3))   # params itself is unchanged
    -1.0 -1.267
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import numpy as np

import nanojax.numpy as jnp
from nanojax import optim
from nanojax.autodiff import value_and_grad
from nanojax.jit import jit as jit_fn

__all__ = ["fit"]

Params = Any
Batch = Any


def _step_fn(loss_fn: Callable, optimizer: optim.GradientTransformation,
             has_aux: bool) -> Callable:
    """One pure training step: ``(params, opt_state, batch) -> (params, opt_state, out)``."""
    loss_and_grads = value_and_grad(loss_fn, has_aux=has_aux)

    def step(params, opt_state, batch):
        out, grads = loss_and_grads(params, batch)
        updates, opt_state = optimizer.update(grads, opt_state, params)
        return optim.apply_updates(params, updates), opt_state, out
    return step


def _batch_stream(batches: Iterable[Batch] | Callable[[int], Batch],
                  num_steps: int | None) -> Iterator[Batch]:
    if callable(batches):
        if num_steps is None:
            raise ValueError("nanojax.train.fit: batches is a function of the step, so num_steps "
                             "is needed to know when to stop")
        return (batches(step) for step in range(num_steps))
    stream = iter(batches)
    return stream if num_steps is None else (b for _, b in zip(range(num_steps), stream))


def _check_arguments(optimizer: Any, num_steps: int | None, log_every: int,
                     accuracy_fn: Callable | None, train_data: Any, val_data: Any) -> None:
    if not isinstance(optimizer, optim.GradientTransformation):
        raise TypeError("nanojax.train.fit: optimizer must be an optim.GradientTransformation, "
                        f"such as nj.optim.sgd(0.1), got {type(optimizer).__name__}")
    for name, value in (("num_steps", num_steps), ("log_every", log_every)):
        if value is not None and (not isinstance(value, (int, np.integer))
                                  or isinstance(value, bool) or value < 1):
            raise ValueError(f"nanojax.train.fit: {name} must be a positive integer, got {value!r}")
    if accuracy_fn is None and (train_data is not None or val_data is not None):
        raise ValueError("nanojax.train.fit: train_data and val_data are only used to measure "
                         "accuracy: pass accuracy_fn(params, data) too")


class _Recorder:
    """Collects the history and, when asked, shows it on one terminal line."""

    def __init__(self, accuracy_fn, train_data, val_data, has_aux, num_steps, progress):
        self.evals = {name: data for name, data in
                      (("train_accuracy", train_data), ("val_accuracy", val_data))
                      if accuracy_fn is not None and data is not None}
        self.accuracy_fn, self.num_steps, self.progress = accuracy_fn, num_steps, progress
        self.history: dict[str, list] = {"step": [], "loss": [],
                                         **{name: [] for name in self.evals}}
        if has_aux:
            self.history["aux"] = []
        self.pending: list[float] = []      # losses since the last record

    def record(self, step: int, params: Params, aux: Any = None) -> None:
        h = self.history
        h["step"].append(step)
        h["loss"].append(sum(self.pending) / len(self.pending))
        self.pending = []
        for name, data in self.evals.items():
            h[name].append(float(self.accuracy_fn(params, data)))
        if "aux" in h:
            h["aux"].append(aux)
        if self.progress:
            total = "" if self.num_steps is None else f"/{self.num_steps}"
            fields = [f"step {step}{total}", f"loss {h['loss'][-1]:.4f}"]
            fields += [f"{name.replace('_accuracy', ' acc')} {h[name][-1]:.3f}"
                       for name in self.evals]
            sys.stderr.write("\r" + "  ".join(fields))
            sys.stderr.flush()

    def finish(self) -> None:
        if self.progress and self.history["step"]:
            sys.stderr.write("\n")
            sys.stderr.flush()


def fit(loss_fn: Callable[[Params, Batch], Any], params: Params,
        optimizer: optim.GradientTransformation,
        batches: Iterable[Batch] | Callable[[int], Batch], *,
        num_steps: int | None = None, has_aux: bool = False, log_every: int = 10,
        accuracy_fn: Callable[[Params, Any], float] | None = None,
        train_data: Any = None, val_data: Any = None, jit: bool = True,
        progress: bool = False) -> tuple[Params, dict[str, list]]:
    """Train ``params`` to lower ``loss_fn`` with ``optimizer``; return them and a history.

    Args:
        loss_fn: ``loss_fn(params, batch) -> loss`` (a scalar), or ``(loss, aux)``
            with ``has_aux=True``.
        params: the starting params, any pytree; it is not modified.
        optimizer: an ``optim.GradientTransformation`` such as ``optim.sgd(0.1)``.
        batches: an iterable of batches, or a function of the step number
            (from 0) returning that step's batch (then ``num_steps`` is required).
        num_steps: stop after this many steps (default: when ``batches`` runs out).
        has_aux: whether ``loss_fn`` returns ``(loss, aux)``.
        log_every: add an entry to the history every this many steps (and
            after the last step).
        accuracy_fn: ``accuracy_fn(params, data) -> float``, evaluated at each
            entry on ``train_data`` and ``val_data``.
        train_data: data for ``"train_accuracy"`` (often the whole training set).
        val_data: data for ``"val_accuracy"``.
        jit: compile the training step with ``nj.jit`` (same numbers, faster).
        progress: show a progress line on stderr, rewritten with ``\\r``.

    Returns:
        ``(params, history)``: the trained params and a dict of lists with keys
        ``"step"``, ``"loss"`` and, when measured, ``"train_accuracy"``,
        ``"val_accuracy"`` and ``"aux"``.

    Raises:
        ValueError: for a bad ``num_steps``/``log_every``, data without an
            ``accuracy_fn``, or a function ``batches`` without ``num_steps``.
        TypeError: if ``optimizer`` is not a ``GradientTransformation``.
    """
    _check_arguments(optimizer, num_steps, log_every, accuracy_fn, train_data, val_data)
    step_fn = _step_fn(loss_fn, optimizer, has_aux)
    step_fn = jit_fn(step_fn) if jit else step_fn
    recorder = _Recorder(accuracy_fn, train_data, val_data, has_aux, num_steps, progress)
    opt_state = optimizer.init(params)
    step, aux = 0, None
    for batch in _batch_stream(batches, num_steps):
        params, opt_state, out = step_fn(params, opt_state, batch)
        loss, aux = out if has_aux else (out, None)
        recorder.pending.append(float(jnp.asarray(loss)))
        step += 1
        if step % log_every == 0:
            recorder.record(step, params, aux)
    if recorder.pending:
        recorder.record(step, params, aux)
    recorder.finish()
    return params, recorder.history
