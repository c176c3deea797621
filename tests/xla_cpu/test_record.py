"""A run records the CPU tuning it computes with, and a resume reuses it.

The kernel gradient of a convolution computed per tap or by XLA agree to
float rounding only, so which one each layer uses is part of a run's
trajectory (gan_jax.xla_cpu). It must come from the run's workdir, not
from the machine's autotune cache or the environment of the resuming
process.
"""

import os
import subprocess
import sys

import pytest

from gan_jax import xla_cpu
from tests.train.test_checkpointing import assert_same_run
from tests.train.test_checkpointing import metrics_without_timing

REPO = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
# The default config's DCGAN at its smallest, a step a call, every step
# logged, evaluated where the interrupted run stops (its last step) too.
TINY_DCGAN = ['--config.batch_size=16', '--config.data.image_size=8',
              '--config.model.generator_args.width=8',
              '--config.model.critic_args.width=8',
              '--config.steps_per_call=1', '--config.log_every=1',
              '--config.checkpoint_every=2', '--config.sample_every=4',
              '--config.eval_every=2', '--config.eval.num_samples=100',
              '--config.eval.num_reference=100']


def _train(workdir, steps: int, kernel_gradient: str, cache) -> None:
  """experiments/train.py with every eligible layer's kernel gradient
  forced one way (as a machine whose timings say so would choose)."""
  env = {**os.environ, 'GAN_JAX_CONV_KERNEL_GRADIENT': kernel_gradient,
         'GAN_JAX_AUTOTUNE_CACHE': str(cache)}
  result = subprocess.run(
      [sys.executable, 'experiments/train.py', f'--workdir={workdir}',
       f'--config.num_train_steps={steps}', *TINY_DCGAN],
      cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
  assert result.returncode == 0, result.stderr[-3000:]


@pytest.mark.slow
@pytest.mark.usefixtures('trained_digits_classifier')
def test_a_resume_computes_as_the_run_recorded_whatever_the_machine_says(
    tmp_path):
  cache = tmp_path / 'autotune.json'
  straight, resumed, other = (tmp_path / name for name in
                              ('straight', 'resumed', 'other'))
  _train(straight, 4, 'per_tap', cache)
  _train(resumed, 2, 'per_tap', cache)
  # Between interruption and resume the machine's answers go and its
  # choice becomes the other one.
  cache.unlink(missing_ok=True)
  _train(resumed, 4, 'xla', cache)
  _train(other, 4, 'xla', cache)

  record = xla_cpu.read_record(straight)
  assert record['tuned_convolutions']
  layers = record['conv_kernel_gradient_per_tap']
  assert layers and all(layers.values()), record
  assert xla_cpu.read_record(resumed) == record
  assert_same_run(resumed, straight)
  # The choice does change the numbers: a new run with the other one.
  assert not any(xla_cpu.read_record(other)['conv_kernel_gradient_per_tap']
                 .values())
  assert metrics_without_timing(other) != metrics_without_timing(straight)
