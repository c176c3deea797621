"""Timing shared by the benchmarks: compiled train steps, timed in rounds.

Every timed thing has ``units_per_call`` (units of work one call does:
train steps, seed-steps, distances), a list ``rates`` (units per second of
each timed round) and ``time(num_units)``, which runs whole calls covering
``num_units`` and appends one rate. :func:`interleave` times several of them
in alternating rounds, so drifts in machine speed (other jobs, thermal
throttling) hit all alike; a benchmark reports the median of each one's
rates.
"""

import functools
import math
import statistics
import time
from typing import Callable, Protocol

import jax

from gan_jax import parallel
from gan_jax import run_layout
from gan_jax import train


class Timed(Protocol):
  units_per_call: int
  rates: list[float]

  def time(self, num_units: int) -> None:
    ...


class FusedSteps:
  """One compiled fused train function, as training compiles it, and the
  state it runs on.

  ``batches`` are the host batches of one call (``HostBatches.take``; ``()``
  for datasets sampled on device), put on the device once and passed again
  at every call: what is timed is the step, not a host-to-device copy (the
  PyTorch twins also hold their batch on the device). With
  ``seeds > 1`` the state of that many seeds is stacked and the steps
  vmapped (:mod:`gan_jax.run_layout`); a unit is then one step of one seed.
  ``compile_seconds`` is the time of lowering and compiling; construction
  also runs one warm-up call, not recorded.
  """

  def __init__(self, gan: train.Gan, steps_per_call: int, batches: tuple,
               data_parallel: parallel.DataParallel, seeds: int = 1):
    self.units_per_call = steps_per_call * seeds
    layout = run_layout.RunLayout(data_parallel, seeds)
    self.batches = jax.device_put(layout.put_batches([batches] * seeds))
    init = jax.jit(functools.partial(train.init_state, gan))
    self.state = layout.to_step([
        layout.data_parallel.replicate(init(jax.random.PRNGKey(seed)))
        for seed in range(seeds)])
    start = time.perf_counter()
    self.fused = layout.compile(
        train.make_fused_steps(gan, steps_per_call, layout.batch_axis),
        self.state, layout.batch_shapes(
            jax.tree.map(lambda x: jax.ShapeDtypeStruct(x.shape, x.dtype),
                         batches)))
    self.compile_seconds = time.perf_counter() - start
    self.rates = []
    self.time(self.units_per_call)  # Warm-up, not recorded.
    self.rates = []

  def time(self, num_units: int) -> None:
    calls = max(1, num_units // self.units_per_call)
    start = time.perf_counter()
    for _ in range(calls):
      self.state, metrics = self.fused(self.state, *self.batches)
    jax.block_until_ready((self.state, metrics))
    self.rates.append(calls * self.units_per_call
                      / (time.perf_counter() - start))


class Calls:
  """A Python function doing ``units_per_call`` units of work per call
  (an eager PyTorch step, a NumPy computation).

  ``sync`` waits for work the call may have left queued (CUDA). The first
  call runs at construction, timed as ``first_call_seconds`` (one-time
  costs of eager frameworks: allocator growth, kernel selection) and not
  recorded in ``rates``. ``last`` is what the last call returned.
  """

  def __init__(self, call: Callable[[], object], units_per_call: int = 1,
               sync: Callable[[], None] = lambda: None):
    self.call = call
    self.sync = sync
    self.units_per_call = units_per_call
    start = time.perf_counter()
    self.last = call()
    sync()
    self.first_call_seconds = time.perf_counter() - start
    self.rates = []

  def time(self, num_units: int) -> None:
    calls = max(1, num_units // self.units_per_call)
    start = time.perf_counter()
    for _ in range(calls):
      self.last = self.call()
    self.sync()
    self.rates.append(calls * self.units_per_call
                      / (time.perf_counter() - start))


def units_per_round(timed: Timed, seconds: float) -> int:
  """Whole calls' worth of units lasting about ``seconds`` (at least one
  call), from one timed call that is not recorded."""
  timed.time(timed.units_per_call)
  rate = timed.rates.pop()
  calls = max(1, math.ceil(seconds * rate / timed.units_per_call))
  return calls * timed.units_per_call


def interleave(rounds: list[tuple[Timed, int]], repeats: int,
               pause_seconds: float = 0.0) -> None:
  """Times each ``(timed, num_units)`` once per repeat, ``repeats`` times.

  Odd repeats run the list in reverse (A B, B A, A B, ...), so what one
  side leaves behind for the next (PyTorch's OpenMP threads spin for a
  while after their last operation, caches, clock boosts) falls on every
  side alike; ``pause_seconds`` of sleep before each timed round lets such
  leftovers die down.
  """
  for repeat in range(repeats):
    for timed, num_units in rounds[::-1] if repeat % 2 else rounds:
      time.sleep(pause_seconds)
      timed.time(num_units)


def median_rate(timed: Timed) -> float:
  return statistics.median(timed.rates)
