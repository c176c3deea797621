r"""gan_jax against a PyTorch reference of the same experiment, in one run.

  python benchmarks/run.py --out=/tmp/bench.json
  python benchmarks/run.py --quick --cases=mlp2d_step,frechet_distance \
      --out=/tmp/bench_quick.json

Cases (``--cases``; by default all, ``sngan_resnet32_b256_step`` only on
accelerators):

* ``mlp2d_step``: configs/ring8.py (MLPs of 2×128 ReLU, latent 256, batch
  512, non-saturating loss, Adam b1 0.5, lr G 1e-3 / D 1e-4); a unit is one
  train step (one critic and one generator update), real points drawn from
  the ring inside the step on both sides.
* ``dcgan32_step``: configs/dcgan_digits.py at 32×32×3 (DCGAN of width 32,
  latent 64, batch norm, batch 64, Adam 2e-4 b1 0.5); one train step.
* ``sngan_resnet32_step``: configs/sngan_resnet_cifar10.py at 32×32×3
  (SN-GAN ResNet, spectral norm, hinge loss, batch 64, n_critic 5); a unit is
  one generator step with its five critic updates.
* ``sngan_resnet32_b256_step``: the same at batch 256 (minutes per step on
  a CPU).
* ``frechet_distance``: statistics (mean, covariance) of two sets of 50,000
  × 2,048 features and the Fréchet distance between them;
  :func:`gan_jax.metrics.frechet_distance` against pytorch-fid's formula
  (:func:`torch_reference.reference_frechet_distance`: np.mean, np.cov,
  scipy.linalg.sqrtm).
* ``sweep_seeds``: 8 seeds of ring8 trained as one vmapped computation
  (:mod:`gan_jax.run_layout`) against one seed at a time, in seed-steps/s:
  gan_jax against itself, so ``torch_per_sec`` is null and the ratio is to
  ``sequential_per_sec``.

The image cases train on one fixed batch of uniform noise in [-1, 1], the
same for both sides (the step's compute, not an input pipeline). gan_jax
runs the train step as training compiles it (``train.build``,
``train.make_fused_steps`` with the config's ``steps_per_call``: 100 for
ring8, 1 for the image configs); the PyTorch side is
:class:`torch_reference.TorchGan`, loaded with gan_jax's initial parameters
(see torch_reference.py for what is and is not identical).

Method: both sides of a case live in this one process. Each is built and
warmed up (gan_jax: lowered and compiled, ``jax_compile_s``, then one call;
PyTorch: its first call, ``torch_first_call_s``); one more call sizes a
round to about ``--round_seconds`` (whole calls, at least one); then
``--repeats`` times both sides are timed for one round each, in the order
gan_jax, PyTorch, then PyTorch, gan_jax, and so on, each round after
``--pause_seconds`` of sleep; each side's rate is the median of its rounds
(all rounds are in ``*_rates``). ``ratio`` = gan_jax's rate / the other
side's. Where both sides return a value (the Fréchet distance) the run
fails unless they agree to a relative 1e-6. Peak memory
cannot be told apart in one process, so each side is also built and warmed
up alone in a fresh process (same flags): ``*_peak_rss_mb`` is the growth
of that process's peak resident memory (Linux ``VmHWM``) over its resident
memory once jax and torch are imported and initialised (the side's models,
optimiser states, compilation, data and one call); on a GPU also the
device's peak bytes in use (``*_device_peak_mb``). The case's shared data
(features, the real batch, gan_jax's initial state) is made before that
baseline.

Utilisation (training cases): ``model_flops_per_unit`` is the model FLOPs
of one train step counted from its jaxpr (:mod:`flop_count`: the products
and convolutions of forward and backward, the same count for both sides and
every backend). Each side's ``*_model_flops_per_sec`` is that times its
rate, ``*_fraction_of_matmul`` divides it by the rate of a large float32
matrix product measured in this run on JAX's default device (``peaks``:
what the device reaches in practice), and on GPUs in
``flop_count.DATASHEET_FLOPS_PER_SEC`` ``*_mfu`` divides it by the data
sheet's dense TF32 peak: model FLOPs utilisation.

On CUDA both sides compute float32 products and convolutions in TF32 (JAX's
default precision; PyTorch is set to match) and both pick convolution
algorithms by timing them (``cudnn.benchmark``); the batches are on the
device before timing on both sides, and JAX does not preallocate GPU memory
(``XLA_PYTHON_CLIENT_PREALLOCATE=false`` unless set), so that both share the
device. ``machine`` records these settings.

Prints a table and, with ``--out``, writes ``{"cases": [...], "machine":
..., "peaks": ..., "versions": ..., "quick": ...}``. A full run takes about
20 minutes on 2 CPU cores (sngan_resnet32_step's steps take about 25 s
each there);
``--quick`` (image batch 8, 10,000 × 512 features, 3 rounds of 0.3 s)
takes several minutes and is for checking the harness, not for numbers.
Time on an otherwise idle machine: PyTorch's OpenMP threads wait for each
other at every operation when other jobs share the cores
(``--torch_threads=1`` avoids that, at the cost of parallelism). PyTorch's
idle OpenMP threads spin for a while after each operation, which slowed
the gan_jax round that directly followed a PyTorch one (hence the pause and
the alternating order); ``OMP_WAIT_POLICY=PASSIVE`` avoids that but slows
PyTorch's small operations (mlp2d_step: 69 against 94-99 steps/s), so it is
left at PyTorch's default.
"""

import dataclasses
import functools
import importlib.metadata
import json
import os
import platform
import subprocess
import sys
from typing import Any, Callable

# Before jax starts: JAX would otherwise reserve 75 % of a GPU's memory for
# itself, leaving the PyTorch side of the same process a quarter of it.
os.environ.setdefault('XLA_PYTHON_CLIENT_PREALLOCATE', 'false')

from absl import app
from absl import flags
import jax
import ml_collections
import numpy as np
import torch

from gan_jax import config as config_lib
from gan_jax import data
from gan_jax import metrics
from gan_jax import parallel
from gan_jax import train
from gan_jax import xla_cpu
import flop_count
import timing
import torch_reference

_CASES = flags.DEFINE_list(
    'cases', None, 'Cases to run (default: all but sngan_resnet32_b256_step, '
    'which is added on accelerators).')
_OUT = flags.DEFINE_string('out', None, 'JSON file to write the results to.')
_QUICK = flags.DEFINE_bool(
    'quick', False, 'Small sizes and short rounds: checks the harness, not '
    'for numbers.')
_REPEATS = flags.DEFINE_integer(
    'repeats', None, 'Timed rounds per side (default 5; 3 with --quick).')
_ROUND_SECONDS = flags.DEFINE_float(
    'round_seconds', None, 'Approximate length of a round (default 2; 0.3 '
    'with --quick).')
_PAUSE_SECONDS = flags.DEFINE_float(
    'pause_seconds', None, 'Sleep before each timed round, so that what one '
    "side leaves running (PyTorch's spinning OpenMP threads) dies down "
    '(default 1; 0.1 with --quick).')
_MEMORY = flags.DEFINE_bool(
    'memory', True, 'Measure each side\'s peak memory in a fresh process.')
_TORCH_DEVICE = flags.DEFINE_string(
    'torch_device', 'auto', "PyTorch's device: auto (cuda if available, "
    'else cpu), cpu, cuda.')
_TORCH_THREADS = flags.DEFINE_integer(
    'torch_threads', 0, "PyTorch's CPU threads (0: its default, one per "
    'core). On a machine other jobs keep busy, its OpenMP threads wait for '
    'each other at every operation; 1 thread can then be many times faster.')
_MEMORY_OF = flags.DEFINE_string(
    'memory_of', None, 'Internal: CASE:SIDE, build that side alone and print '
    'its peak memory as JSON.')

_REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_QUICK_IMAGE_BATCH = 8
_ACCELERATOR_CASES = ('sngan_resnet32_b256_step',)
_FEATURES = (50_000, 2_048)
_QUICK_FEATURES = (10_000, 512)
_SWEEP_SEEDS = 8
_VALUE_RTOL = 1e-6  # Fréchet distances in float64 agree to ~1e-8.


@dataclasses.dataclass
class _Experiment:
  """What both sides of a training case start from."""
  config: ml_collections.ConfigDict
  gan: train.Gan
  initial: train.TrainState  # gan_jax's initial state for seed 0.
  real: np.ndarray | None  # [n_critic, batch, H, W, C]; None: on device.


def _experiment(config_file: str, quick: bool, batch_size: int | None = None,
                **data_overrides) -> _Experiment:
  config = config_lib.load(os.path.join(_REPO, 'configs', config_file))
  config.data.update(data_overrides)
  images = config.data.name not in data.MIXTURES
  config.batch_size = batch_size or config.batch_size
  if quick and images:
    config.batch_size = _QUICK_IMAGE_BATCH
  gan = train.build(config)
  real = None
  if images:
    real = np.random.default_rng(0).uniform(
        -1, 1, (gan.n_critic, gan.batch_size, *gan.dataset.sample_shape)
    ).astype(np.float32)
  initial = jax.jit(functools.partial(train.init_state, gan))(
      jax.random.PRNGKey(0))
  return _Experiment(config, gan, initial, real)


def _host_batches(experiment: _Experiment, steps: int) -> tuple:
  """The fused steps' batch arguments: the fixed real batch for each of
  ``steps`` steps (``()`` for data sampled inside the step)."""
  if experiment.real is None:
    return ()
  images = np.repeat(experiment.real[None], steps, axis=0)
  return (data.Batch(images, np.zeros(images.shape[:3], np.int32)),)


def _jax_steps(experiment: _Experiment, seeds: int = 1,
               mode: str | None = None) -> timing.FusedSteps:
  """The fused train function training compiles for this config."""
  steps = experiment.config.steps_per_call
  batches = _host_batches(experiment, steps)
  mode = mode or parallel.resolve_mode(experiment.config.parallel)
  return timing.FusedSteps(
      experiment.gan, steps, batches,
      parallel.DataParallel(mode, experiment.config.cpu_scheduler,
                            experiment.config.cpu_kernels), seeds)


def _torch_device() -> torch.device:
  if _TORCH_DEVICE.value == 'auto':
    return torch.device('cuda' if torch.cuda.is_available() else 'cpu')
  return torch.device(_TORCH_DEVICE.value)


def _torch_sync(device: torch.device) -> Callable[[], None]:
  return torch.cuda.synchronize if device.type == 'cuda' else lambda: None


def _torch_steps(experiment: _Experiment) -> timing.Calls:
  device = _torch_device()
  twin = torch_reference.build(experiment.config, experiment.gan, device)
  twin.load(experiment.initial)
  real = None
  if experiment.real is not None:  # NHWC -> NCHW.
    real = torch.from_numpy(experiment.real).permute(0, 1, 4, 2, 3)
    real = real.contiguous().to(device)
  return timing.Calls(lambda: twin.step(real), sync=_torch_sync(device))


def _details(experiment: _Experiment) -> dict[str, Any]:
  config = experiment.config
  return {'config': {k: config[k] for k in ('loss', 'tricks', 'batch_size',
                                            'steps_per_call')},
          'n_critic': config.optim.n_critic,
          'sample_shape': list(experiment.gan.dataset.sample_shape),
          'generator_parameters': torch_reference.count_parameters(
              experiment.initial.generator.params),
          'critic_parameters': torch_reference.count_parameters(
              experiment.initial.critic.params),
          'model_flops_per_unit': _model_flops_per_step(experiment)}


def _model_flops_per_step(experiment: _Experiment) -> float:
  """Model FLOPs of one train step (:mod:`flop_count`): one generator update
  and its ``n_critic`` critic updates; a unit of every training case."""
  return flop_count.count(train.make_fused_steps(experiment.gan, 1),
                          experiment.initial, *_host_batches(experiment, 1))


@functools.cache
def _features(quick: bool) -> tuple[np.ndarray, np.ndarray]:
  """Two float32 feature sets of different Gaussians."""
  shape = _QUICK_FEATURES if quick else _FEATURES
  rng = np.random.default_rng(0)
  a = rng.standard_normal(shape, np.float32)
  b = 1.1 * rng.standard_normal(shape, np.float32) + 0.1
  return a, b


@dataclasses.dataclass(frozen=True)
class _Case:
  """A benchmark: the gan_jax side ``jax`` and the side it is divided by.

  Attributes:
    unit: what one unit of work is.
    prepare: ``quick -> shared`` data and experiment both sides start from.
    sides: ``name -> (shared -> timed)``; ``jax`` first, then the baseline.
    details: ``shared -> dict`` of sizes recorded with the result.
  """
  unit: str
  prepare: Callable[[bool], Any]
  sides: dict[str, Callable[[Any], timing.Timed]]
  details: Callable[[Any], dict[str, Any]]


def _frechet_side(function) -> Callable[[Any], timing.Calls]:
  return lambda features: timing.Calls(lambda: function(*features))


_TRAINING_SIDES = {'jax': _jax_steps, 'torch': _torch_steps}

CASES = {
    'mlp2d_step': _Case(
        'steps/s', lambda quick: _experiment('ring8.py', quick),
        _TRAINING_SIDES, _details),
    'dcgan32_step': _Case(
        'steps/s', lambda quick: _experiment(
            'dcgan_digits.py', quick, image_size=32, channels=3),
        _TRAINING_SIDES, _details),
    'sngan_resnet32_step': _Case(
        'generator steps/s', lambda quick: _experiment(
            'sngan_resnet_cifar10.py', quick, name='digits', image_size=32,
            channels=3),
        _TRAINING_SIDES, _details),
    'sngan_resnet32_b256_step': _Case(
        'generator steps/s', lambda quick: _experiment(
            'sngan_resnet_cifar10.py', quick, 256, name='digits',
            image_size=32, channels=3),
        _TRAINING_SIDES, _details),
    'frechet_distance': _Case(
        'distances/s', _features,
        {'jax': _frechet_side(metrics.frechet_distance),
         'torch': _frechet_side(torch_reference.reference_frechet_distance)},
        lambda features: {'features': list(features[0].shape)}),
    'sweep_seeds': _Case(
        'seed-steps/s', lambda quick: _experiment('ring8.py', quick),
        {'jax': lambda e: _jax_steps(e, _SWEEP_SEEDS, 'none'),
         'sequential': lambda e: _jax_steps(e, 1, 'none')},
        lambda e: {**_details(e), 'seeds': _SWEEP_SEEDS}),
}


def _proc_status_mb(field: str) -> float:
  """A memory field of /proc/self/status (``VmRSS``, ``VmHWM``) in MiB."""
  with open('/proc/self/status') as f:
    for line in f:
      if line.startswith(field + ':'):
        return int(line.split()[1]) / 1024
  raise KeyError(field)


def _measure_memory_alone(case_name: str, side: str, quick: bool) -> None:
  """Builds one side in this (fresh) process; prints its peak memory."""
  case = CASES[case_name]
  shared = case.prepare(quick)
  jax.numpy.zeros(1).block_until_ready()  # Both runtimes initialised.
  torch.zeros(1, device=_torch_device()).add_(1)
  baseline = _proc_status_mb('VmRSS')
  case.sides[side](shared)  # Built, warmed up: its peak is reached.
  result = {'peak_rss_mb': _proc_status_mb('VmHWM') - baseline}
  if side != 'torch' and jax.devices()[0].memory_stats():
    result['device_peak_mb'] = (
        jax.devices()[0].memory_stats()['peak_bytes_in_use'] / 2**20)
  if side == 'torch' and _torch_device().type == 'cuda':
    result['device_peak_mb'] = torch.cuda.max_memory_allocated() / 2**20
  print(json.dumps(result))


def _memory_alone(case_name: str, side: str, quick: bool) -> dict:
  command = [sys.executable, os.path.abspath(__file__),
             f'--memory_of={case_name}:{side}', f'--quick={quick}',
             f'--torch_device={_TORCH_DEVICE.value}',
             f'--torch_threads={_TORCH_THREADS.value}']
  done = subprocess.run(command, capture_output=True, text=True, check=True)
  return json.loads(done.stdout.strip().splitlines()[-1])


def _startup(timed: timing.Timed) -> tuple[str, float]:
  if isinstance(timed, timing.FusedSteps):
    return 'compile_s', timed.compile_seconds
  return 'first_call_s', timed.first_call_seconds


def _run_case(name: str, quick: bool, repeats: int, round_seconds: float,
              pause_seconds: float) -> dict[str, Any]:
  case = CASES[name]
  result = {'name': name, 'unit': case.unit}
  if _MEMORY.value:
    for side in case.sides:
      for key, value in _memory_alone(name, side, quick).items():
        result[f'{side}_{key}'] = value
  shared = case.prepare(quick)
  result.update(case.details(shared))
  timed = {side: make(shared) for side, make in case.sides.items()}
  rounds = [(t, timing.units_per_round(t, round_seconds))
            for t in timed.values()]
  timing.interleave(rounds, repeats, pause_seconds)
  for side, t in timed.items():
    key, seconds = _startup(t)
    result.update({f'{side}_per_sec': timing.median_rate(t),
                   f'{side}_{key}': seconds, f'{side}_rates': t.rates})
    if isinstance(getattr(t, 'last', None), float):
      result[f'{side}_value'] = t.last
  baseline = list(case.sides)[1]
  if 'jax_value' in result and f'{baseline}_value' in result:
    # Timing two computations is only a comparison if they agree.
    expected = result[f'{baseline}_value']
    difference = abs(result['jax_value'] - expected) / abs(expected)
    result['value_relative_difference'] = difference
    if difference > _VALUE_RTOL:
      raise RuntimeError(f'{name}: gan_jax computed {result["jax_value"]}, '
                         f'{baseline} {expected} (relative difference '
                         f'{difference:.2g} > {_VALUE_RTOL})')
  if 'model_flops_per_unit' in result:
    result.update(_utilisation(result, case.sides, quick))
  result.setdefault('torch_per_sec', None)
  result['ratio_to'] = baseline
  result['ratio'] = result['jax_per_sec'] / result[f'{baseline}_per_sec']
  return result


@functools.cache
def _peaks(quick: bool) -> dict[str, float | None]:
  """The default JAX device's measured float32 matmul rate and data-sheet
  peak (None where unknown: CPUs). Measured once per run, on the device the
  cases run on; a large product (2048 on CPUs, 8192 on accelerators)."""
  accelerator = jax.default_backend() != 'cpu'
  size = 512 if quick else (8192 if accelerator else 2048)
  return {'matmul_flops_per_sec':
              flop_count.measured_matmul_flops_per_sec(size),
          'matmul_size': size,
          'datasheet_flops_per_sec': flop_count.datasheet_flops_per_sec(
              jax.devices()[0].device_kind)}


def _utilisation(result: dict[str, Any], sides, quick: bool
                 ) -> dict[str, float]:
  """Each side's model FLOP/s, and as a fraction of the measured matmul rate
  and (where known) of the data-sheet peak: model FLOPs utilisation. The
  PyTorch side is compared with JAX's peaks: on a GPU both run on the same
  device; on a CPU both on the same cores."""
  peaks = _peaks(quick)
  found = {}
  for side in sides:
    flops = result['model_flops_per_unit'] * result[f'{side}_per_sec']
    found[f'{side}_model_flops_per_sec'] = flops
    found[f'{side}_fraction_of_matmul'] = (
        flops / peaks['matmul_flops_per_sec'])
    if peaks['datasheet_flops_per_sec']:
      found[f'{side}_mfu'] = flops / peaks['datasheet_flops_per_sec']
  return found


def _match_gpu_settings() -> None:
  """On CUDA, PyTorch as XLA runs: float32 products in TF32 (XLA's default
  precision on TF32 GPUs; PyTorch's default uses TF32 only for convolutions)
  and convolution algorithms chosen by timing them (XLA autotunes while
  compiling; PyTorch's first call then does it, in ``torch_first_call_s``).
  """
  if _torch_device().type == 'cuda':
    torch.backends.cuda.matmul.allow_tf32 = True
    torch.backends.cudnn.allow_tf32 = True
    torch.backends.cudnn.benchmark = True


def _machine() -> dict[str, Any]:
  cpu = platform.processor()
  if os.path.exists('/proc/cpuinfo'):
    with open('/proc/cpuinfo') as f:
      names = [line.split(':', 1)[1].strip() for line in f
               if line.startswith('model name')]
    cpu = names[0] if names else cpu
  return {'cpu': cpu, 'cpu_count': os.cpu_count(),
          'platform': platform.platform(),
          'jax_devices': [d.device_kind for d in jax.devices()],
          'torch_device': str(_torch_device()),
          'torch_threads': torch.get_num_threads(),
          # XLA:CPU runs on every core the process may use.
          'cpus_available': len(os.sched_getaffinity(0)),
          'jax_default_matmul_precision':
              jax.config.jax_default_matmul_precision,
          'torch_matmul_tf32': torch.backends.cuda.matmul.allow_tf32,
          'torch_cudnn_tf32': torch.backends.cudnn.allow_tf32,
          'torch_cudnn_benchmark': torch.backends.cudnn.benchmark}


def _versions() -> dict[str, str]:
  packages = ('gan_jax', 'jax', 'jaxlib', 'flax', 'optax', 'numpy', 'scipy',
              'torch')
  return {'python': platform.python_version(),
          **{p: importlib.metadata.version(p) for p in packages}}


def _format(value, spec: str) -> str:
  return '–' if value is None else format(value, spec)


def _print_table(results: list[dict[str, Any]]) -> None:
  """One line per case; 'base' is the side the ratio divides by."""
  rows = [('case', 'unit', 'gan_jax', 'base', 'base/s', 'ratio',
           'jax compile s', 'base startup s', 'jax MiB', 'base MiB',
           'GFLOP/unit', 'jax %matmul', 'base %matmul')]
  for r in results:
    base = r['ratio_to']
    startup = r.get(f'{base}_compile_s', r.get(f'{base}_first_call_s'))
    rows.append((
        r['name'], r['unit'], _format(r['jax_per_sec'], '.4g'), base,
        _format(r[f'{base}_per_sec'], '.4g'), _format(r['ratio'], '.2f'),
        _format(r['jax_compile_s'] if 'jax_compile_s' in r
                else r['jax_first_call_s'], '.2f'),
        _format(startup, '.2f'), _format(r.get('jax_peak_rss_mb'), '.0f'),
        _format(r.get(f'{base}_peak_rss_mb'), '.0f'),
        _format(r.get('model_flops_per_unit', 0) / 1e9 or None, '.3g'),
        *(_format(r.get(f'{side}_fraction_of_matmul', 0) * 100 or None,
                  '.0f') for side in ('jax', base))))
  widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
  for row in rows:
    print('  '.join(cell.ljust(w) if i < 2 else cell.rjust(w)
                    for i, (cell, w) in enumerate(zip(row, widths))))


def main(argv):
  del argv
  xla_cpu.apply()  # As the entry points do (gan_jax.xla_cpu).
  quick = _QUICK.value
  if _TORCH_THREADS.value:
    torch.set_num_threads(_TORCH_THREADS.value)
  _match_gpu_settings()
  if _MEMORY_OF.value:
    case_name, side = _MEMORY_OF.value.split(':')
    _measure_memory_alone(case_name, side, quick)
    return
  names = _CASES.value or [
      name for name in CASES if name not in _ACCELERATOR_CASES
      or jax.default_backend() != 'cpu']
  for name in names:
    if name not in CASES:
      print(f'error: unknown case {name!r}; allowed: {", ".join(CASES)}',
            file=sys.stderr)
      sys.exit(2)
  repeats = _REPEATS.value or (3 if quick else 5)
  round_seconds = _ROUND_SECONDS.value or (0.3 if quick else 2.0)
  pause_seconds = (_PAUSE_SECONDS.value if _PAUSE_SECONDS.value is not None
                   else 0.1 if quick else 1.0)
  results = []
  for name in names:
    results.append(_run_case(name, quick, repeats, round_seconds,
                             pause_seconds))
    print(json.dumps({k: v for k, v in results[-1].items()
                      if not k.endswith('_rates')}), flush=True)
  _print_table(results)
  if _OUT.value:
    with open(_OUT.value, 'w') as f:
      json.dump({'cases': results, 'machine': _machine(),
                 'peaks': _peaks(quick),
                 'versions': _versions(), 'quick': quick,
                 'repeats': repeats, 'round_seconds': round_seconds},
                f, indent=2)
      f.write('\n')


if __name__ == '__main__':
  app.run(main)
