"""Train state, the pure train step, and the training loop.

One train step is one generator update preceded by ``optim.n_critic`` critic
updates, as a pure function ``(state, batch) -> (state, metrics)``. Several
steps are fused into one jit call with ``lax.scan`` (``steps_per_call``) so
that small models are not bound by Python dispatch. Every random number is
drawn from ``fold_in(state.rng, state.step)``, so a run is a function of its
seed alone and resumes from a checkpoint onto the same trajectory.

Tricks act through the hooks of :mod:`gan_jax.tricks.base`; the step calls
them at fixed points and knows nothing about which tricks are on.
"""

import contextlib
import dataclasses
import functools
import json
import os
import time
from typing import Any, Callable, NamedTuple

from absl import logging
import flax
import flax.linen as nn
import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import optax

from gan_jax import checkpoint
from gan_jax import config as config_lib
from gan_jax import data
from gan_jax import diagnostics
from gan_jax import evaluation
from gan_jax import families
from gan_jax import global_batch
from gan_jax import losses
from gan_jax import metric_writer
from gan_jax import models
from gan_jax import parallel
from gan_jax import plotting
from gan_jax import preemption
from gan_jax import run_layout
from gan_jax import tricks as tricks_lib
from gan_jax import workdir_lock
from gan_jax import xla_cpu

PyTree = Any
Metrics = dict[str, jax.Array]

# Streams folded into a step's key, so each use of randomness is independent.
_DATA_STREAM, _CRITIC_STREAM, _GENERATOR_STREAM = 0, 1, 2
# Folded into a critic update's key for the family's own critic terms.
_FAMILY_STREAM = 3
# Folded into the tricks' key for the critic's dropout (tricks fold in
# their index, 0, 1, ...).
_CRITIC_DROPOUT_FOLD = 2 ** 31 - 1


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


def _learning_rate(config: ml_collections.ConfigDict, learning_rate: float,
                   updates_per_step: int) -> optax.ScalarOrSchedule:
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


def _optimizer(config: ml_collections.ConfigDict, learning_rate: float,
               updates_per_step: int = 1) -> optax.GradientTransformation:
  """Adam, inside ``optax.apply_if_finite``.

  The learning rate follows ``config.optim.lr_schedule`` (see
  :func:`_learning_rate`). With ``config.skip_nonfinite_updates`` an update
  whose gradients are not finite is skipped (at most
  ``max_consecutive_skips`` in a row); without it every update is applied
  (``max_consecutive_errors=0``) and a non-finite one stops the run as
  diverged. The wrapper is there either way so the optimiser state has one
  structure, and a run that diverged can be resumed with skipping switched
  on.
  """
  adam = optax.adam(
      _learning_rate(config, learning_rate, updates_per_step),
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
      g_optimizer=_optimizer(config, config.optim.g_lr),
      d_optimizer=_optimizer(config, config.optim.d_lr, config.optim.n_critic),
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


def _step_key(state: TrainState, stream: int) -> jax.Array:
  return jax.random.fold_in(jax.random.fold_in(state.rng, state.step), stream)


def _sum_terms(terms: dict[str, jax.Array]) -> jax.Array:
  return sum(terms.values(), jnp.zeros((), jnp.float32))


def _prefixed(prefix: str, terms: dict[str, jax.Array]) -> Metrics:
  return {f'{prefix}/{name}': value for name, value in terms.items()}


def make_train_step(gan: Gan, batch_axis: str | None = None) -> Callable[
    [TrainState, data.Batch], tuple[TrainState, Metrics]]:
  """The pure train step ``(state, batch) -> (state, metrics)``.

  ``batch`` is a :class:`data.Batch` of ``[n_critic, batch_size, ...]`` real
  samples and labels: one slice per critic update; the generator update sees
  the last one (feature matching compares against it).

  With ``batch_axis`` the function is the per-device step of data
  parallelism (:mod:`gan_jax.parallel`): ``batch`` holds this device's rows,
  and gradients, metrics and every batch statistic are averaged over the
  axis (:mod:`gan_jax.global_batch`), so every device makes the update the
  single-device step makes on the global batch. Latents and trick noise are
  drawn for the global batch and sliced; only dropout masks are drawn per
  device (from a per-device key), so a generator with dropout differs from
  the single-device run in its masks.

  A conditional experiment generates each fake with the label of the real
  example at the same position, so real and fake batches have the same
  classes and the critic sees one label per position (penalties on
  interpolates between real and fake stay well defined). The generator thus
  learns every class in proportion to the data.
  """
  tricks = gan.tricks
  generator = models.with_batch_axis(gan.generator, batch_axis)
  critic = models.with_batch_axis(gan.critic, batch_axis)

  def condition(labels):
    return labels if gan.num_classes else None

  def make_pair(g: Player, key, real: data.Batch):
    """The family's critic inputs for ``real``; the generator side as the
    family calls it, ``run(method, inputs)``; and the list of its model
    states, threaded through each call (the last is the updated one)."""
    z_key, dropout_key = jax.random.split(key)
    z = global_batch.draw(jax.random.normal, z_key,
                          (real.labels.shape[0], gan.latent_dim), batch_axis)
    dropout_key = global_batch.device_key(dropout_key, batch_axis)
    model_state = [g.model_state]

    def run(method, inputs):
      call = len(model_state) - 1
      # The first call keeps the plain GAN's key (its seeds' trajectories);
      # later ones (an encoder's) draw other noise.
      key = dropout_key if not call else jax.random.fold_in(dropout_key, call)
      out, state = models.apply(
          generator, g.params, model_state[-1], inputs, train=True,
          rngs={'dropout': key, 'sample': jax.random.fold_in(key, 1)},
          labels=condition(real.labels) if method is None else None,
          method=method)
      model_state.append(state)
      return out

    return gan.family.pair(run, real.images, z), run, model_state

  def critic_view(state: TrainState, d_params, trick_state, real, fake,
                  labels, info: tricks_lib.StepInfo, g_params):
    """Applies the parameter and input hooks and the critic to real and fake."""
    used_params, trick_state = tricks.critic_params(d_params, trick_state)
    real, fake = tricks.critic_inputs(real, fake, trick_state, info)
    d_model_state = state.critic.model_state
    labels = condition(labels)
    # Dropout masks of a critic that has dropout (per device, as the
    # generator's), from a fold of the hooks' key no trick uses.
    dropout_key = global_batch.device_key(
        jax.random.fold_in(info.key, _CRITIC_DROPOUT_FOLD), batch_axis)

    def run(x, index, model_state):
      return models.apply(
          critic, used_params, model_state, x, train=True, labels=labels,
          rngs={'dropout': jax.random.fold_in(dropout_key, index)})

    apply = lambda x: run(x, 2, d_model_state)[0]
    real_out, d_model_state = run(real, 0, d_model_state)
    fake_out, d_model_state = run(fake, 1, d_model_state)
    view = tricks_lib.CriticView(apply, real, fake, real_out, fake_out,
                                 tricks_lib.Params(g_params, d_params))
    return view, trick_state, d_model_state

  def critic_update(state: TrainState, real: data.Batch, index: int):
    key = jax.random.fold_in(_step_key(state, _CRITIC_STREAM), index)
    z_key, trick_key = jax.random.split(key)
    family_key = jax.random.fold_in(key, _FAMILY_STREAM)
    info = tricks_lib.StepInfo(state.step, trick_key, batch_axis)
    pair, _, g_model_states = make_pair(state.generator, z_key, real)
    pair, g_model_state = jax.lax.stop_gradient(pair), g_model_states[-1]

    def loss_fn(d_params):
      view, trick_state, d_model_state = critic_view(
          state, d_params, state.tricks, pair.real, pair.fake, real.labels,
          info, state.generator.params)
      target = tricks.real_target(jnp.ones((), jnp.float32), trick_state, info)
      terms = {'adversarial': gan.loss.critic(view.real_out.logits,
                                              view.fake_out.logits, target),
               **gan.family.critic_terms(view, family_key)}
      terms = tricks.critic_loss(terms, view, trick_state, info)
      aux = (terms, trick_state, d_model_state, view.real_out.logits,
             view.fake_out.logits)
      return _sum_terms(terms), aux

    grads, (terms, trick_state, d_model_state, real_logits, fake_logits) = (
        jax.grad(loss_fn, has_aux=True)(state.critic.params))
    grads = global_batch.average(grads, batch_axis)
    updates, opt_state = gan.d_optimizer.update(grads, state.critic.opt_state,
                                                state.critic.params)
    d_params = optax.apply_updates(state.critic.params, updates)
    d_params, trick_state = tricks.after_critic_update(d_params, trick_state,
                                                       info)
    state = state.replace(
        critic=Player(d_params, d_model_state, opt_state),
        generator=state.generator.replace(model_state=g_model_state),
        tricks=trick_state)
    metrics = {'critic_loss': _sum_terms(terms), **_prefixed('critic', terms),
               'critic_real': jnp.mean(real_logits),
               'critic_fake': jnp.mean(fake_logits),
               'critic_param_norm': optax.tree.norm(d_params),
               'critic_update_norm': optax.tree.norm(updates)}
    return state, metrics

  def generator_update(state: TrainState, real: data.Batch):
    z_key, trick_key = jax.random.split(_step_key(state, _GENERATOR_STREAM))
    info = tricks_lib.StepInfo(state.step, trick_key, batch_axis)

    def loss_fn(g_params):
      pair, run_generator, g_model_states = make_pair(
          state.generator.replace(params=g_params), z_key, real)
      # The critic's updated state (power iterations, batch statistics) is
      # dropped here: it advances in critic updates only.
      view, _, _ = critic_view(state, state.critic.params, state.tricks,
                               pair.real, pair.fake, real.labels, info,
                               g_params)
      terms = {'adversarial': gan.family.generator_adversarial(
          gan.loss, view, run_generator, pair), **pair.terms}
      terms = tricks.generator_loss(terms, view, state.tricks, info)
      return _sum_terms(terms), (terms, g_model_states[-1])

    grads, (terms, g_model_state) = jax.grad(loss_fn, has_aux=True)(
        state.generator.params)
    grads = global_batch.average(grads, batch_axis)
    updates, opt_state = gan.g_optimizer.update(
        grads, state.generator.opt_state, state.generator.params)
    g_params = optax.apply_updates(state.generator.params, updates)
    g_params, trick_state = tricks.after_generator_update(
        g_params, state.tricks, info)
    state = state.replace(generator=Player(g_params, g_model_state, opt_state),
                          tricks=trick_state)
    return state, {'generator_loss': _sum_terms(terms),
                   **_prefixed('generator', terms),
                   'generator_param_norm': optax.tree.norm(g_params),
                   'generator_update_norm': optax.tree.norm(updates)}

  def train_step(state: TrainState, batch: data.Batch):
    # A Python loop, not lax.scan: n_critic is small, and XLA:CPU runs
    # convolutions inside a while loop far more slowly than outside one
    # (docs/performance.md, "What the CPU tuning does").
    critic_metrics = []
    for index in range(gan.n_critic):
      state, metrics = critic_update(
          state, jax.tree.map(lambda x, i=index: x[i], batch), index)
      critic_metrics.append(metrics)
    critic_metrics = jax.tree.map(lambda *m: jnp.stack(m), *critic_metrics)
    state, generator_metrics = generator_update(
        state, jax.tree.map(lambda x: x[-1], batch))
    state = state.replace(step=state.step + 1)
    critic_metrics = jax.tree.map(jnp.mean, critic_metrics)
    return state, global_batch.average({**critic_metrics,
                                        **generator_metrics}, batch_axis)

  return train_step


def sample_real_batch(gan: Gan, state: TrainState,
                      batch_axis: str | None = None) -> data.Batch:
  """The step's ``[n_critic, batch_size, ...]`` real batch, drawn on device
  (this device's rows of it in a step sharded over ``batch_axis``)."""
  flat = gan.dataset.sample_batch(_step_key(state, _DATA_STREAM),
                                  gan.n_critic * gan.batch_size)
  return jax.tree.map(
      lambda x: global_batch.local_rows(
          x.reshape(gan.n_critic, gan.batch_size, *x.shape[1:]), batch_axis,
          axis=1), flat)


def make_fused_steps(gan: Gan, num_steps: int,
                     batch_axis: str | None = None,
                     per_step: bool = False) -> Callable[
                         ..., tuple[TrainState, Metrics]]:
  """``num_steps`` train steps in one function (lax.scan), for one jit call.

  With ``batch_axis``, the per-device function of data parallelism (see
  :func:`make_train_step`); ``batches`` then hold this device's rows.

  For datasets sampled on device the function is ``state -> (state,
  metrics)``; for host-fed (image) datasets it is ``(state, batches) ->
  (state, metrics)`` with ``batches`` a :class:`data.Batch` of
  ``[num_steps, n_critic, batch_size, ...]`` arrays. Returns the new state
  and the metrics averaged over the fused steps, or with ``per_step`` each
  step's metrics (``[num_steps]`` arrays; the training loop finds the step
  at which a run diverged in them).
  """
  train_step = make_train_step(gan, batch_axis)

  def average(state, metrics):
    return state, (metrics if per_step else jax.tree.map(jnp.mean, metrics))

  def scan(step, state, batches):
    # One step is called directly: a one-trip while loop would still slow
    # down convolutions on XLA:CPU (see train_step).
    if num_steps == 1:
      state, metrics = step(state, None if batches is None else
                            jax.tree.map(lambda x: x[0], batches))
      return average(state, jax.tree.map(lambda m: m[None], metrics))
    # Unrolled, one trip holds several steps, so XLA can schedule work of
    # neighbouring steps together (same bits; config.scan_unroll).
    return average(*jax.lax.scan(step, state, batches, length=num_steps,
                                 unroll=min(gan.scan_unroll, num_steps)))

  if data.is_on_device(gan.dataset):
    def sampled_step(state, _):
      return train_step(state, sample_real_batch(gan, state, batch_axis))

    return lambda state: scan(sampled_step, state, None)

  return lambda state, batches: scan(train_step, state, batches)


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

    key = _step_key(state, _FAMILY_STREAM)

    def run(method, inputs):
      return models.apply(gan.generator, g.params, g.model_state, inputs,
                          train=False, method=method, rngs={'sample': key},
                          labels=labels if method is None else None)[0]

    z = jax.random.normal(key, (images.shape[0], gan.latent_dim))
    return gan.family.pair(run, images, z).real

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
  results.update(family_evaluate(state, getattr(evaluator, 'real_images',
                                                None),
                                 jax.random.fold_in(key, _FAMILY_STREAM)))
  return results, samples


def write_json(path: str, record: dict, sort_keys: bool = True) -> None:
  """Writes ``record`` atomically (a reader never sees half a file) as
  strict JSON: an undefined value (NaN, ±inf) as ``null``."""
  from gan_jax import strict_json  # pylint: disable=g-import-not-at-top
  with open(path + '.tmp', 'w') as f:
    strict_json.dump(record, f, indent=2, sort_keys=sort_keys)
    f.write('\n')
  os.replace(path + '.tmp', path)


def write_eval_json(path: str, step: int, results: dict[str, float],
                    protocol: dict) -> None:
  """Writes an evaluation: the step, the metrics (``null`` where undefined,
  e.g. ``reverse_kl`` with no high-quality sample), the protocol."""
  extractor = ({'feature_extractor': protocol['feature_extractor']}
               if 'feature_extractor' in protocol else {})
  write_json(path, {'step': step, **results, **extractor,
                     'protocol': protocol}, sort_keys=False)


_GRID_COLUMNS = 8
_GRID_MAX_ROWS = 10


def grid_classes(num_classes: int) -> np.ndarray:
  """The classes shown as rows of a conditional sample grid: all of them
  up to 10, else 10 evenly spaced ones."""
  rows = min(num_classes, _GRID_MAX_ROWS)
  return np.round(np.linspace(0, num_classes - 1, rows)).astype(np.int32)


def _chunk_lengths(start: int, total: int, steps_per_call: int,
                   periods: tuple[int, ...]) -> list[int]:
  """Lengths of the fused calls from ``start`` to ``total``.

  A call never runs past a step at which something happens (a multiple of
  one of ``periods``, or the end), so logs, samples, evaluations and
  checkpoints see exactly the steps they are due at.
  """
  lengths, step = [], start
  while step < total:
    next_event = min([total] + [(step // p + 1) * p for p in periods])
    length = min(steps_per_call, next_event - step)
    lengths.append(length)
    step += length
  return lengths


def _is_due(step: int, every: int, total: int) -> bool:
  return step % every == 0 or step == total


def _format_eta(seconds: float) -> str:
  seconds = int(round(seconds))
  return f'{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}'


def _resolved_config(config: ml_collections.ConfigDict,
                     mode: str) -> dict:
  """The config as config.json and checkpoints record it: resolved, with the
  parallel mode used and the processes and devices the run had."""
  resolved = json.loads(config.to_json_best_effort())
  resolved.update(parallel=mode, **config_lib.runtime_info())
  return resolved


class Diverged(RuntimeError):
  """Training made a loss or parameter non-finite; nothing of it was saved.

  ``advice`` says what the workdir holds and what to try
  (:func:`divergence_advice`).
  """

  def __init__(self, step: int, quantities: dict[str, float],
               advice: str = ''):
    shown = ', '.join(f'{name}={value}' for name, value in
                      sorted(quantities.items())[:4])
    super().__init__(f'diverged at step {step}: {shown}'
                     + (f'; {advice}' if advice else ''))
    self.step = step
    self.quantities = quantities


def divergence_advice(config: ml_collections.ConfigDict,
                      checkpoint_step: int | None) -> str:
  """What a diverged run leaves behind and what to try, true to the case."""
  if checkpoint_step is None:
    saved = 'no checkpoint was saved before it, so a rerun starts at step 0'
    again = 'rerun'
  else:
    saved = (f'the checkpoint of step {checkpoint_step} holds the last '
             'finite state')
    again = 'resume'
  if not config.skip_nonfinite_updates:
    return (f'{saved}; {again} with --config.skip_nonfinite_updates=True to '
            'skip updates whose gradients are not finite')
  return (f'{saved}; skip_nonfinite_updates is already on, so the parameters '
          'themselves became non-finite (finite updates too large for them, '
          f'or more than max_consecutive_skips={config.max_consecutive_skips} '
          'skipped in a row): lower --config.optim.d_lr / --config.optim.g_lr '
          'or constrain the critic (e.g. --config.tricks=spectral_norm)')


# Written in the workdir of a run that diverged: {"step", "quantities"},
# each quantity's value as a string ("nan", "inf"): JSON has no number for it.
DIVERGED_FILE = 'diverged.json'


def check_finite(metrics: dict[str, np.ndarray], first_step: int,
                 skip_nonfinite_updates: bool) -> None:
  """Raises :class:`Diverged` at the first step whose metrics are not finite.

  ``metrics`` are per-step ``[num_steps]`` arrays of steps ``first_step``,
  ``first_step + 1``, ... With skipped updates non-finite losses are
  expected (the update was dropped); only the parameter norms count then.
  """
  names = sorted(name for name in metrics if not skip_nonfinite_updates
                 or name.endswith('_param_norm'))
  bad = np.stack([~np.isfinite(metrics[name]) for name in names])
  if bad.any():
    index = int(np.argmax(bad.any(axis=0)))
    raise Diverged(first_step + index, {
        name: float(metrics[name][index])
        for name, flags in zip(names, bad) if flags[index]})


class LogWindow:
  """Each step's metrics since the last log line, on the host.

  Saved in checkpoints, so a resumed run logs exactly the averages an
  uninterrupted one does. Averages are over the finite values: a non-finite
  one comes only from an update skipped under ``skip_nonfinite_updates``.
  """

  def __init__(self, values: dict[str, list[float]] | None = None):
    self._values = {name: list(v) for name, v in (values or {}).items()}

  def add(self, metrics: dict[str, np.ndarray]) -> None:
    for name, values in metrics.items():
      self._values.setdefault(name, []).extend(
          float(v) for v in np.asarray(values).reshape(-1))

  def average(self) -> dict[str, float]:
    averages = {}
    for name, values in self._values.items():
      values = np.asarray(values, np.float32)
      finite = values[np.isfinite(values)]
      averages[name] = float(np.mean(finite, dtype=np.float64)
                             if finite.size else np.nan)
    return averages

  def to_json(self) -> dict[str, list[float]]:
    return {name: list(values) for name, values in self._values.items()}


def _check_best_metric(config: ml_collections.ConfigDict, gan: Gan,
                       evaluator: evaluation.Evaluator) -> None:
  if not config.best_metric:
    return
  names = [prefix + name for prefix, _ in eval_variants(gan)
           for name in evaluator.metric_names()] + list(
               gan.family.metric_names)
  if config.best_metric not in names:
    raise config_lib.ConfigError(
        f'config.best_metric={config.best_metric!r} is not a metric of this '
        f'evaluation; allowed: {", ".join(sorted(names))}')


def train_and_evaluate(config: ml_collections.ConfigDict,
                       workdir: str) -> dict[str, float]:
  """Trains the experiment ``config`` in ``workdir`` and evaluates it.

  Writes ``config.json``, ``metrics.jsonl``, TensorBoard events,
  ``samples/*.png``, ``checkpoints/`` and ``eval.json`` (docs/running.md).
  Resumes from the newest readable checkpoint in ``workdir`` if there is
  one, onto exactly the trajectory of an uninterrupted run.

  Runs on every device of every process (``config.parallel``, see
  :mod:`gan_jax.parallel`); each process calls this function, only process
  0 writes files other than checkpoints.

  Returns:
    The final evaluation metrics (also in ``eval.json``).

  Raises:
    config_lib.ConfigError: before anything is written, when ``workdir``
      holds a run of another config (:func:`config_lib.check_resume`), its
      checkpoint does not fit this config or none of its checkpoints can
      be read, or ``best_metric`` is unknown.
    Diverged: a loss or parameter became non-finite (no checkpoint of it;
      ``diverged.json`` in ``workdir`` says where).
    preemption.Preempted: SIGTERM / SIGINT; a checkpoint of the step
      reached was saved.
  """
  outcome, = _train_runs([config], [workdir])
  if isinstance(outcome, Diverged):
    raise outcome
  return outcome


def train_and_evaluate_seeds(configs: list[ml_collections.ConfigDict],
                             workdirs: list[str]
                             ) -> list[dict[str, float] | Diverged]:
  """Trains runs that differ only in ``seed`` as one vmapped computation.

  Each run is an ordinary run of :func:`train_and_evaluate` in its own
  workdir (same files, resumable alone), but their states are stacked and
  every fused call trains all of them (:mod:`gan_jax.run_layout`), on one
  device. A run that diverges stops being logged, saved and evaluated
  (its ``diverged.json`` says where); the others go on. Runs resumed from
  checkpoints of different steps are trained one after the other instead.

  Returns:
    Per run, its final evaluation metrics or the :class:`Diverged` error.

  Raises:
    config_lib.ConfigError: the configs differ in more than their seed, or
      as :func:`train_and_evaluate`, before anything is written.
    preemption.Preempted: as :func:`train_and_evaluate`; every run saved.
  """
  if len(configs) != len(workdirs) or not configs:
    raise ValueError(f'{len(configs)} configs for {len(workdirs)} workdirs')
  for config in configs[1:]:
    changes = config_lib.differences(configs[0], config, ignore=('seed',))
    if changes:
      raise config_lib.ConfigError(
          f'vmapped runs must differ in their seed only: {"; ".join(changes)}')
  try:
    return _train_runs(configs, workdirs)
  except _StepsDiffer as e:
    logging.info('%s: training the runs one after the other', e)
    outcomes = []
    for config, workdir in zip(configs, workdirs):
      outcomes += _train_runs([config], [workdir])
    return outcomes


class _StepsDiffer(Exception):
  """The runs of a vmapped group resumed from different steps."""


@dataclasses.dataclass
class _Run:
  """One run of those trained together: its files and host-side state."""
  config: ml_collections.ConfigDict
  workdir: str
  checkpoints: checkpoint.Checkpointer
  feeder: 'HostBatches'
  eval_key: jax.Array
  window: LogWindow = dataclasses.field(default_factory=LogWindow)
  writer: metric_writer.MetricWriter | None = None
  resolved_config: dict = dataclasses.field(default_factory=dict)
  label: str = ''  # Prefix of its log lines ('seed 3: ' in a group).
  results: dict[str, float] = dataclasses.field(default_factory=dict)
  diverged: Diverged | None = None
  # Its checkpoint was saved by a stop that came before the log line,
  # evaluation or samples due at its step: they are done first on resume.
  events_pending: bool = False
  started: float = 0.0  # time.perf_counter() when the call to train began.

  def close(self) -> None:
    self.checkpoints.close()  # Waits for the saves under way.
    self.feeder.close()
    if self.writer:
      self.writer.close()


def _train_runs(configs, workdirs) -> list[dict[str, float] | Diverged]:
  """Holds the runs' workdirs (:mod:`gan_jax.workdir_lock`), then trains."""
  with contextlib.ExitStack() as held:
    for workdir in workdirs:
      held.enter_context(workdir_lock.hold(workdir))
    try:
      tuning = held.enter_context(xla_cpu.for_runs(
          workdirs, configs[0].cpu_scheduler, configs[0].cpu_kernels))
    except ValueError as e:  # Runs that recorded different tunings.
      raise config_lib.ConfigError(str(e)) from e
    return _train_held_runs(configs, workdirs, tuning)


def _train_held_runs(configs, workdirs, save_tuning: Callable[[], None]
                     ) -> list[dict[str, float] | Diverged]:
  """Sets up, restores and trains the runs (stacked if more than one);
  ``save_tuning`` records the CPU tuning they train with
  (:func:`gan_jax.xla_cpu.for_runs`)."""
  started = time.perf_counter()
  for config, workdir in zip(configs, workdirs):
    config_lib.check_resume(config, workdir)
  config = configs[0]
  gan = build(config)
  layout = run_layout.RunLayout(
      parallel.DataParallel(parallel.resolve_mode(config.parallel),
                            config.cpu_scheduler, config.cpu_kernels),
      len(configs))
  writes = parallel.is_writer()
  evaluator = evaluation.Evaluator(config, gan.dataset, layout.data_parallel)
  _check_best_metric(config, gan, evaluator)

  runs, states, starts = [], [], []
  try:
    for config, workdir in zip(configs, workdirs):
      state_key, eval_key = jax.random.split(jax.random.PRNGKey(config.seed))
      # Globally replicated: the layout of checkpoints and of evaluation.
      state = layout.data_parallel.replicate(
          jax.jit(functools.partial(init_state, gan))(state_key))
      run = _Run(config, workdir, checkpoint.Checkpointer(
          os.path.join(workdir, 'checkpoints'), config.keep_checkpoints,
          config.best_metric, config.best_mode),
                 HostBatches(gan, config.seed), eval_key,
                 label=f'seed {config.seed}: ' if layout.stacked else '',
                 started=started)
      runs.append(run)
      try:
        restored = run.checkpoints.restore_latest(state)
      except (checkpoint.ShapeMismatch, checkpoint.NoReadableCheckpoint) as e:
        raise config_lib.ConfigError(str(e)) from e
      if restored:
        state = restored.state
        run.window = LogWindow(restored.loop['log_window'])
        # Every process reads the same number of batches from its own
        # shard, so the position saved (by process 0) is every process's.
        run.feeder.set_state(restored.loop['data'])
        run.events_pending = restored.loop.get('events_pending', False)
        if run.events_pending:
          run.feeder.replay(restored.loop.get('last_take', {}))
        logging.info('%sresumed from the checkpoint of step %d', run.label,
                     restored.step)
      states.append(state)
      starts.append(int(parallel.local_copy(state.step)))
      if starts[-1] > config.num_train_steps:
        raise config_lib.ConfigError(
            f'{workdir!r} holds a checkpoint of step {starts[-1]}, past '
            f'config.num_train_steps={config.num_train_steps}; train it to '
            f'at least {starts[-1]} steps or use a new workdir')
    if len(set(starts)) > 1:
      raise _StepsDiffer(f'the runs resumed from steps {starts}')
    for run in runs:
      run.resolved_config = _resolved_config(run.config,
                                             layout.data_parallel.mode)
      if writes:
        _start_files(run, starts[0])
        # Pending events rewrite the line of the resumed step.
        run.writer = metric_writer.MetricWriter(
            run.workdir, resume_step=starts[0] - int(run.events_pending))
    with preemption.StopRequests(runs[0].checkpoints.reached_preemption
                                 ) as stops:
      return _train_loop(gan, layout, evaluator, runs, states, starts[0],
                         stops, save_tuning)
  finally:
    for run in runs:
      run.close()


def _start_files(run: _Run, start: int) -> None:
  """The files a run writes before training: samples/, config.json (the
  old one kept on an allowed config change); a stale diverged.json goes."""
  os.makedirs(os.path.join(run.workdir, 'samples'), exist_ok=True)
  config_path = os.path.join(run.workdir, 'config.json')
  if config_lib.config_changes(run.config, run.workdir):  # Allowed.
    os.replace(config_path, os.path.join(
        run.workdir, f'config_until_step_{start}.json'))
  write_json(config_path, run.resolved_config)
  diverged_path = os.path.join(run.workdir, DIVERGED_FILE)
  if os.path.exists(diverged_path):
    os.remove(diverged_path)


def summary(run: _Run, total: int, protocol: dict) -> str:
  """The lines a finished run ends with: where it is, its scores by name
  with how they were measured, and how long it took."""
  shown = [name for name in run.results if not name.startswith('raw/')]
  scores = ', '.join(
      f'{name} {value:.4g}' if np.isfinite(value) else f'{name} undefined'
      for name, value in ((n, run.results[n]) for n in shown))
  how = ', '.join(f'{k} {v}' for k, v in protocol.items())
  took = _format_eta(time.perf_counter() - run.started)
  return (f'{run.label}done: step {total} of {total} in {took} (set-up, '
          f'training and evaluation); workdir {run.workdir}\n'
          f'  final scores: {scores}\n  protocol: {how}; every score in '
          'eval.json')


def _train_loop(gan: Gan, layout: run_layout.RunLayout,
                evaluator: evaluation.Evaluator, runs: list[_Run],
                states: list, start: int, stops,
                save_tuning: Callable[[], None]
                ) -> list[dict[str, float] | Diverged]:
  """The loop of :func:`_train_runs`, from ``states`` (at step ``start``)
  to the end; returns each run's final metrics or its divergence."""
  config = runs[0].config  # The runs differ in their seed only.
  writes = parallel.is_writer()
  generate = make_generate(gan, layout.data_parallel)
  family_evaluate = make_family_evaluate(gan)
  diagnose = diagnostics.make_diagnose(gan.critic, gan.tricks)
  real_critic_inputs = make_real_critic_inputs(gan)
  total = config.num_train_steps

  def evaluate(run: _Run, state) -> dict[str, float]:
    return evaluate_state(gan, evaluator, state, run.eval_key,
                          config.eval.num_samples, generate,
                          family_evaluate)[0]

  def save_samples(run: _Run, step: int, state) -> None:
    """Sample grids (images), scatter plots (2-D) or FASTA files
    (sequences), from fixed latents. Every process generates (the rows are
    sharded); process 0 writes."""
    for _, raw in eval_variants(gan):
      suffix = '_raw' if raw else ''
      path = os.path.join(run.workdir, 'samples',
                          f'step_{step:08d}{suffix}.png')
      if isinstance(gan.dataset, data.SequenceDataset):
        shown = generate(state, run.eval_key, _GRID_COLUMNS ** 2, raw)
        if writes:
          plotting.save_fasta(path.replace('.png', '.fasta'),
                              gan.dataset.decode(shown),
                              f'step {step}{" raw" if raw else ""} sample')
        continue
      if data.is_on_device(gan.dataset):
        # The evaluated samples themselves, against as many real ones.
        samples = generate_samples(gan, generate, state, run.eval_key,
                                   config.eval.num_samples, raw)
        if writes:
          real = np.asarray(gan.dataset.sample(run.eval_key,
                                               config.eval.num_samples))
          plotting.save_scatter(
              path, real, samples, title=f'{config.data.name}, step {step}'
              f'{" (raw)" if raw else ""}')
        continue
      if gan.num_classes:  # One row per class.
        labels = grid_classes(gan.num_classes).repeat(_GRID_COLUMNS)
        shown = generate(state, run.eval_key, len(labels), raw, labels)
      else:
        shown = generate(state, run.eval_key, _GRID_COLUMNS ** 2, raw)
      if writes:
        grid = plotting.image_grid(shown, columns=_GRID_COLUMNS)
        plotting.save_image(path, grid)
        run.writer.write_image(step, 'samples' + suffix, grid)

  def diagnose_state(run: _Run, state) -> dict[str, float]:
    """Diagnostics on process 0's own copy of the state and its last batch."""
    state = parallel.local_copy(state)
    real = (sample_real_batch(gan, state) if data.is_on_device(gan.dataset)
            else jax.tree.map(jnp.asarray, run.feeder.last))
    labels = real.labels[0] if gan.num_classes else None
    record = diagnose(state.critic, state.tricks,
                      real_critic_inputs(state, real.images[0], labels),
                      labels)
    if config.skip_nonfinite_updates:
      record.update({f'{name}_skipped_updates':
                     int(player.opt_state.total_notfinite)
                     for name, player in (('critic', state.critic),
                                          ('generator', state.generator))})
    return record

  def loop_state(run: _Run, events_pending: bool) -> dict:
    state = {'data': run.feeder.get_state(),
             'log_window': run.window.to_json(),
             'events_pending': events_pending}
    if events_pending:
      state['last_take'] = run.feeder.last_take()
    return state

  def save(run: _Run, step: int, state, events_pending: bool = False) -> None:
    run.checkpoints.save(step, state, loop_state(run, events_pending),
                         run.resolved_config)

  periods = (config.log_every, config.sample_every, config.checkpoint_every,
             config.eval_every)
  lengths = _chunk_lengths(start, total, config.steps_per_call, periods)
  state = layout.to_step(states)
  compiled = {}
  compile_start = time.perf_counter()
  for length in sorted(set(lengths)):
    compiled[length] = layout.compile(
        make_fused_steps(gan, length, layout.batch_axis, per_step=True),
        state, layout.batch_shapes(runs[0].feeder.shapes(length)))
  if compiled:
    logging.info('compiled %d train program(s) in %.1fs', len(compiled),
                 time.perf_counter() - compile_start)
  if writes:  # The programs' tuning choices are made: recorded first.
    save_tuning()

  def live() -> list[tuple[_Run, int]]:
    return [(run, i) for i, run in enumerate(runs) if not run.diverged]

  unchecked = []  # (first step, per-step metrics) of calls not yet checked.

  def check(calls) -> None:
    """Moves the calls' metrics to the log windows once they are finite;
    a diverged run is set aside (:func:`diverge`)."""
    for first_step, metrics in calls:
      per_run = layout.split(jax.device_get(parallel.local_copy(metrics)))
      for run, index in live():
        try:
          check_finite(per_run[index], first_step,
                       config.skip_nonfinite_updates)
        except Diverged as e:
          diverge(run, e, per_run[index], first_step)
          continue
        run.window.add(per_run[index])

  def diverge(run: _Run, error: Diverged, metrics, first_step: int) -> None:
    """Sets ``run`` aside: its finite steps since the last log line are
    logged (at the step before ``error.step``) and ``diverged.json`` says
    where it diverged; the error names the last checkpoint and a remedy."""
    finite = error.step - first_step
    if finite:
      run.window.add({name: values[:finite]
                      for name, values in metrics.items()})
    run.diverged = Diverged(error.step, error.quantities, divergence_advice(
        config, max(run.checkpoints.steps(), default=None)))
    if writes:
      record = run.window.average()
      if record:
        run.writer.write(error.step - 1, record)
      write_json(os.path.join(run.workdir, DIVERGED_FILE), {
          'step': error.step,
          'quantities': {k: str(v) for k, v in error.quantities.items()}})
    if layout.stacked:  # A single run's caller reports it.
      logging.warning('%s%s', run.label, run.diverged)

  eval_seconds = []  # Wall time of each evaluation so far, for the ETA.

  def eta(step: int, steps_per_sec: float) -> str:
    """Time to the end: training at ``steps_per_sec`` plus the evaluations
    still due, each as long as the mean one so far."""
    every = config.eval_every
    evaluations = total // every - step // every + (total % every != 0)
    seconds = (total - step) / steps_per_sec
    if evaluations and not eval_seconds:
      return f'{_format_eta(seconds)} + {evaluations} evaluation(s)'
    return _format_eta(seconds + evaluations * np.mean(eval_seconds or [0]))

  def events(run: _Run, step: int, run_state, steps_per_sec: float | None,
             stop: bool) -> bool:
    """The log line, evaluation and samples due at ``step``. Returns False
    when they are left for the resumed run: a stop was requested before
    them, or during the evaluation (which is abandoned)."""
    due = {name: _is_due(step, every, total) for name, every in (
        ('log', config.log_every), ('eval', config.eval_every),
        ('samples', config.sample_every))}
    if stop:
      return not any(due.values())
    record = {}
    if due['log']:
      record = run.window.average()
      if steps_per_sec:
        record['steps_per_sec'] = steps_per_sec
      if writes:
        record.update(diagnose_state(run, run_state))
      logging.info('%sstep %d/%d | %s%s', run.label, step, total, ' '.join(
          f'{k} {v:.4g}' for k, v in sorted(record.items())
          if k.endswith('_loss')), f' | {steps_per_sec:.0f} steps/s | ETA '
          f'{eta(step, steps_per_sec)}' if steps_per_sec else '')
    if due['eval']:
      started = time.perf_counter()
      try:
        with stops.interruptible():
          results = evaluate(run, run_state)
      except preemption.Interrupted:
        return False
      eval_seconds.append(time.perf_counter() - started)
      run.results = results
      record.update({f'eval/{k}': v for k, v in results.items()})
    if due['log']:
      run.window = LogWindow()
    if due['eval']:
      # Every evaluation competes for the best checkpoint, not only those
      # at checkpoint steps.
      run.checkpoints.save_if_best(step, run_state, loop_state(run, False),
                                   run.resolved_config, run.results)
    if due['samples']:
      save_samples(run, step, run_state)
    if record and writes:
      run.writer.write(step, record)
    return True

  for run, index in live():  # Events a stopped run left undone.
    if run.events_pending and not events(run, start, states[index], None,
                                         False):
      raise preemption.Preempted(start)  # Its checkpoint still says so.

  step = start
  # Training throughput: steps since the last log over the time spent in
  # train calls since then (evaluations, samples and saves left out).
  window_step, window_seconds = start, 0.0
  window_start = time.perf_counter()
  for length in lengths:
    state, metrics = compiled[length](state, *layout.put_batches(
        [run.feeder.take(length) for run in runs]))
    unchecked.append((step + 1, metrics))
    step += length
    # The previous call is checked while this one runs: one call stays in
    # flight, and a diverged run stops one call late at most.
    check(unchecked[:-1])
    del unchecked[:-1]
    if not live():
      break
    stop = step < total and stops.should_stop()
    if not stop and not any(_is_due(step, p, total) for p in periods):
      continue
    check(unchecked)  # Nothing non-finite is logged, evaluated or saved.
    unchecked.clear()
    if not live():
      break
    run_states = layout.to_runs(state)
    window_seconds += time.perf_counter() - window_start
    steps_per_sec = (step - window_step) / window_seconds
    saved = set()
    for run, index in live():
      done = events(run, step, run_states[index], steps_per_sec, stop)
      stop = stop or not done
      if not done or (step < total and _is_due(step, config.checkpoint_every,
                                               total)):
        save(run, step, run_states[index], events_pending=not done)
        saved.add(index)
    if stop:  # One checkpoint of this step for every run, then exit.
      for run, index in live():
        if index not in saved:
          save(run, step, run_states[index])
      raise preemption.Preempted(step)
    if _is_due(step, config.log_every, total):
      window_step, window_seconds = step, 0.0
    window_start = time.perf_counter()

  run_states = layout.to_runs(state)
  outcomes = []
  for index, run in enumerate(runs):
    if run.diverged:
      outcomes.append(run.diverged)
      continue
    if not run.results:  # A finished run, resumed: evaluate its final state.
      run.results = evaluate(run, run_states[index])
    if writes:
      write_eval_json(os.path.join(run.workdir, 'eval.json'), total,
                      run.results, evaluator.protocol)
    logging.info('%s', summary(run, total, evaluator.protocol))
    if lengths:
      # Saved last, so a run whose final checkpoint exists has its eval
      # written.
      save(run, total, run_states[index])
    outcomes.append(run.results)
  return outcomes


class HostBatches:
  """Real batches from the host pipeline, for datasets not sampled on device.

  ``take(n)`` stacks the next ``n · n_critic`` batches into the
  :class:`data.Batch` of ``[n, n_critic, batch_size, ...]`` arrays a fused
  call scans over; for on-device datasets it gives no argument at all. The pipeline's position is
  checkpointed with the train state, so a resumed run reads the next batch.
  """

  def __init__(self, gan: Gan, seed: int):
    self._gan = gan
    self._iterator = None
    self.last = None
    self._last_take = {}  # Where the last take began, and its length.
    if not data.is_on_device(gan.dataset):
      self._iterator = gan.dataset.batches(
          gan.batch_size, seed, jax.process_index(), jax.process_count())

  def shapes(self, num_steps: int) -> tuple[data.Batch, ...]:
    """Shapes of :meth:`take`: this process's share of the global batch."""
    if self._iterator is None:
      return ()
    leading = (num_steps, self._gan.n_critic,
               self._gan.batch_size // jax.process_count())
    return (data.Batch(
        jax.ShapeDtypeStruct((*leading, *self._gan.dataset.sample_shape),
                             jnp.float32),
        jax.ShapeDtypeStruct(leading, jnp.int32)),)

  def take(self, num_steps: int) -> tuple[data.Batch, ...]:
    if self._iterator is None:
      return ()
    self._last_take = {'state': self._iterator.get_state(),
                       'num_steps': num_steps}
    records = [next(self._iterator)
               for _ in range(num_steps * self._gan.n_critic)]
    batches = data.Batch(
        *(np.stack([r[key] for r in records]).reshape(
            num_steps, self._gan.n_critic, *records[0][key].shape)
          for key in ('image', 'label')))
    self.last = jax.tree.map(lambda x: x[-1], batches)
    return (batches,)

  def get_state(self) -> dict:
    return {} if self._iterator is None else self._iterator.get_state()

  def set_state(self, state: dict) -> None:
    if self._iterator is not None and state:
      self._iterator.set_state(state)

  def last_take(self) -> dict:
    """What :meth:`replay` needs to read the last take again."""
    return self._last_take

  def replay(self, last_take: dict) -> None:
    """Reads the take ``last_take`` describes again, so :attr:`last` is as
    it was then (and the position after it): a resumed run redoing the
    diagnostics of its step needs the step's batch."""
    if self._iterator is not None and last_take:
      self._iterator.set_state(last_take['state'])
      self.take(last_take['num_steps'])

  def close(self) -> None:
    if self._iterator is not None:
      self._iterator.close()
