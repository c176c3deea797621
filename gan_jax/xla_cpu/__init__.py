"""Everything gan_jax does for speed on XLA's CPU backend, applied explicitly.

``import gan_jax`` changes nothing in JAX and computes every convolution as
``lax`` does. The entry points (``experiments/*.py``) and the benchmarks
call :func:`apply`, which on CPU

* lowers JAX's Threefry hash unrolled for large draws
  (:mod:`gan_jax.xla_cpu.threefry`: the same random bits, faster), and
* has the models (:mod:`gan_jax.models.conv`) compute the DCGAN
  upsampling's transposed convolution as four output phases
  (:mod:`gan_jax.xla_cpu.transposed_conv`) and convolutions' kernel
  gradients per kernel tap where :mod:`gan_jax.xla_cpu.autotune` times that
  faster on this machine (:mod:`gan_jax.xla_cpu.kernel_gradient`).

The last two change a run's numbers at float rounding, so a run records
what it computed with in its workdir (:data:`TUNING_FILE`: whether the
convolutions were tuned, and each layer's kernel-gradient choice) and
:func:`for_runs` gives a resumed run (and ``evaluate.py``) exactly that
back, whatever this process applied or the machine's autotune cache says
by then: a run is determined by its command, its workdir and its machine's
software. The compiler options a step is compiled with are config keys
(:mod:`gan_jax.xla_cpu.compiler_options`). What each tuning gains:
docs/performance.md, "What the CPU tuning does".
"""

import contextlib
import json
import os
from typing import Callable, Iterator, Sequence

from absl import flags
import jax

from gan_jax import strict_json
from gan_jax.models import conv
from gan_jax.xla_cpu import autotune
from gan_jax.xla_cpu import compiler_options
from gan_jax.xla_cpu import kernel_gradient
from gan_jax.xla_cpu import threefry
from gan_jax.xla_cpu import transposed_conv

TUNING_FILE = 'xla_cpu.json'
_CONVOLUTIONS = {
    'conv_general_dilated': kernel_gradient.conv_general_dilated,
    'transposed_conv_4x4_stride2': transposed_conv.phases,
}


def define_flag() -> flags.FlagHolder:
  """``--cpu_tuning``, for an entry point to pass to :func:`apply`."""
  return flags.DEFINE_boolean(
      'cpu_tuning', True, 'On CPU, compute convolutions and random draws the '
      'ways gan_jax.xla_cpu tunes (docs/performance.md); a resumed run keeps '
      'what it started with (WORKDIR/xla_cpu.json).')


def apply(enabled: bool = True) -> bool:
  """Applies the tuning to this process if ``enabled`` and its default
  backend is CPU; returns whether it did. Call once the backend may be
  initialised (after ``jax.distributed.initialize``)."""
  if not enabled or jax.default_backend() != 'cpu':
    return False
  threefry.register()
  conv.install(**_CONVOLUTIONS)
  return True


def applied() -> bool:
  """Whether this process computes convolutions the tuned way."""
  current = conv.current()
  return all(current[name] is function
             for name, function in _CONVOLUTIONS.items())


def read_record(workdir: str) -> dict | None:
  """The tuning a run recorded in ``workdir``, or None."""
  try:
    with open(os.path.join(workdir, TUNING_FILE)) as f:
      return json.load(f)
  except FileNotFoundError:
    return None


def _record_of_runs(workdirs: Sequence[str]) -> dict | None:
  """The one record the runs (trained together) share, or None for new
  runs; ValueError if they recorded different tunings."""
  records = {workdir: read_record(workdir) for workdir in workdirs}
  present = {w: r for w, r in records.items() if r is not None}
  if len({json.dumps(r, sort_keys=True) for r in present.values()}) > 1:
    raise ValueError(f'the runs in {", ".join(map(repr, present))} recorded '
                     f'different CPU tunings ({TUNING_FILE}); train them '
                     'one at a time')
  return next(iter(present.values()), None)


@contextlib.contextmanager
def for_runs(workdirs: Sequence[str], cpu_scheduler: str, cpu_kernels: str
             ) -> Iterator[Callable[[], None]]:
  """Within: convolutions computed as the runs in ``workdirs`` recorded, or
  for new runs as this process applied (:func:`apply`), with autotuning
  timed under the runs' compiler options. Yields ``save()``, which writes
  the record into each workdir: call it once the runs' train programs are
  traced (their choices are made then) and before anything else is
  written; an evaluation of a finished run does not call it."""
  record = _record_of_runs(workdirs)
  tuned = record['tuned_convolutions'] if record else applied()
  pinned = record['conv_kernel_gradient_per_tap'] if record else {}
  options = compiler_options.compiler_options(cpu_scheduler, cpu_kernels)
  functions = {name: function if tuned else None
               for name, function in _CONVOLUTIONS.items()}
  with conv.use(**functions), autotune.for_run(pinned, options) as choices:

    def save() -> None:
      content = {'tuned_convolutions': tuned,
                 'conv_kernel_gradient_per_tap': dict(sorted(
                     {**pinned, **choices.chosen}.items()))}
      for workdir in workdirs:
        strict_json.write(os.path.join(workdir, TUNING_FILE), content)

    yield save

