"""An exponential moving average of the generator's parameters.

Samples and evaluations use the average θ̄ ← decay · θ̄ + (1 − decay) · θ,
which smooths the oscillations of simultaneous gradient play and usually
scores better than the raw iterate (Yazıcı et al. 2019); the raw generator
keeps training unchanged. The train loop logs both evaluations (``eval/*``
with the average, ``eval/raw/*`` with the raw parameters). Only parameters
are averaged: a batch-norm generator's running statistics are the raw
generator's, as in StyleGAN2-ADA's copy of the generator buffers.

References:
  Yazıcı, Foo, Winkler, Yap, Piliouras & Chandrasekhar 2019, "The Unusual
  Effectiveness of Averaging in GAN Training", ICLR.
  Karras, Aila, Laine & Lehtinen 2018, "Progressive Growing of GANs", ICLR.
"""

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from gan_jax.tricks import base


class GeneratorEmaState(NamedTuple):
  """The averaged generator parameters."""
  params: Any


def generator_ema(decay: float = 0.999, start_step: int = 0) -> base.Trick:
  """Keeps an EMA of the generator parameters for sampling and evaluation.

  Args:
    decay: the average's decay per generator update.
    start_step: before this step the average just copies the parameters, so
      it does not remember the random initialisation.

  Returns:
    A trick acting at the ``after_generator_update`` and
    ``generator_for_eval`` hooks.
  """
  if not 0 <= decay < 1:
    raise ValueError(f'decay={decay} must be in [0, 1)')

  def init(params, key):
    del key
    return GeneratorEmaState(params=params.generator)

  def after_generator_update(params, state, info):
    rate = jnp.where(info.step < start_step, 1.0, 1.0 - decay)
    average = jax.tree.map(lambda avg, p: avg + rate * (p - avg),
                           state.params, params)
    return params, GeneratorEmaState(params=average)

  def generator_for_eval(params, state):
    del params
    return state.params

  return base.make(init=init, after_generator_update=after_generator_update,
                   generator_for_eval=generator_for_eval)
