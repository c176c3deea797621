"""Choosing between two implementations of one operation by timing them here.

Which of two equal computations XLA:CPU runs faster depends on the layer,
the machine and the kernels XLA compiles with (a convolution's kernel
gradient, :mod:`gan_jax.xla_cpu.kernel_gradient`: docs/performance.md,
"What the CPU tuning does"). A fixed rule would be tuned to one machine,
so, as ``torch.backends.cudnn.benchmark`` and XLA's GPU autotuner do,
:func:`prefers_challenger` times both on this machine, compiled with the
run's compiler options, the first time a shape is traced, and keeps the
answer.

The answers are kept in memory and in a JSON file (``$GAN_JAX_AUTOTUNE_CACHE``,
by default ``~/.cache/gan_jax/autotune.json``), under a key of the machine
(CPU model, cores this process may use, jaxlib version, ``XLA_FLAGS``), so
later runs on the same machine make the same choices without timing again.
A file that cannot be read is ignored; one that cannot be written leaves
the answers in memory only. That file only spares timings: a run's own
choices are those :func:`decide` returned within :func:`for_run`, which the
run records in its workdir and is given back on resume, whatever the file
says by then.

The challenger has to be clearly faster (:data:`MIN_SPEEDUP`) to be chosen,
so that near-ties, whose timings could flip between machines of one kind,
keep the baseline.
"""

import contextlib
import dataclasses
import json
import os
import platform
import statistics
import tempfile
import time
from typing import Callable, Iterator, Sequence

from absl import logging
import jax
import jaxlib
import numpy as np

from gan_jax.xla_cpu import compiler_options

# The challenger is chosen only if the baseline takes this many times as long.
MIN_SPEEDUP = 1.2
# One call this many times faster than the other after warm-up decides at
# once (no rounds): large layers take seconds a call.
_DECISIVE_SPEEDUP = 3.0
_ROUNDS = 5
_ROUND_SECONDS = 0.02

_answers: dict[str, bool] = {}


@dataclasses.dataclass
class RunChoices:
  """The choices of one run (:func:`for_run`): ``pinned`` are given
  (a resumed run's record), ``chosen`` every answer :func:`decide` gave."""
  pinned: dict[str, bool]
  options: dict[str, str]
  chosen: dict[str, bool] = dataclasses.field(default_factory=dict)


_run: RunChoices | None = None


@contextlib.contextmanager
def for_run(pinned: dict[str, bool],
            options: dict[str, str]) -> Iterator[RunChoices]:
  """Within: :func:`decide` answers keys of ``pinned`` as pinned, times
  the others compiled with ``options`` (the run's compiler options), and
  collects every answer in the yielded :class:`RunChoices`."""
  global _run
  previous, _run = _run, RunChoices(dict(pinned), dict(options))
  try:
    yield _run
  finally:
    _run = previous


def decide(key: str, baseline: Callable, challenger: Callable,
           shapes: Sequence[jax.ShapeDtypeStruct],
           forced: bool | None = None) -> bool:
  """Whether ``challenger`` is used for ``key``: the run's pinned answer,
  else ``forced`` if given, else :func:`prefers_challenger`."""
  if _run is not None and key in _run.pinned:
    answer = _run.pinned[key]
  elif forced is not None:
    answer = forced
  else:
    answer = prefers_challenger(key, baseline, challenger, shapes,
                                _run.options if _run else None)
  if _run is not None:
    _run.chosen[key] = answer
  return answer


def cache_path() -> str:
  """The JSON file the answers are kept in."""
  default = os.path.join(
      os.environ.get('XDG_CACHE_HOME', os.path.expanduser('~/.cache')),
      'gan_jax', 'autotune.json')
  return os.environ.get('GAN_JAX_AUTOTUNE_CACHE', default)


def machine_key() -> str:
  """What the answers hold for: CPU model, usable cores, jaxlib, XLA_FLAGS."""
  model = platform.processor() or platform.machine()
  try:
    with open('/proc/cpuinfo') as f:
      model = next((line.split(':', 1)[1].strip() for line in f
                    if line.startswith('model name')), model)
  except OSError:
    pass
  cores = (len(os.sched_getaffinity(0)) if hasattr(os, 'sched_getaffinity')
           else os.cpu_count())
  return (f'{model}|{cores} cores|jaxlib {jaxlib.__version__}|'
          f'XLA_FLAGS={os.environ.get("XLA_FLAGS", "")}')


def _read(path: str) -> dict:
  try:
    with open(path) as f:
      answers = json.load(f)
    return answers if isinstance(answers, dict) else {}
  except (OSError, ValueError):
    return {}


def _write(path: str, key: str, answer: bool) -> None:
  """Adds one answer to the file (re-read first: other processes add theirs)."""
  try:
    os.makedirs(os.path.dirname(path) or '.', exist_ok=True)
    answers = _read(path)
    answers.setdefault(machine_key(), {})[key] = answer
    fd, temporary = tempfile.mkstemp(dir=os.path.dirname(path) or '.',
                                     prefix='.autotune-')
    with os.fdopen(fd, 'w') as f:
      json.dump(answers, f, indent=1, sort_keys=True)
    os.replace(temporary, path)
  except OSError as error:
    logging.warning('autotune: could not write %s (%s); answers are kept '
                    'for this process only', path, error)


def _seconds_per_call(compiled: Callable, args: Sequence, calls: int) -> float:
  start = time.perf_counter()
  for _ in range(calls):
    out = compiled(*args)
  jax.block_until_ready(out)
  return (time.perf_counter() - start) / calls


def _time_both(baseline: Callable, challenger: Callable,
               shapes: Sequence[jax.ShapeDtypeStruct],
               options: dict[str, str]) -> tuple[float, float]:
  """Median seconds per call of each, compiled with ``options``, in
  alternating rounds."""
  rng = np.random.default_rng(0)
  args = [jax.device_put(rng.standard_normal(s.shape).astype(s.dtype))
          for s in shapes]
  compiled = [jax.jit(f).lower(*args).compile(options)
              for f in (baseline, challenger)]
  for function in compiled:  # First calls allocate; not timed.
    jax.block_until_ready(function(*args))
  first = [_seconds_per_call(f, args, 1) for f in compiled]
  if max(first) >= _DECISIVE_SPEEDUP * min(first):
    return first[0], first[1]
  calls = max(1, int(_ROUND_SECONDS / max(first)))
  times = [[], []]
  for index in range(_ROUNDS):
    order = (0, 1) if index % 2 == 0 else (1, 0)
    for side in order:
      times[side].append(_seconds_per_call(compiled[side], args, calls))
  return statistics.median(times[0]), statistics.median(times[1])


def prefers_challenger(key: str, baseline: Callable, challenger: Callable,
                       shapes: Sequence[jax.ShapeDtypeStruct],
                       options: dict[str, str] | None = None) -> bool:
  """Whether ``challenger`` is clearly faster than ``baseline`` here,
  compiled with ``options`` (default: a train step's default options).

  Both are functions of arrays of ``shapes`` computing the same thing;
  ``key`` names the operation and its sizes. Answered from memory or the
  cache file when it has been measured on this machine; otherwise both are
  compiled and timed on random inputs (a fraction of a second for small
  layers, a few calls for large ones) and the answer kept. Safe to call while
  a function is being traced: the timing runs outside the trace.
  """
  if options is None:
    options = compiler_options.compiler_options()
  key = f'{key} options {json.dumps(options, sort_keys=True)}'
  full_key = f'{machine_key()}||{key}'
  if full_key in _answers:
    return _answers[full_key]
  path = cache_path()
  stored = _read(path).get(machine_key(), {})
  if isinstance(stored, dict) and isinstance(stored.get(key), bool):
    answer = stored[key]
  else:
    with jax.ensure_compile_time_eval():
      baseline_s, challenger_s = _time_both(baseline, challenger, shapes,
                                            options)
    answer = baseline_s >= MIN_SPEEDUP * challenger_s
    logging.info('autotune %s: %.3f ms against %.3f ms -> %s', key,
                 1e3 * baseline_s, 1e3 * challenger_s,
                 'challenger' if answer else 'baseline',
                 extra={'console': False})  # Detail, for the log file.
    _write(path, key, answer)
  _answers[full_key] = answer
  return answer
