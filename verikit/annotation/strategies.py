"""Which rollouts to run: the paper's ``naive`` schedule and two that save most of them.

A strategy labels the steps of one solution (the contract is :data:`verikit.interfaces.Strategy`; strategies are
registered with the ``register_strategies`` hook, these three by the core). It is a generator that *asks* for rollouts —
``verdicts = yield Probe(step, count)`` — and finally returns the labels. The driver
(:mod:`verikit.annotation.driver`) runs the generators of many solutions side by side and answers all their
probes with one batched completer call per round, so batching across steps, solutions and problems
comes for free, and the same strategy code runs against a fixed pool of rollouts in evaluation.

Steps are 0-based here. Probing step ``i`` means rolling out continuations of the solution prefix that
ends with step ``i``; a verdict says whether that rollout reached the gold answer.

* ``naive`` — N rollouts at every step, as in the paper; hard and soft labels.
* ``early-exit`` — hard estimation only needs one correct rollout, and a correct rollout from step ``i``
  is a witness for every earlier step (their prefixes are prefixes of it). So steps are probed from the
  last to the first, each with rollouts in small rounds that stop at the first correct one; as soon as a
  step is witnessed, every earlier step is labelled ``+`` without rollouts of its own.
* ``binary-search`` — OmegaPRM-style: assuming a step that cannot reach the answer dooms the steps after
  it, the first such step is found with O(log K) probes (each an early-exit probe of up to N rollouts);
  steps before it are ``+``, it and those after it ``-``.

Labels inferred without rollouts of their own carry ``n_rollouts == 0``; their ``soft`` value is then
1.0 for ``+`` and 0.0 for ``-`` (only ``naive`` measures soft values).
"""

from __future__ import annotations

from verikit.components import strategy as registered_strategy
from verikit.default_plugins.estimators import HardEstimator
from verikit.interfaces import Probe, StrategyOptions, StrategyRun
from verikit.types import StepLabel

_hard = HardEstimator()


def _inferred(good: bool) -> StepLabel:
    return StepLabel(hard=good, soft=1.0 if good else 0.0, n_rollouts=0, n_correct=0)


def _early_exit_probe(step: int, n: int, round_size: int):
    """Roll out from ``step`` in rounds until one rollout is correct or ``n`` were spent."""
    verdicts: list[bool] = []
    while len(verdicts) < n and not any(verdicts):
        verdicts += yield Probe(step, min(round_size, n - len(verdicts)))
    return verdicts


def naive(n_steps: int, n: int, final_verdict: bool | None, options: StrategyOptions) -> StrategyRun:
    """N rollouts from every step, each labelled by the configured estimator (hard or soft). ``final_verdict``:
    the solution's own correctness, which labels its last step when the solution stated an answer (a rollout
    from the complete solution is the solution)."""
    labels = []
    for step in range(n_steps):
        if step == n_steps - 1 and final_verdict is not None:
            labels.append(_inferred(final_verdict))
            continue
        verdicts = yield Probe(step, n)
        labels.append(options.estimator.label(verdicts))
    return labels


def early_exit(n_steps: int, n: int, final_verdict: bool | None, options: StrategyOptions) -> StrategyRun:
    """Last step first, each probed until one rollout is correct; a witnessed step makes every earlier one ``+``.
    Its inference is Hard Estimation's, so measured steps are labelled by Hard Estimation too."""
    labels: list[StepLabel | None] = [None] * n_steps
    step = n_steps - 1
    if final_verdict is not None and n_steps:
        labels[step] = _inferred(final_verdict)
        if final_verdict:
            return [_inferred(True) for _ in range(n_steps - 1)] + [labels[step]]
        step -= 1
    while step >= 0:
        verdicts = yield from _early_exit_probe(step, n, options.round_size)
        labels[step] = _hard.label(verdicts)
        if any(verdicts):
            for earlier in range(step):
                labels[earlier] = _inferred(True)
            break
        step -= 1
    return labels


def binary_search(n_steps: int, n: int, final_verdict: bool | None, options: StrategyOptions) -> StrategyRun:
    """The first step no rollout can finish, found in O(log K) early-exit probes (Hard Estimation, as early-exit)."""
    measured: dict[int, list[bool]] = {}
    if final_verdict:
        return [_inferred(True) for _ in range(n_steps)]
    # Invariant: every step < low is good; every step >= high is bad.
    low, high = 0, n_steps - 1 if final_verdict is False else n_steps
    while low < high:
        middle = (low + high) // 2
        verdicts = yield from _early_exit_probe(middle, n, options.round_size)
        measured[middle] = verdicts
        if any(verdicts):
            low = middle + 1
        else:
            high = middle
    labels = []
    for step in range(n_steps):
        good = step < low
        if step in measured:
            labels.append(_hard.label(measured[step]))
        elif step == n_steps - 1 and final_verdict is not None:
            labels.append(_inferred(final_verdict))
        else:
            labels.append(_inferred(good))
    return labels


def run_with_pool(
    strategy: str,
    n_steps: int,
    n: int,
    pool: list[list[bool]],
    final_verdict: bool | None = None,
    options: StrategyOptions | None = None,
) -> tuple[list[StepLabel], int]:
    """Run a strategy against fixed per-step rollout verdicts (``pool[step]``, used in order).

    Returns the labels and the number of rollouts the strategy consumed. Used by evaluation to compare
    strategies on the same rollouts, and by tests.
    """
    run = registered_strategy(strategy)(n_steps, n, final_verdict, options or StrategyOptions(estimator=_hard))
    used = [0] * n_steps
    try:
        probe = next(run)
        while True:
            start = used[probe.step]
            verdicts = pool[probe.step][start : start + probe.count]
            if len(verdicts) < probe.count:
                raise ValueError(
                    f"pool for step {probe.step} has {len(pool[probe.step])} rollouts; the strategy wants more"
                )
            used[probe.step] += probe.count
            probe = run.send(verdicts)
    except StopIteration as done:
        return done.value, sum(used)
