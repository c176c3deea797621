r"""Checkpoint cost: size, save and restore time, and what saving costs a run.

  python benchmarks/checkpoint_speed.py --config=configs/dcgan_digits.py

  python benchmarks/checkpoint_speed.py \
      --config=configs/sngan_resnet_cifar10.py \
      --config.data.name=digits --config.data.image_size=32 \
      --config.data.channels=3 --train_steps=0

(The second gives sngan_resnet_cifar10's exact train state: digits resized
to 32×32×3 have CIFAR-10's shapes.) Reports, as one JSON line:

* ``state_mib``: the train state in memory; ``disk_mib``: one checkpoint on
  disk (all three items). The state's float arrays are random numbers, as
  incompressible as a trained state's (orbax compresses with zstd, and a
  fresh state's zero optimiser moments would shrink to nothing).
* ``save_blocking_s``: how long :meth:`Checkpointer.save` holds up training
  with asynchronous saving (state fingerprint and copy to host memory);
  ``save_total_s``: until the checkpoint is complete on disk;
  ``save_sync_s``: a synchronous save, for comparison; ``restore_s``.
  Medians of ``--repeats`` saves.
* With ``--train_steps``: steps/s of the real train step with no saves and
  with an asynchronous save every ``--save_every`` steps, their ratio, and
  the stall per save; the config's ``checkpoint_every`` then gives the
  overhead of a real run (``overhead_at_checkpoint_every``).
"""

import functools
import json
import os
import shutil
import statistics
import tempfile
import time

from absl import app
from absl import flags
import jax
import jax.numpy as jnp
from ml_collections import config_flags

from gan_jax import checkpoint
from gan_jax import parallel
from gan_jax import train
from gan_jax import xla_cpu

_CONFIG = config_flags.DEFINE_config_file('config', 'configs/dcgan_digits.py',
                                          'Experiment config.')
_REPEATS = flags.DEFINE_integer('repeats', 5, 'Saves timed per measure.')
_TRAIN_STEPS = flags.DEFINE_integer(
    'train_steps', 200, 'Steps timed with and without saving (0: skip).')
_SAVE_EVERY = flags.DEFINE_integer('save_every', 20,
                                   'Steps between saves in the timed run.')


def _like_trained(state):
  """``state`` with every float array drawn at random: a trained state does
  not compress like the zeros of a fresh optimiser state."""
  leaves, tree = jax.tree.flatten(state)
  keys = jax.random.split(jax.random.PRNGKey(1), len(leaves))
  return jax.tree.unflatten(tree, [
      jax.random.normal(key, x.shape, x.dtype)
      if jnp.issubdtype(x.dtype, jnp.floating) else x
      for key, x in zip(keys, leaves)])


def _disk_mib(directory: str) -> float:
  return sum(os.path.getsize(os.path.join(root, name))
             for root, _, names in os.walk(directory)
             for name in names) / 2**20


def _time_saves(directory: str, state, loop: dict, config: dict,
                asynchronous: bool, repeats: int):
  """Median seconds for save() to return and for the save to complete."""
  saver = checkpoint.Checkpointer(directory, keep=2,
                                  asynchronous=asynchronous)
  blocking, total = [], []
  for step in range(1, repeats + 1):
    start = time.perf_counter()
    saver.save(step, state, loop, config)
    blocking.append(time.perf_counter() - start)
    saver.wait()
    total.append(time.perf_counter() - start)
  saver.close()
  return statistics.median(blocking), statistics.median(total)


def _steps_per_sec(data_parallel, fused, state, batches, num_steps: int,
                   save_every: int, saver, loop: dict, config: dict):
  """Steps/s over ``num_steps`` steps, saving every ``save_every`` (0:
  never), and the state reached (the train function donates its input)."""
  start = time.perf_counter()
  for step in range(1, num_steps + 1):
    state, metrics = fused(state, *batches)
    if save_every and step % save_every == 0:
      saver.save(step, data_parallel.to_global(state), loop, config)
  jax.block_until_ready((state, metrics))
  if saver:
    saver.wait()
  return num_steps / (time.perf_counter() - start), state


def main(argv):
  del argv
  xla_cpu.apply()  # As the entry points do (gan_jax.xla_cpu).
  config = _CONFIG.value
  gan = train.build(config)
  data_parallel = parallel.DataParallel(parallel.resolve_mode(config.parallel))
  state = data_parallel.replicate(_like_trained(jax.jit(
      functools.partial(train.init_state, gan))(jax.random.PRNGKey(0))))
  loop = {'data': {}, 'log_window': {}}
  saved_config = json.loads(config.to_json_best_effort())
  root = tempfile.mkdtemp(prefix='checkpoint_speed_')
  try:
    result = {
        'config': f'{config.model.generator}/{config.data.name}',
        'state_mib': sum(x.nbytes for x in jax.tree.leaves(state)) / 2**20,
        'device': jax.devices()[0].device_kind, 'jax': jax.__version__}
    blocking, total = _time_saves(os.path.join(root, 'async'), state, loop,
                                  saved_config, True, _REPEATS.value)
    result.update(save_blocking_s=blocking, save_total_s=total)
    result['save_sync_s'] = _time_saves(os.path.join(root, 'sync'), state,
                                        loop, saved_config, False,
                                        _REPEATS.value)[1]
    result['disk_mib'] = _disk_mib(
        os.path.join(root, 'sync', str(_REPEATS.value)))
    reader = checkpoint.Checkpointer(os.path.join(root, 'sync'), keep=2)
    restores = []
    for _ in range(_REPEATS.value):
      start = time.perf_counter()
      jax.block_until_ready(reader.restore(_REPEATS.value, state).state)
      restores.append(time.perf_counter() - start)
    reader.close()
    result['restore_s'] = statistics.median(restores)

    if _TRAIN_STEPS.value:
      feeder = train.HostBatches(gan, config.seed)
      batches = data_parallel.put_batches(feeder.take(1))
      feeder.close()
      local = data_parallel.from_global(state)
      fused = data_parallel.compile(
          train.make_fused_steps(gan, 1, data_parallel.batch_axis), local,
          data_parallel.batch_shapes(feeder.shapes(1)))
      _, local = _steps_per_sec(data_parallel, fused, local, batches, 10, 0,
                                None, loop, saved_config)  # Warm-up.
      saver = checkpoint.Checkpointer(os.path.join(root, 'train'), keep=2)
      plain, saving = [], []
      for _ in range(_REPEATS.value):  # Interleaved against drift.
        rate, local = _steps_per_sec(data_parallel, fused, local, batches,
                                     _TRAIN_STEPS.value, 0, None, loop,
                                     saved_config)
        plain.append(rate)
        rate, local = _steps_per_sec(data_parallel, fused, local, batches,
                                     _TRAIN_STEPS.value, _SAVE_EVERY.value,
                                     saver, loop, saved_config)
        saving.append(rate)
      saver.close()
      plain, saving = statistics.median(plain), statistics.median(saving)
      saves = _TRAIN_STEPS.value // _SAVE_EVERY.value
      stall = (_TRAIN_STEPS.value / saving - _TRAIN_STEPS.value / plain) / saves
      result.update(
          steps_per_sec=plain, steps_per_sec_saving=saving,
          save_every=_SAVE_EVERY.value, stall_per_save_s=stall,
          overhead_at_checkpoint_every=stall * plain / config.checkpoint_every)
    print(json.dumps(result))
  finally:
    shutil.rmtree(root, ignore_errors=True)


if __name__ == '__main__':
  app.run(main)
