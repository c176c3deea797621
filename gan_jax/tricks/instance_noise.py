"""Instance noise (Sønderby et al. 2017; Arjovsky & Bottou 2017).

Gaussian noise is added to every critic input, real and generated, in both
players' updates. Convolving both distributions with the same noise makes
their supports overlap, so the critic cannot separate them perfectly and the
generator's gradients do not vanish; annealing the noise to zero recovers the
original problem.

References:
  Sønderby, Caballero, Theis, Shi & Huszár 2017, "Amortised MAP Inference for
  Image Super-resolution", ICLR (Sec. 3.2).
  Arjovsky & Bottou 2017, "Towards Principled Methods for Training Generative
  Adversarial Networks", ICLR.
"""

from typing import Callable

import jax
import optax

from gan_jax import global_batch
from gan_jax.tricks import base


def instance_noise(std: float | Callable[[jax.Array], jax.Array] = 0.1,
                   decay_steps: int = 10_000) -> base.Trick:
  """Adds N(0, σ(step)²) noise to real and fake critic inputs.

  Args:
    std: the initial standard deviation, annealed linearly to 0 over
      ``decay_steps`` generator steps; or an optax schedule ``step -> σ``,
      which is used as given.
    decay_steps: length of the default linear annealing.

  Returns:
    A trick acting at the ``critic_inputs`` hook.
  """
  if callable(std):
    schedule = std
  else:
    if std < 0 or decay_steps < 1:
      raise ValueError(f'std={std} must be >= 0 and decay_steps={decay_steps} '
                       '>= 1')
    schedule = optax.linear_schedule(std, 0.0, decay_steps)

  def critic_inputs(real, fake, state, info):
    del state
    sigma = schedule(info.step)
    real_key, fake_key = jax.random.split(info.key)
    noise = lambda key, x: global_batch.draw(
        lambda k, shape: jax.random.normal(k, shape, x.dtype), key, x.shape,
        info.batch_axis)
    return (real + sigma * noise(real_key, real),
            fake + sigma * noise(fake_key, fake))

  return base.make(critic_inputs=critic_inputs)
