"""Trains a few steps of one config under several parallel modes on the same
global batches; prints JSON with each mode's losses and, per state leaf
(parameters, optimiser, model and trick state), its largest difference
from the first mode.

Run as a subprocess with simulated CPU devices (the device count is fixed
when JAX starts), e.g.::

  XLA_FLAGS=--xla_force_host_platform_device_count=8 python \
      tests/parallel_equivalence.py configs/ring8.py 3 none,shard_map,pmap \
      --batch_size=64 --tricks=feature_matching
"""

import json
import sys

import jax
import numpy as np

from gan_jax import config as config_lib
from gan_jax import parallel
from gan_jax import train


def _parse(value: str):
  try:
    return json.loads(value)
  except json.JSONDecodeError:
    return value


def main(config_path: str, num_steps: str, modes: str, *overrides: str):
  config = config_lib.load(config_path)
  for override in overrides:
    key, value = override.removeprefix('--').split('=', 1)
    *parents, leaf = key.split('.')
    node = config
    for part in parents:
      node = node[part]
    node[leaf] = _parse(value)
  gan = train.build(config)
  initial = jax.jit(lambda key: train.init_state(gan, key))(
      jax.random.PRNGKey(config.seed))
  feeder = train.HostBatches(gan, config.seed)
  batches = [feeder.take(1) for _ in range(int(num_steps))]
  feeder.close()

  results = {}
  reference = None
  for mode in modes.split(','):
    data_parallel = parallel.DataParallel(mode)
    state = data_parallel.from_global(data_parallel.replicate(initial))
    step = data_parallel.compile(
        train.make_fused_steps(gan, 1, data_parallel.batch_axis), state,
        data_parallel.batch_shapes(feeder.shapes(1)))
    losses = []
    for batch in batches:
      state, metrics = step(state, *data_parallel.put_batches(batch))
      metrics = jax.device_get(parallel.local_copy(metrics))
      losses.append([float(metrics['critic_loss']),
                     float(metrics['generator_loss'])])
    final = jax.device_get(parallel.local_copy(
        data_parallel.to_global(state)))
    leaves = {jax.tree_util.keystr(path): np.asarray(x, np.float64)
              for path, x in jax.tree_util.tree_leaves_with_path(
                  {'generator': final.generator, 'critic': final.critic,
                   'tricks': final.tricks})}
    if reference is None:
      reference = leaves
    results[mode] = {
        'losses': losses,
        'param_diffs': {path: float(np.max(np.abs(x - reference[path])))
                        for path, x in leaves.items()},
        'num_shards': data_parallel.num_shards,
        'step': int(final.step),
    }
  print(json.dumps(results))


if __name__ == '__main__':
  main(*sys.argv[1:])
