"""Stability tricks as composable transforms (``base`` documents the hooks).

``config.tricks`` names the tricks in chain order (comma-separated, empty for
none) and ``config.trick_args.<name>.<arg>`` holds each one's arguments; the
base config carries every trick's defaults, read off the factories'
signatures, so any argument can be overridden from the command line. The
train step only ever sees the chained :class:`Trick`.

To add a trick: write its factory in a new file of this package (see
``weight_clipping.py`` for the smallest example), register it in ``TRICKS``
below, and test it; the train step does not change.
"""

from typing import Any, Callable, Mapping

from gan_jax import factories
from gan_jax.losses import GanLoss
from gan_jax.tricks.base import (CriticView, Params, StepInfo, Trick, chain,
                                 changes_eval_params, make)
from gan_jax.tricks.dragan_penalty import dragan_penalty
from gan_jax.tricks.feature_matching import feature_matching
from gan_jax.tricks.generator_ema import generator_ema
from gan_jax.tricks.gradient_penalty import gradient_penalty
from gan_jax.tricks.historical_averaging import historical_averaging
from gan_jax.tricks.instance_noise import instance_noise
from gan_jax.tricks.one_sided_label_smoothing import one_sided_label_smoothing
from gan_jax.tricks.spectral_norm import spectral_norm
from gan_jax.tricks.weight_clipping import weight_clipping
from gan_jax.tricks.zero_centered_penalties import r1_penalty, r2_penalty

# name -> factory(**trick_args) -> Trick.
TRICKS: dict[str, Callable[..., Trick]] = {
    'spectral_norm': spectral_norm,
    'one_sided_label_smoothing': one_sided_label_smoothing,
    'feature_matching': feature_matching,
    'instance_noise': instance_noise,
    'gradient_penalty': gradient_penalty,
    'r1_penalty': r1_penalty,
    'r2_penalty': r2_penalty,
    'dragan_penalty': dragan_penalty,
    'weight_clipping': weight_clipping,
    'generator_ema': generator_ema,
    'historical_averaging': historical_averaging,
}

# Tricks that change the critic's target, meaningless for target-free losses.
NEEDS_REAL_TARGET = frozenset({'one_sided_label_smoothing'})

# Tricks that penalise each sample's input gradient ∇ₓD(x). When a critic's
# output for one example depends on the others (batch norm in train mode,
# minibatch features) the rows of ∇ₓΣD are not per-sample gradients and the
# penalty is not the paper's; Gulrajani et al. 2017 (§4) train the critic
# without batch norm and suggest layer norm.
PENALISES_INPUT_GRADIENTS = frozenset(
    {'gradient_penalty', 'r1_penalty', 'r2_penalty', 'dragan_penalty'})


def check_per_sample_critic(names: str,
                            batch_coupling: tuple[str, Any, Any] | None
                           ) -> None:
  """ValueError if a trick of ``names`` needs per-sample critic gradients
  and the critic couples the examples of a batch (``batch_coupling``, as
  :func:`gan_jax.models.batch_coupling` returns it)."""
  if batch_coupling is None:
    return
  key, value, alternative = batch_coupling
  for name in parse_names(names):
    if name in PENALISES_INPUT_GRADIENTS:
      raise ValueError(
          f'trick {name!r} penalises per-sample critic gradients, which a '
          f'critic with model.critic_args.{key}={value!r} does not have '
          '(each output depends on the whole batch); set it to '
          f'{alternative!r}')


def default_args(name: str) -> dict[str, Any]:
  """The keyword arguments of trick ``name`` with their defaults."""
  return factories.default_args(TRICKS[name])


def parse_names(names: str) -> list[str]:
  """``'a, b,'`` -> ``['a', 'b']``; ValueError naming an unknown trick."""
  parsed = [n.strip() for n in names.split(',') if n.strip()]
  for name in parsed:
    if name not in TRICKS:
      raise ValueError(f'unknown trick {name!r}; allowed: '
                       f'{", ".join(sorted(TRICKS))}')
  if len(set(parsed)) != len(parsed):
    raise ValueError(f'tricks {names!r} name a trick twice')
  return parsed


def from_config(names: str, trick_args: Mapping[str, Mapping[str, Any]],
                loss_name: str, loss: GanLoss) -> Trick:
  """Chains the tricks ``names`` with their arguments from ``trick_args``.

  Raises:
    ValueError: one line naming an unknown trick or argument, an argument
      value the trick rejects, or a trick that does not fit the loss.
  """
  tricks = []
  for name in parse_names(names):
    if name in NEEDS_REAL_TARGET and not loss.uses_real_target:
      raise ValueError(f'trick {name!r} changes the real target, which loss '
                       f'{loss_name!r} does not have; use it with minimax, '
                       'non_saturating or least_squares')
    tricks.append(factories.build('trick', name, TRICKS[name],
                                  dict(trick_args.get(name, {})),
                                  default_args(name)))
  return chain(*tricks)


__all__ = ['CriticView', 'NEEDS_REAL_TARGET', 'PENALISES_INPUT_GRADIENTS',
           'Params', 'StepInfo', 'TRICKS', 'Trick', 'chain',
           'changes_eval_params', 'check_per_sample_critic', 'default_args',
           'from_config', 'make', 'parse_names', *TRICKS]
