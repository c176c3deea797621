"""benchmarks/timing.py: what the benchmarks time, and in which order."""

import os
import time

import jax
import numpy as np

from benchmarks import timing
from gan_jax import config as config_lib
from gan_jax import data
from gan_jax import parallel
from gan_jax import train

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class _Recorder:
  """A Timed that records when it was timed."""

  units_per_call = 1

  def __init__(self, name, log):
    self.name, self.log, self.rates = name, log, []

  def time(self, num_units):
    self.log.append((self.name, time.perf_counter()))
    self.rates.append(float(num_units))


def test_interleave_alternates_the_order_and_pauses():
  log = []
  a, b = _Recorder('a', log), _Recorder('b', log)
  timing.interleave([(a, 1), (b, 2)], repeats=3, pause_seconds=0.05)
  assert [name for name, _ in log] == ['a', 'b', 'b', 'a', 'a', 'b']
  gaps = np.diff([at for _, at in log])
  assert (gaps >= 0.05).all()
  assert (a.rates, b.rates) == ([1.0] * 3, [2.0] * 3)


def test_fused_steps_hold_their_batches_on_the_device():
  # The PyTorch twins keep their batch on the device; so must gan_jax's
  # side, or every timed call would include a host-to-device copy.
  config = config_lib.load(os.path.join(REPO, 'configs/dcgan_digits.py'))
  config.batch_size = 4
  config.data.image_size = 8  # The smallest DCGAN: the quickest compile.
  gan = train.build(config)
  images = np.zeros((1, gan.n_critic, 4, *gan.dataset.sample_shape),
                    np.float32)
  batch = data.Batch(images, np.zeros(images.shape[:3], np.int32))
  steps = timing.FusedSteps(gan, 1, (batch,),
                            parallel.DataParallel('none', 'concurrency'))
  assert all(isinstance(leaf, jax.Array)
             for leaf in jax.tree.leaves(steps.batches))
  steps.time(2)
  assert len(steps.rates) == 1 and steps.rates[0] > 0
