"""The trick protocol: where a stability trick may act inside the train step.

A trick is a :class:`Trick`, a NamedTuple of pure functions (like optax's
``GradientTransformation``), made by a factory and carrying its own state.
The train step calls every hook at a fixed point and never asks which tricks
exist, so adding a trick is one file and one test. A trick fills in only the
hooks it needs (:func:`make`); the others are identities.

The hooks, in the order the train step calls them in one critic update:

1. ``critic_params(critic_params, state) -> (critic_params, state)`` — the
   parameters the critic forward pass uses (a differentiable
   reparameterisation, e.g. spectral normalisation). Called once per critic
   update and once per generator update; only the critic update keeps the
   returned state, so any internal iteration (e.g. power iteration) advances
   exactly once per critic update however many times the critic is applied.
2. ``critic_inputs(real, fake, state, info) -> (real, fake)`` — what the
   critic sees (instance noise, augmentation); in both players' updates.
3. ``real_target(target, state, info) -> target`` — the label asked of the
   critic on real data (label smoothing); starts at 1.
4. ``critic_loss(terms, view, state, info) -> terms`` — the dict of critic
   loss terms, starting as ``{'adversarial': ...}``; add penalties, or
   reweight. The critic minimises the sum.
5. ``after_critic_update(critic_params, state, info) -> (critic_params, state)``
   — after the optimiser step (weight clipping, running averages).

and in the generator update: ``critic_params`` (state discarded),
``critic_inputs``, then

6. ``generator_loss(terms, view, state, info) -> terms`` — the generator's
   loss terms, starting as ``{'adversarial': ...}`` (feature matching adds or
   replaces).
7. ``after_generator_update(generator_params, state, info) ->
   (generator_params, state)`` — after the generator's optimiser step (EMA).

and at evaluation time:

8. ``generator_for_eval(generator_params, state) -> generator_params`` — the
   parameters samples and metrics use (the EMA copy under generator EMA).

``init(params, key) -> state`` makes the state from the initial
:class:`Params`. Every hook that gets ``info`` receives a :class:`StepInfo`
with the step number and a PRNG key of its own.
"""

from typing import Any, Callable, NamedTuple

import jax

from gan_jax.models.common import CriticOutput

Array = jax.Array
PyTree = Any


class Params(NamedTuple):
  """Both players' parameters."""
  generator: PyTree
  critic: PyTree


class StepInfo(NamedTuple):
  """Where in training a hook is called.

  Attributes:
    step: the number of generator updates done before this one (int32).
    key: a PRNG key for this trick at this point; distinct per trick, per
      critic iteration and per player. The same on every device of a
      sharded step: draw per-example randomness with
      ``global_batch.draw(..., batch_axis)``.
    batch_axis: the mesh axis the step's batch is split over, or None; batch
      statistics go through :mod:`gan_jax.global_batch` with it.
  """
  step: Array
  key: Array
  batch_axis: str | None = None


class CriticView(NamedTuple):
  """What loss hooks see of one critic evaluation.

  Attributes:
    apply: ``x -> CriticOutput`` with the parameters in use (after the
      ``critic_params`` hooks); differentiable, for penalties on its gradient.
    real: real critic inputs (after ``critic_inputs``).
    fake: generated critic inputs (after ``critic_inputs``); in the generator
      update gradients flow through them to the generator.
    real_out: ``apply(real)``.
    fake_out: ``apply(fake)``.
    params: both players' raw parameters at this point.
  """
  apply: Callable[[Array], CriticOutput]
  real: Array
  fake: Array
  real_out: CriticOutput
  fake_out: CriticOutput
  params: Params


class Trick(NamedTuple):
  """A stability trick: one pure function per hook (see the module
  docstring)."""
  init: Callable[[Params, Array], PyTree]
  critic_params: Callable[[PyTree, PyTree], tuple[PyTree, PyTree]]
  critic_inputs: Callable[[Array, Array, PyTree, StepInfo], tuple[Array, Array]]
  real_target: Callable[[Array, PyTree, StepInfo], Array]
  critic_loss: Callable[[dict, CriticView, PyTree, StepInfo], dict]
  after_critic_update: Callable[[PyTree, PyTree, StepInfo],
                                tuple[PyTree, PyTree]]
  generator_loss: Callable[[dict, CriticView, PyTree, StepInfo], dict]
  after_generator_update: Callable[[PyTree, PyTree, StepInfo],
                                   tuple[PyTree, PyTree]]
  generator_for_eval: Callable[[PyTree, PyTree], PyTree]


def _no_state(params, key):
  del params, key
  return ()


def _pass_params(params, state, info=None):
  del info
  return params, state


def _pass_inputs(real, fake, state, info):
  del state, info
  return real, fake


def _pass_value(value, *unused):
  del unused
  return value


def make(**hooks: Callable) -> Trick:
  """A :class:`Trick` with the given hooks and identities for the others."""
  defaults = dict(
      init=_no_state,
      critic_params=_pass_params,
      critic_inputs=_pass_inputs,
      real_target=_pass_value,
      critic_loss=_pass_value,
      after_critic_update=_pass_params,
      generator_loss=_pass_value,
      after_generator_update=_pass_params,
      generator_for_eval=_pass_value,
  )
  unknown = set(hooks) - set(defaults)
  if unknown:
    raise TypeError(f'unknown trick hooks {sorted(unknown)}; '
                    f'allowed: {", ".join(Trick._fields)}')
  return Trick(**{**defaults, **hooks})


def changes_eval_params(trick: Trick) -> bool:
  """Whether ``trick`` evaluates the generator with other parameters (EMA)."""
  return trick.generator_for_eval is not _pass_value


def _with_own_key(info: StepInfo, index: int) -> StepInfo:
  return info._replace(key=jax.random.fold_in(info.key, index))


def chain(*tricks: Trick) -> Trick:
  """Composes tricks; each hook applies them in the given order.

  The state of the chain is the tuple of the tricks' states. Each trick gets
  a key of its own: the hook's key folded with the trick's position.
  """

  def init(params, key):
    return tuple(t.init(params, jax.random.fold_in(key, i))
                 for i, t in enumerate(tricks))

  def thread_params(hook_name):
    def hook(params, states, info=None):
      new_states = []
      for i, (t, s) in enumerate(zip(tricks, states)):
        args = () if info is None else (_with_own_key(info, i),)
        params, s = getattr(t, hook_name)(params, s, *args)
        new_states.append(s)
      return params, tuple(new_states)
    return hook

  def fold_value(hook_name):
    def hook(value, *args):
      *middle, states, info = args
      for i, (t, s) in enumerate(zip(tricks, states)):
        value = getattr(t, hook_name)(value, *middle, s,
                                      _with_own_key(info, i))
      return value
    return hook

  def critic_inputs(real, fake, states, info):
    for i, (t, s) in enumerate(zip(tricks, states)):
      real, fake = t.critic_inputs(real, fake, s, _with_own_key(info, i))
    return real, fake

  def generator_for_eval(params, states):
    for t, s in zip(tricks, states):
      params = t.generator_for_eval(params, s)
    return params

  if not any(changes_eval_params(t) for t in tricks):
    generator_for_eval = _pass_value  # Lets changes_eval_params see through.

  def critic_params(params, states):
    return thread_params('critic_params')(params, states)

  return Trick(
      init=init,
      critic_params=critic_params,
      critic_inputs=critic_inputs,
      real_target=fold_value('real_target'),
      critic_loss=fold_value('critic_loss'),
      after_critic_update=thread_params('after_critic_update'),
      generator_loss=fold_value('generator_loss'),
      after_generator_update=thread_params('after_generator_update'),
      generator_for_eval=generator_for_eval,
  )
