r"""Train-step throughput against the number of steps fused per jit call.

  python benchmarks/steps_per_call.py --config=configs/ring8.py \
      --steps_per_call=1,10,100 --num_steps=2000

For each value, compiles the fused function once (timed separately), warms up,
then times ``--repeats`` runs of ``--num_steps`` steps and prints the median
steps/s. Small models are dispatch-bound at one step per call; fusing with
lax.scan removes the per-step Python and runtime overhead.
"""

import functools
import json
import statistics
import time

from absl import app
from absl import flags
import jax
from ml_collections import config_flags

from gan_jax import train

_CONFIG = config_flags.DEFINE_config_file('config', 'configs/ring8.py',
                                          'Experiment config.')
_STEPS_PER_CALL = flags.DEFINE_list('steps_per_call', ['1', '10', '100'],
                                    'Values to compare.')
_NUM_STEPS = flags.DEFINE_integer('num_steps', 2000, 'Steps per timed run.')
_REPEATS = flags.DEFINE_integer('repeats', 5, 'Timed runs per value.')


def measure(gan, steps_per_call: int, num_steps: int, repeats: int) -> dict:
  state = jax.jit(functools.partial(train.init_state, gan))(
      jax.random.PRNGKey(0))
  start = time.perf_counter()
  fused = jax.jit(train.make_fused_steps(gan, steps_per_call),
                  donate_argnums=0).lower(state).compile()
  compile_seconds = time.perf_counter() - start
  calls = max(1, num_steps // steps_per_call)
  state, _ = fused(state)  # Warm-up.
  jax.block_until_ready(state)
  rates = []
  for _ in range(repeats):
    start = time.perf_counter()
    for _ in range(calls):
      state, metrics = fused(state)
    jax.block_until_ready((state, metrics))
    rates.append(calls * steps_per_call / (time.perf_counter() - start))
  return {'steps_per_call': steps_per_call,
          'steps_per_sec': statistics.median(rates),
          'compile_seconds': compile_seconds}


def main(argv):
  del argv
  config = _CONFIG.value
  gan = train.build(config)
  print(f'{config.data.name}, batch {config.batch_size}, '
        f'n_critic {config.optim.n_critic}, {jax.devices()[0].device_kind}')
  for value in _STEPS_PER_CALL.value:
    result = measure(gan, int(value), _NUM_STEPS.value, _REPEATS.value)
    print(json.dumps(result))


if __name__ == '__main__':
  app.run(main)
