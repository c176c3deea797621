"""The experiment's static parts and its train state.

:class:`Gan` holds what does not change during a run (models, loss,
tricks, optimisers, dataset, sizes), built from a config by :func:`build`;
:class:`TrainState` is the pytree a train step maps to the next one, with
:func:`init_state` its start for a key.
"""

from typing import Any, NamedTuple

import flax
import flax.linen as nn
import jax
import jax.numpy as jnp
import ml_collections
import optax

from gan_jax import config as config_lib
from gan_jax import data
from gan_jax import families
from gan_jax import losses
from gan_jax import models
from gan_jax import tricks as tricks_lib


PyTree = Any
Metrics = dict[str, jax.Array]


@flax.struct.dataclass
class Player:
  """One player's trainable state.

  Attributes:
    params: the model's ``params`` collection.
    model_state: its other collections (e.g. ``batch_stats``); ``{}`` if none.
    opt_state: the optax state of its optimiser.
  """
  params: PyTree
  model_state: PyTree
  opt_state: PyTree


@flax.struct.dataclass
class TrainState:
  """Everything that changes during training, as one pytree.

  Attributes:
    step: generator updates done (int32 scalar).
    rng: the run's base PRNG key; step ``s`` draws from ``fold_in(rng, s)``.
    generator: the generator's :class:`Player`.
    critic: the critic's :class:`Player`.
    tricks: the state of the trick chain (e.g. power-iteration vectors, EMA
      parameters), a tuple with one entry per trick.
  """
  step: jax.Array
  rng: jax.Array
  generator: Player
  critic: Player
  tricks: PyTree


class Gan(NamedTuple):
  """The static parts of an experiment: models, objective, tricks, optimisers.

  ``family`` says how the two players meet (:mod:`gan_jax.families`): the
  generator side may be several networks in one module (an encoder and a
  decoder), and the critic may see pairs or codes instead of samples.
  """
  family: families.Family
  generator: nn.Module
  critic: nn.Module
  loss: losses.GanLoss
  tricks: tricks_lib.Trick
  g_optimizer: optax.GradientTransformation
  d_optimizer: optax.GradientTransformation
  dataset: data.Dataset
  batch_size: int
  n_critic: int
  latent_dim: int
  num_classes: int  # > 0: both players are conditioned on class labels.
  scan_unroll: int  # Train steps per trip of the fused steps' loop.


def learning_rate_schedule(config: ml_collections.ConfigDict,
                           learning_rate: float, updates_per_step: int
                           ) -> optax.ScalarOrSchedule:
  """``learning_rate`` under ``config.optim.lr_schedule``.

  ``linear_decay``: the update of train step t (0-based) uses
  learning_rate · (1 − t / num_train_steps), down to 0 at the end, as
  Chainer's ``LinearShift`` from 0 to the last iteration in Miyato et
  al.'s code; a player making ``updates_per_step`` updates per step (the
  critic, n_critic) uses one rate for all of them, as there.
  """
  if config.optim.lr_schedule == 'constant':
    return learning_rate
  if config.optim.lr_schedule != 'linear_decay':
    raise ValueError(f'unknown lr_schedule {config.optim.lr_schedule!r}')
  total_steps = config.num_train_steps

  def schedule(count):  # count: this player's updates so far.
    step = count // updates_per_step
    return learning_rate * jnp.maximum(0.0, 1.0 - step / total_steps)

  return schedule


def optimizer(config: ml_collections.ConfigDict, learning_rate: float,
              updates_per_step: int = 1) -> optax.GradientTransformation:
  """Adam, inside ``optax.apply_if_finite``.

  The learning rate follows ``config.optim.lr_schedule`` (see
  :func:`learning_rate_schedule`). With ``config.skip_nonfinite_updates`` an
  update whose gradients are not finite is skipped (at most
  ``max_consecutive_skips`` in a row); without it every update is applied
  (``max_consecutive_errors=0``) and a non-finite one stops the run as
  diverged. The wrapper is there either way so the optimiser state has one
  structure, and a run that diverged can be resumed with skipping switched
  on.
  """
  adam = optax.adam(
      learning_rate_schedule(config, learning_rate, updates_per_step),
      config.optim.b1, config.optim.b2)
  return optax.apply_if_finite(
      adam, config.max_consecutive_skips if config.skip_nonfinite_updates
      else 0)


def build(config: ml_collections.ConfigDict) -> Gan:
  """Builds the static parts of the experiment described by ``config``."""
  dataset = data.from_config(config.data)
  loss = losses.get(config.loss)
  classes = config_lib.conditioning_classes(config, dataset)
  generator, critic = config_lib.build_models(config, dataset, classes)
  return Gan(
      family=families.from_config(config.family, config.family_args,
                                  families.Context(
                                      dataset, critic, config.optim.d_lr,
                                      config.optim.b1, config.optim.b2)),
      generator=generator,
      critic=critic,
      loss=loss,
      tricks=tricks_lib.from_config(config.tricks, config.trick_args,
                                    config.loss, loss),
      # Separate optimisers and learning rates (TTUR, Heusel et al. 2017).
      g_optimizer=optimizer(config, config.optim.g_lr),
      d_optimizer=optimizer(config, config.optim.d_lr, config.optim.n_critic),
      dataset=dataset,
      batch_size=config.batch_size,
      n_critic=config.optim.n_critic,
      latent_dim=config.model.latent_dim,
      num_classes=classes,
      scan_unroll=config.scan_unroll,
  )


def init_state(gan: Gan, rng: jax.Array) -> TrainState:
  """Initial parameters, optimiser and trick states for the key ``rng``."""
  init_key, trick_key, train_key = jax.random.split(rng, 3)
  g_key, d_key = jax.random.split(init_key)
  z = jnp.zeros((1, gan.latent_dim), jnp.float32)
  x = jnp.zeros((1, *gan.dataset.sample_shape), jnp.float32)
  critic_input = jnp.zeros(
      (1, *gan.family.critic_input_shape(gan.dataset.sample_shape,
                                         gan.latent_dim)), jnp.float32)
  labels = (jnp.zeros((1,), jnp.int32),) if gan.num_classes else ()
  g_params, g_model_state = models.split_variables(
      gan.family.init_generator(
          gan.generator, {'params': g_key, 'dropout': g_key, 'sample': g_key},
          z, x, labels))
  d_params, d_model_state = models.split_variables(
      gan.critic.init(d_key, critic_input, *labels, train=False))
  return TrainState(
      step=jnp.zeros((), jnp.int32),
      rng=train_key,
      generator=Player(g_params, g_model_state,
                       gan.g_optimizer.init(g_params)),
      critic=Player(d_params, d_model_state, gan.d_optimizer.init(d_params)),
      tricks=gan.tricks.init(tricks_lib.Params(g_params, d_params), trick_key),
  )
