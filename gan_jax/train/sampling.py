"""Sampling and evaluating a train state.

Generating samples (eval mode, the evaluation parameters the tricks choose,
rows split over devices), the critic's real inputs for diagnostics, the
family's own metrics, and one evaluation of a state
(:class:`gan_jax.evaluation.Evaluator` on its samples).
"""

import functools
from typing import Callable

import jax
import jax.numpy as jnp
import numpy as np

from gan_jax import evaluation
from gan_jax import families
from gan_jax import models
from gan_jax import parallel
from gan_jax import tricks as tricks_lib
from gan_jax.train import step as step_lib
from gan_jax.train.state import Gan
from gan_jax.train.state import Player
from gan_jax.train.state import TrainState


def make_generate(gan: Gan, data_parallel: parallel.DataParallel | None = None
                  ) -> Callable[..., np.ndarray]:
  """``(state, key, num_samples, raw, labels=None) -> samples`` (numpy).

  In eval mode, with the parameters the tricks choose for evaluation (e.g.
  the EMA copy), or the raw generator parameters when ``raw`` is true. A
  conditional generator makes ``labels`` (``[num_samples]`` ints); by default
  every class in turn, ``i % num_classes`` for sample ``i``.

  The samples' rows are split over the devices of ``data_parallel`` (zero
  latents pad them to a multiple of the devices), so the same key gives the
  same samples on any number of devices; ``state`` is then globally
  replicated (:meth:`parallel.DataParallel.to_global`).
  """
  data_parallel = data_parallel or parallel.DataParallel('none')

  @functools.partial(jax.jit, static_argnums=(2, 3),
                     out_shardings=data_parallel.rows_sharding())
  def generate_rows(state: TrainState, key: jax.Array, num_samples: int,
                    raw: bool, labels: jax.Array):
    params = state.generator.params
    if not raw:
      params = gan.tricks.generator_for_eval(params, state.tricks)
    z_key, dropout_key = jax.random.split(key)
    z = jax.random.normal(z_key, (num_samples, gan.latent_dim))
    z = jnp.pad(z, ((0, labels.shape[0] - num_samples), (0, 0)))
    return models.apply(gan.generator, params, state.generator.model_state, z,
                        train=False, rngs={
                            'dropout': dropout_key,
                            'sample': jax.random.fold_in(dropout_key, 1)},
                        labels=labels if gan.num_classes else None)[0]

  def generate(state: TrainState, key: jax.Array, num_samples: int,
               raw: bool = False, labels=None) -> np.ndarray:
    if labels is None:
      labels = np.arange(num_samples, dtype=np.int32) % max(gan.num_classes, 1)
    labels = data_parallel.put_rows(np.asarray(labels, np.int32))
    rows = generate_rows(state, data_parallel.replicate(key), num_samples,
                         raw, labels)
    return data_parallel.get_rows(rows, num_samples)

  return generate


def make_real_critic_inputs(gan: Gan) -> Callable[..., jax.Array]:
  """``(state, images, labels) -> the critic's real inputs`` for those images
  (the images themselves for a GAN; (x, E(x)) pairs or prior codes for
  the other families), with the generator side in evaluation mode."""

  @jax.jit
  def real_inputs(state: TrainState, images, labels=None):
    g = state.generator

    key = step_lib.step_key(state, step_lib.FAMILY_STREAM)

    def run(method, inputs, state):  # Eval mode: the state stays as it is.
      return models.apply(gan.generator, g.params, g.model_state, inputs,
                          train=False, method=method, rngs={'sample': key},
                          labels=labels if method is None else None)[0], state

    z = jax.random.normal(key, (images.shape[0], gan.latent_dim))
    return gan.family.pair(run, images, z, None)[0].real

  return real_inputs


_SAMPLE_BATCH = 2_500  # Samples generated per call at evaluation.


def eval_variants(gan: Gan) -> list[tuple[str, bool]]:
  """``(metric prefix, raw)`` pairs to evaluate: the generator the tricks
  choose for evaluation, and under generator EMA also the raw one."""
  raw = [('raw/', True)] if tricks_lib.changes_eval_params(gan.tricks) else []
  return [('', False)] + raw


def generate_samples(gan: Gan, generate, state: TrainState, key: jax.Array,
                     num_samples: int, raw: bool) -> np.ndarray:
  """``num_samples`` samples in calls of at most 2,500 (memory), the same
  ones for the same key; a conditional generator cycles through classes."""
  if num_samples <= _SAMPLE_BATCH:
    return np.asarray(generate(state, key, num_samples, raw))
  chunks = []
  for index, start in enumerate(range(0, num_samples, _SAMPLE_BATCH)):
    size = min(_SAMPLE_BATCH, num_samples - start)
    labels = (jnp.arange(start, start + size, dtype=jnp.int32)
              % gan.num_classes if gan.num_classes else None)
    chunks.append(np.asarray(generate(state, jax.random.fold_in(key, index),
                                      size, raw, labels)))
  return np.concatenate(chunks)


def make_family_evaluate(gan: Gan) -> Callable[..., dict[str, float]]:
  """``(state, reference_images, key) -> metrics`` of the family's own
  (a reconstruction error, a test accuracy), with the parameters the
  tricks choose for evaluation."""

  @functools.partial(jax.jit, static_argnums=0)
  def run_generator(method, params, model_state, inputs):
    return models.apply(gan.generator, params, model_state, inputs,
                        train=False, method=method)[0]

  @jax.jit
  def run_critic(critic: Player, trick_state, inputs):
    used, _ = gan.tricks.critic_params(critic.params, trick_state)
    return models.apply(gan.critic, used, critic.model_state, inputs,
                        train=False)[0]

  def evaluate(state: TrainState, images, key) -> dict[str, float]:
    params = gan.tricks.generator_for_eval(state.generator.params,
                                           state.tricks)
    players = families.EvalModels(
        generator=lambda method, x: np.asarray(run_generator(
            method, params, state.generator.model_state, x)),
        critic=lambda x: jax.device_get(run_critic(state.critic,
                                                   state.tricks, x)))
    return gan.family.evaluate(players, images, key)

  return evaluate


def evaluate_state(gan: Gan, evaluator: evaluation.Evaluator,
                   state: TrainState, key: jax.Array, num_samples: int,
                   generate=None, family_evaluate=None
                   ) -> tuple[dict[str, float], dict[str, np.ndarray]]:
  """Scores ``num_samples`` samples of each of :func:`eval_variants`, and
  adds the family's own metrics (:func:`make_family_evaluate`).

  Returns the metrics (prefixed ``raw/`` for the raw generator under EMA)
  and the samples of each variant, by prefix.
  """
  generate = generate or make_generate(gan)
  family_evaluate = family_evaluate or make_family_evaluate(gan)
  results, samples = {}, {}
  for prefix, raw in eval_variants(gan):
    samples[prefix] = generate_samples(gan, generate, state, key,
                                       num_samples, raw)
    results.update({prefix + k: v
                    for k, v in evaluator(samples[prefix]).items()})
  results.update(family_evaluate(
      state, getattr(evaluator, 'real_images', None),
      jax.random.fold_in(key, step_lib.FAMILY_STREAM)))
  return results, samples


GRID_COLUMNS = 8
GRID_MAX_ROWS = 10


def grid_classes(num_classes: int) -> np.ndarray:
  """The classes shown as rows of a conditional sample grid: all of them
  up to 10, else 10 evenly spaced ones."""
  rows = min(num_classes, GRID_MAX_ROWS)
  return np.round(np.linspace(0, num_classes - 1, rows)).astype(np.int32)
