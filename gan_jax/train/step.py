"""The pure train step and the fused steps of one jit call.

One train step is one generator update preceded by ``optim.n_critic`` critic
updates, as a pure function ``(state, batch) -> (state, metrics)``. Several
steps are fused into one jit call with ``lax.scan`` (``steps_per_call``) so
that small models are not bound by Python dispatch. Every random number is
drawn from ``fold_in(state.rng, state.step)``, so a run is a function of its
seed alone and resumes from a checkpoint onto the same trajectory.

Tricks act through the hooks of :mod:`gan_jax.tricks.base`; the step calls
them at fixed points and knows nothing about which tricks are on.
"""

from typing import Callable, NamedTuple

import flax.linen as nn
import jax
import jax.numpy as jnp
import optax

from gan_jax import data
from gan_jax import global_batch
from gan_jax import models
from gan_jax import tricks as tricks_lib
from gan_jax.train.state import Gan
from gan_jax.train.state import Metrics
from gan_jax.train.state import Player
from gan_jax.train.state import TrainState

# Streams folded into a step's key, so each use of randomness is independent.
DATA_STREAM, CRITIC_STREAM, GENERATOR_STREAM = 0, 1, 2
# Folded into a critic update's key for the family's own critic terms.
FAMILY_STREAM = 3
# Folded into the tricks' key for the critic's dropout (tricks fold in
# their index, 0, 1, ...).
CRITIC_DROPOUT_FOLD = 2 ** 31 - 1


def step_key(state: TrainState, stream: int) -> jax.Array:
  return jax.random.fold_in(jax.random.fold_in(state.rng, state.step), stream)


def sum_terms(terms: dict[str, jax.Array]) -> jax.Array:
  return sum(terms.values(), jnp.zeros((), jnp.float32))


def prefixed(prefix: str, terms: dict[str, jax.Array]) -> Metrics:
  return {f'{prefix}/{name}': value for name, value in terms.items()}


class _Step(NamedTuple):
  """What every part of one train step uses: the experiment, its models
  written for ``batch_axis`` (:func:`gan_jax.models.with_batch_axis`)."""
  gan: Gan
  generator: nn.Module
  critic: nn.Module
  batch_axis: str | None

  def condition(self, labels):
    return labels if self.gan.num_classes else None


class _GeneratorState(NamedTuple):
  """What a family threads through its calls of the generator side: the
  model state (batch statistics) and how many calls came before."""
  model_state: dict
  calls: int


def _make_pair(step: _Step, g: Player, key: jax.Array, real: data.Batch):
  """The family's critic inputs for ``real``; the generator side as the
  family calls it, ``run(method, inputs, state) -> (outputs, state)``; and
  the generator side's state after the family's calls."""
  z_key, dropout_key = jax.random.split(key)
  z = global_batch.draw(jax.random.normal, z_key,
                        (real.labels.shape[0], step.gan.latent_dim),
                        step.batch_axis)
  dropout_key = global_batch.device_key(dropout_key, step.batch_axis)

  def run(method, inputs, state: _GeneratorState):
    # The first call keeps the plain GAN's key (its seeds' trajectories);
    # later ones (an encoder's) draw other noise.
    key = (dropout_key if not state.calls
           else jax.random.fold_in(dropout_key, state.calls))
    out, model_state = models.apply(
        step.generator, g.params, state.model_state, inputs, train=True,
        rngs={'dropout': key, 'sample': jax.random.fold_in(key, 1)},
        labels=step.condition(real.labels) if method is None else None,
        method=method)
    return out, _GeneratorState(model_state, state.calls + 1)

  pair, state = step.gan.family.pair(run, real.images, z,
                                     _GeneratorState(g.model_state, 0))
  return pair, run, state


def _critic_view(step: _Step, state: TrainState, d_params, trick_state, real,
                 fake, labels, info: tricks_lib.StepInfo, g_params):
  """Applies the parameter and input hooks and the critic to real and fake."""
  tricks = step.gan.tricks
  used_params, trick_state = tricks.critic_params(d_params, trick_state)
  real, fake = tricks.critic_inputs(real, fake, trick_state, info)
  d_model_state = state.critic.model_state
  labels = step.condition(labels)
  # Dropout masks of a critic that has dropout (per device, as the
  # generator's), from a fold of the hooks' key no trick uses.
  dropout_key = global_batch.device_key(
      jax.random.fold_in(info.key, CRITIC_DROPOUT_FOLD), step.batch_axis)

  def run(x, index, model_state):
    return models.apply(
        step.critic, used_params, model_state, x, train=True, labels=labels,
        rngs={'dropout': jax.random.fold_in(dropout_key, index)})

  apply = lambda x: run(x, 2, d_model_state)[0]
  real_out, d_model_state = run(real, 0, d_model_state)
  fake_out, d_model_state = run(fake, 1, d_model_state)
  view = tricks_lib.CriticView(apply, real, fake, real_out, fake_out,
                               tricks_lib.Params(g_params, d_params))
  return view, trick_state, d_model_state


def _apply_update(player: Player, grads,
                  optimizer: optax.GradientTransformation,
                  batch_axis: str | None):
  """One optimiser update of ``player`` from its per-device ``grads``
  (averaged over ``batch_axis``): new parameters, optimiser state, and the
  update itself."""
  grads = global_batch.average(grads, batch_axis)
  updates, opt_state = optimizer.update(grads, player.opt_state,
                                        player.params)
  return optax.apply_updates(player.params, updates), opt_state, updates


def _critic_update(step: _Step, state: TrainState, real: data.Batch,
                   index: int) -> tuple[TrainState, Metrics]:
  """The ``index``-th critic update of the step, on the real batch ``real``."""
  gan = step.gan
  key = jax.random.fold_in(step_key(state, CRITIC_STREAM), index)
  z_key, trick_key = jax.random.split(key)
  family_key = jax.random.fold_in(key, FAMILY_STREAM)
  info = tricks_lib.StepInfo(state.step, trick_key, step.batch_axis)
  pair, _, g_state = _make_pair(step, state.generator, z_key, real)
  pair, g_model_state = jax.lax.stop_gradient(pair), g_state.model_state

  def loss_fn(d_params):
    view, trick_state, d_model_state = _critic_view(
        step, state, d_params, state.tricks, pair.real, pair.fake,
        real.labels, info, state.generator.params)
    target = gan.tricks.real_target(jnp.ones((), jnp.float32), trick_state,
                                    info)
    terms = {'adversarial': gan.loss.critic(view.real_out.logits,
                                            view.fake_out.logits, target),
             **gan.family.critic_terms(view, family_key)}
    terms = gan.tricks.critic_loss(terms, view, trick_state, info)
    return sum_terms(terms), (terms, trick_state, d_model_state,
                              view.real_out.logits, view.fake_out.logits)

  grads, (terms, trick_state, d_model_state, real_logits, fake_logits) = (
      jax.grad(loss_fn, has_aux=True)(state.critic.params))
  d_params, opt_state, updates = _apply_update(
      state.critic, grads, gan.d_optimizer, step.batch_axis)
  d_params, trick_state = gan.tricks.after_critic_update(d_params,
                                                         trick_state, info)
  state = state.replace(
      critic=Player(d_params, d_model_state, opt_state),
      generator=state.generator.replace(model_state=g_model_state),
      tricks=trick_state)
  return state, {'critic_loss': sum_terms(terms), **prefixed('critic', terms),
                 'critic_real': jnp.mean(real_logits),
                 'critic_fake': jnp.mean(fake_logits),
                 'critic_param_norm': optax.tree.norm(d_params),
                 'critic_update_norm': optax.tree.norm(updates)}


def _generator_update(step: _Step, state: TrainState, real: data.Batch
                      ) -> tuple[TrainState, Metrics]:
  """The step's generator update; ``real`` is the last critic update's
  batch (feature matching compares against it)."""
  gan = step.gan
  z_key, trick_key = jax.random.split(step_key(state, GENERATOR_STREAM))
  info = tricks_lib.StepInfo(state.step, trick_key, step.batch_axis)

  def loss_fn(g_params):
    pair, run_generator, g_state = _make_pair(
        step, state.generator.replace(params=g_params), z_key, real)
    # The critic's updated state (power iterations, batch statistics) is
    # dropped here: it advances in critic updates only.
    view, _, _ = _critic_view(step, state, state.critic.params, state.tricks,
                              pair.real, pair.fake, real.labels, info,
                              g_params)
    adversarial, g_state = gan.family.generator_adversarial(
        gan.loss, view, run_generator, pair, g_state)
    terms = gan.tricks.generator_loss({'adversarial': adversarial,
                                       **pair.terms}, view, state.tricks, info)
    return sum_terms(terms), (terms, g_state.model_state)

  grads, (terms, g_model_state) = jax.grad(loss_fn, has_aux=True)(
      state.generator.params)
  g_params, opt_state, updates = _apply_update(
      state.generator, grads, gan.g_optimizer, step.batch_axis)
  g_params, trick_state = gan.tricks.after_generator_update(
      g_params, state.tricks, info)
  state = state.replace(generator=Player(g_params, g_model_state, opt_state),
                        tricks=trick_state)
  return state, {'generator_loss': sum_terms(terms),
                 **prefixed('generator', terms),
                 'generator_param_norm': optax.tree.norm(g_params),
                 'generator_update_norm': optax.tree.norm(updates)}


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
  step = _Step(gan, models.with_batch_axis(gan.generator, batch_axis),
               models.with_batch_axis(gan.critic, batch_axis), batch_axis)

  def train_step(state: TrainState, batch: data.Batch):
    # A Python loop, not lax.scan: n_critic is small, and XLA:CPU runs
    # convolutions inside a while loop far more slowly than outside one
    # (docs/performance.md, "What the CPU tuning does").
    critic_metrics = []
    for index in range(gan.n_critic):
      state, metrics = _critic_update(
          step, state, jax.tree.map(lambda x, i=index: x[i], batch), index)
      critic_metrics.append(metrics)
    critic_metrics = jax.tree.map(lambda *m: jnp.stack(m), *critic_metrics)
    state, generator_metrics = _generator_update(
        step, state, jax.tree.map(lambda x: x[-1], batch))
    state = state.replace(step=state.step + 1)
    critic_metrics = jax.tree.map(jnp.mean, critic_metrics)
    return state, global_batch.average({**critic_metrics,
                                        **generator_metrics}, batch_axis)

  return train_step


def sample_real_batch(gan: Gan, state: TrainState,
                      batch_axis: str | None = None) -> data.Batch:
  """The step's ``[n_critic, batch_size, ...]`` real batch, drawn on device
  (this device's rows of it in a step sharded over ``batch_axis``)."""
  flat = gan.dataset.sample_batch(step_key(state, DATA_STREAM),
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
