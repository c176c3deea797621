r"""Train-step throughput by steps fused per call and by trick.

  python benchmarks/train_speed.py --config=configs/ring8.py \
      --steps_per_call=1,100 --tricks=none

  python benchmarks/train_speed.py --config=configs/ring8.py \
      --steps_per_call=100 --tricks=all

  python benchmarks/train_speed.py --config=configs/sngan_resnet_cifar10.py \
      --config.data.name=digits --steps_per_call=1 --num_steps=5 --repeats=3

  XLA_FLAGS=--xla_force_host_platform_device_count=8 \
      python benchmarks/train_speed.py --config=configs/ring8.py \
      --config.parallel=pmap

  python benchmarks/train_speed.py --config=configs/ring8.py \
      --steps_per_call=100 --seeds=1,10

For each (steps_per_call, tricks) pair: builds the experiment, compiles the
fused train function once (timed on its own) and warms up; then times
``--repeats`` rounds of ``--num_steps`` steps, the cases interleaved in each
round, and reports each case's median steps/s and the ratio of its step time
to the no-trick step time at the same steps_per_call. For image datasets
the train step runs on one fixed batch from the input pipeline (the step's
compute alone), and ``input_steps_per_sec`` says how many steps' worth of
batches the host pipeline prepares per second on its own. Prints one
JSON line per case and, with ``--out``, writes them all to a JSON file.
``--tricks`` takes trick names, ``none`` (no trick) and ``all`` (every trick
alone); ``a+b`` is a chain. weight_clipping and gradient_penalty run with the
wasserstein loss, the others with the config's loss. The step runs on
every device the process sees, split as ``config.parallel`` says (as in
training). ``--seeds`` N > 1 trains N seeds stacked and vmapped on one device
(:mod:`gan_jax.run_layout`, as ``experiments/ablate.py`` does); its
steps/s count the steps of all N seeds, and ``vs_one_seed`` is its rate
over the one-seed rate (the speed-up over training them one after the
other).
"""

import json
import time

from absl import app
from absl import flags
import jax
from ml_collections import config_flags

from gan_jax import parallel
from gan_jax import train
from gan_jax import tricks as tricks_lib
from gan_jax import xla_cpu
import timing

_CONFIG = config_flags.DEFINE_config_file('config', 'configs/ring8.py',
                                          'Experiment config.')
_STEPS_PER_CALL = flags.DEFINE_list('steps_per_call', ['1', '100'],
                                    'Steps fused per jit call.')
_TRICKS = flags.DEFINE_list('tricks', ['none'],
                            "Trick chains ('a+b'), 'none' or 'all'.")
_NUM_STEPS = flags.DEFINE_integer('num_steps', 2000, 'Steps per timed run.')
_REPEATS = flags.DEFINE_integer('repeats', 5, 'Timed runs per case.')
_SEEDS = flags.DEFINE_list('seeds', ['1'], 'Seeds trained together '
                           '(vmapped when more than one).')
_OUT = flags.DEFINE_string('out', None, 'Optional JSON output file.')

_WASSERSTEIN_TRICKS = ('weight_clipping', 'gradient_penalty')


def _chains(requested: list[str]) -> list[str]:
  chains = []
  for item in requested:
    chains += ['none', *sorted(tricks_lib.TRICKS)] if item == 'all' else [item]
  return list(dict.fromkeys(chains))


def _input_steps_per_sec(feeder: train.HostBatches, num_steps: int) -> float:
  """Steps' worth of batches the host pipeline prepares per second."""
  feeder.take(1)  # Warm-up: fills the prefetch buffer.
  start = time.perf_counter()
  for _ in range(num_steps):
    feeder.take(1)
  return num_steps / (time.perf_counter() - start)


def main(argv):
  del argv
  xla_cpu.apply()  # As the entry points do (gan_jax.xla_cpu).
  base = _CONFIG.value
  data_parallel = parallel.DataParallel(parallel.resolve_mode(base.parallel),
                                       base.cpu_scheduler, base.cpu_kernels)
  print(f'{base.data.name}, batch {base.batch_size}, n_critic '
        f'{base.optim.n_critic}, {data_parallel.num_shards} × '
        f'{jax.devices()[0].device_kind} ({data_parallel.mode}), '
        f'jax {jax.__version__}')
  cases, input_rate = {}, None
  feeder = train.HostBatches(train.build(base), base.seed)
  if feeder.shapes(1):
    input_rate = _input_steps_per_sec(feeder, _NUM_STEPS.value)
  for steps_per_call in map(int, _STEPS_PER_CALL.value):
    batches = feeder.take(steps_per_call)
    for chain in _chains(_TRICKS.value):
      config = base.copy_and_resolve_references()
      config.tricks = '' if chain == 'none' else chain.replace('+', ',')
      if any(t in chain.split('+') for t in _WASSERSTEIN_TRICKS):
        config.loss = 'wasserstein'
      for seeds in map(int, _SEEDS.value):
        cases[(steps_per_call, chain, config.loss, seeds)] = timing.FusedSteps(
            train.build(config), steps_per_call, batches, data_parallel,
            seeds)
  feeder.close()
  # Repetitions interleave the cases, so drifts in machine speed hit all alike.
  timing.interleave([(case, _NUM_STEPS.value) for case in cases.values()],
                    _REPEATS.value)
  results = []
  for (steps_per_call, chain, loss, seeds), case in cases.items():
    result = {'steps_per_call': steps_per_call, 'tricks': chain, 'loss': loss,
              'seeds': seeds,
              'parallel': 'none' if seeds > 1 else data_parallel.mode,
              'devices': 1 if seeds > 1 else data_parallel.num_shards,
              'steps_per_sec': timing.median_rate(case),
              'compile_seconds': case.compile_seconds}
    if input_rate:
      result['input_steps_per_sec'] = input_rate
    baseline = cases.get((steps_per_call, 'none', base.loss, seeds))
    if baseline:
      result['step_time_vs_none'] = (timing.median_rate(baseline)
                                     / result['steps_per_sec'])
    one_seed = cases.get((steps_per_call, chain, loss, 1))
    if seeds > 1 and one_seed:
      result['vs_one_seed'] = (result['steps_per_sec']
                               / timing.median_rate(one_seed))
    results.append(result)
    print(json.dumps(result), flush=True)
  if _OUT.value:
    with open(_OUT.value, 'w') as f:
      json.dump({'cases': results}, f, indent=2)


if __name__ == '__main__':
  app.run(main)
