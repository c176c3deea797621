"""One process of a multi-process run on 127.0.0.1 (CPU, gloo collectives).

``python tests/multiprocess_worker.py PROCESS_ID NUM_PROCESSES PORT WORKDIR``
with ``XLA_FLAGS=--xla_force_host_platform_device_count=K`` set: trains a
tiny dcgan_digits for 4 steps (checkpoint at 2 and 4), then resumes the
same workdir to 6 steps, restores the last checkpoint and prints JSON with
this process's digest of the train state, so a test can check that every
process holds the same state.
"""

import json
import os
import sys

import jax
import numpy as np

from gan_jax import checkpoint
from gan_jax import config as config_lib
from gan_jax import parallel
from gan_jax import train

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main(process_id: str, num_processes: str, port: str, workdir: str):
  parallel.initialize_distributed(f'127.0.0.1:{port}', int(num_processes),
                                  int(process_id))
  config = config_lib.load(os.path.join(REPO, 'configs', 'dcgan_digits.py'))
  config.batch_size = 8
  config.model.generator_args.width = 8
  config.model.critic_args.width = 8
  config.num_train_steps = 4
  config.log_every = config.checkpoint_every = 2
  config.sample_every = config.eval_every = 4
  config.eval.num_samples = 64
  config.eval.num_reference = 200
  config_lib.validate(config)
  train.train_and_evaluate(config, workdir)
  config.num_train_steps = 6
  results = train.train_and_evaluate(config, workdir)

  gan = train.build(config)
  data_parallel = parallel.DataParallel(parallel.resolve_mode(config.parallel))
  template = data_parallel.replicate(jax.jit(
      lambda key: train.init_state(gan, key))(jax.random.PRNGKey(0)))
  checkpoints = checkpoint.Checkpointer(os.path.join(workdir, 'checkpoints'),
                                        config.keep_checkpoints)
  state, data_state = checkpoints.restore(6, template)[1:]
  steps = checkpoints.steps()
  checkpoints.close()
  leaves = jax.tree.leaves(jax.device_get(parallel.local_copy(state)))
  print('RESULT ' + json.dumps({
      'process': jax.process_index(),
      'devices': [jax.local_device_count(), jax.device_count()],
      'mode': data_parallel.mode,
      'digest': [float(np.sum(np.abs(np.asarray(x, np.float64))))
                 for x in leaves],
      'step': int(parallel.local_copy(state.step)),
      'checkpoint_steps': steps,
      'data_state': data_state,
      'results': results}))


if __name__ == '__main__':
  main(*sys.argv[1:])
