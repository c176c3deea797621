r"""Evaluates a trained run: ``python experiments/evaluate.py --workdir=DIR``.

Restores the run's checkpoint (the latest, ``--checkpoint_step``, or with
``--best`` the best one by the run's ``best_metric``), draws
``--num_samples`` samples (default: the run's ``eval.num_samples``) from the
generator used for evaluation (the EMA copy under ``generator_ema``, and the
raw one too, as ``raw/*``), scores them exactly as training does
(``gan_jax.evaluation``) and writes the result with its protocol to
``DIR/eval.json`` for the final step, else ``DIR/eval_step_<S>.json`` (or
``--out``), as strict JSON (an undefined metric is ``null``). Examples:

  python experiments/evaluate.py --workdir=/tmp/gan_jax/dcgan_digits
  python experiments/evaluate.py --workdir=/tmp/ring8 --checkpoint_step=15000 \
      --num_samples=10000
  python experiments/evaluate.py --workdir=/tmp/bigan_digits \
      --best  # needs best_metric
"""

import functools
import os
import sys

from absl import app
from absl import flags
from absl import logging
import jax

from gan_jax import checkpoint
from gan_jax import compilation_cache
from gan_jax import config as config_lib
from gan_jax import console
from gan_jax import evaluation
from gan_jax import parallel
from gan_jax import strict_json
from gan_jax import train
from gan_jax import xla_cpu

_WORKDIR = flags.DEFINE_string('workdir', None, 'A run directory.')
_STEP = flags.DEFINE_integer('checkpoint_step', None,
                             'Checkpoint to evaluate (default: the latest).')
_BEST = flags.DEFINE_bool('best', False, 'Evaluate the best checkpoint by '
                          'the run\'s config.best_metric.')
_NUM_SAMPLES = flags.DEFINE_integer('num_samples', None,
                                    'Samples to score (default: the run\'s '
                                    'eval.num_samples).')
_OUT = flags.DEFINE_string('out', None, 'Output JSON file.')
_COMPILATION_CACHE = compilation_cache.define_flag()
_CPU_TUNING = xla_cpu.define_flag()
flags.mark_flags_as_required(['workdir'])


def _fail(message: str):
  console.error(message)
  sys.exit(2)


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f'unexpected arguments: {" ".join(argv[1:])}')
  workdir = _WORKDIR.value
  console.quiet_library_logs()
  try:
    config = config_lib.from_run(workdir)
    if _NUM_SAMPLES.value is not None:
      config.eval.num_samples = _NUM_SAMPLES.value
    config.parallel = 'none'  # Only training splits config.batch_size.
    config_lib.validate(config)
  except config_lib.ConfigError as e:
    _fail(str(e))

  compilation_cache.enable(_COMPILATION_CACHE.value)
  xla_cpu.apply(_CPU_TUNING.value)
  # Computed as the run recorded it trained (gan_jax.xla_cpu).
  with xla_cpu.for_runs([workdir], config.cpu_scheduler, config.cpu_kernels):
    _evaluate(config, workdir)


def _evaluate(config, workdir: str) -> None:
  """Restores the chosen checkpoint, scores it, writes the JSON."""
  gan = train.build(config)
  # Samples and features are split over every local device.
  data_parallel = parallel.DataParallel(parallel.resolve_mode('auto'))
  template = data_parallel.replicate(
      jax.jit(functools.partial(train.init_state, gan))(
          jax.random.PRNGKey(config.seed)))
  checkpoints = checkpoint.Checkpointer(
      os.path.join(workdir, 'checkpoints'), config.keep_checkpoints,
      config.best_metric, config.best_mode, reader=True)
  try:
    if _BEST.value:
      restored = checkpoints.restore_best(template)
    else:
      steps = checkpoints.steps()
      if not steps:
        _fail(f'{workdir!r} has no checkpoint to evaluate')
      restored = checkpoints.restore(
          steps[-1] if _STEP.value is None else _STEP.value, template)
  except ValueError as e:
    _fail(str(e))
  state, step = restored.state, restored.step
  checkpoints.close()

  evaluator = evaluation.Evaluator(config, gan.dataset, data_parallel)
  # The key training evaluates with, so the numbers match eval.json's.
  _, eval_key = jax.random.split(jax.random.PRNGKey(config.seed))
  results, _ = train.evaluate_state(
      gan, evaluator, state, eval_key, config.eval.num_samples,
      train.make_generate(gan, data_parallel))
  out = _OUT.value or os.path.join(
      workdir, 'eval.json' if step == config.num_train_steps
      else f'eval_step_{step}.json')
  train.write_eval_json(out, step, results, evaluator.protocol)
  logging.info('step %d: %s', step, results)
  print(strict_json.dumps({'step': step, **results}, indent=2))


if __name__ == '__main__':
  app.run(main, flags_parser=functools.partial(console.parse_flags_or_exit,
                                               config_flag=None))
