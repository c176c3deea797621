"""Generators and critics (Flax linen), one family per file, chosen by name.

A generator maps ``(z, train)`` to samples; a critic maps ``(x, train)`` to a
:class:`CriticOutput` (logits and last hidden features). ``config.model``
names them (``generator``, ``critic``) and passes ``generator_args`` /
``critic_args`` to their constructors. Families with a ``num_classes`` field
also have a class-conditional form (``config.model.conditional``): both
players then take the labels, ``(z, labels, train)`` and ``(x, labels,
train)``.
"""

import dataclasses
from typing import Any, Mapping, Sequence

import flax
import flax.linen as nn
import jax

from gan_jax.models.autoencoder import Autoencoder
from gan_jax.models.common import CriticOutput
from gan_jax.models.dcgan import DCGANCritic, DCGANGenerator
from gan_jax.models.joint import JointCritic
from gan_jax.models.mlp import MLPCritic, MLPGenerator
from gan_jax.models.semi_supervised import SemiSupervisedCritic
from gan_jax.models.sequence import (SequenceCritic, SequenceGenerator,
                                     SequenceRNNGenerator)
from gan_jax.models.sngan import (SNGANCNNCritic, SNGANCNNGenerator,
                                  SNGANResNetCritic, SNGANResNetGenerator)

GENERATORS: dict[str, type[nn.Module]] = {
    'mlp': MLPGenerator,
    'dcgan': DCGANGenerator,
    'sngan_cnn': SNGANCNNGenerator,
    'sngan_resnet': SNGANResNetGenerator,
    'autoencoder': Autoencoder,
    'sequence': SequenceGenerator,
    'sequence_rnn': SequenceRNNGenerator,
}
CRITICS: dict[str, type[nn.Module]] = {
    'mlp': MLPCritic,
    'dcgan': DCGANCritic,
    'sngan_cnn': SNGANCNNCritic,
    'sngan_resnet': SNGANResNetCritic,
    'joint': JointCritic,
    'semi_supervised': SemiSupervisedCritic,
    'sequence': SequenceCritic,
}

# Constructor fields the library fills in itself, not the user.
_DERIVED_FIELDS = ('output_shape', 'sample_shape', 'latent_dim',
                   'num_classes', 'batch_axis', 'parent', 'name')


def _has_field(cls: type[nn.Module], name: str) -> bool:
  return any(f.name == name for f in dataclasses.fields(cls))


def _is_conditional(cls: type[nn.Module]) -> bool:
  return _has_field(cls, 'num_classes')


def conditional_names(kind: str) -> list[str]:
  """The ``kind`` ('generator' or 'critic') families with a conditional form."""
  registry = {'generator': GENERATORS, 'critic': CRITICS}[kind]
  return sorted(name for name, cls in registry.items() if _is_conditional(cls))


def _user_fields(cls: type[nn.Module]) -> list[str]:
  return [f.name for f in dataclasses.fields(cls)
          if f.init and f.name not in _DERIVED_FIELDS]


def default_args(kind: str, name: str) -> dict[str, Any]:
  """The user-settable constructor arguments of a model, with defaults."""
  registry = {'generator': GENERATORS, 'critic': CRITICS}[kind]
  return {f.name: dict(f.default) if isinstance(f.default, Mapping)
          else f.default for f in dataclasses.fields(registry[name])
          if f.init and f.name not in _DERIVED_FIELDS}


def _build(kind: str, registry: Mapping[str, type[nn.Module]], name: str,
           args: Mapping[str, Any], num_classes: int,
           **derived) -> nn.Module:
  if name not in registry:
    raise ValueError(f'unknown {kind} {name!r}; allowed: '
                     f'{", ".join(sorted(registry))}')
  cls = registry[name]
  allowed = _user_fields(cls)
  for key in args:
    if key not in allowed:
      raise ValueError(f'unknown argument {key!r} for {kind} {name!r}; '
                       f'allowed: {", ".join(allowed)}')
  if num_classes:
    if not _is_conditional(cls):
      raise ValueError(f'{kind} {name!r} has no class-conditional form; '
                       f'allowed: {", ".join(conditional_names(kind))}')
    derived['num_classes'] = num_classes
  # Shapes only the models that need them get (an encoder's code size, a
  # joint critic's split of its input).
  derived = {k: v for k, v in derived.items()
             if k == 'num_classes' or _has_field(cls, k)}
  # Nested argument dicts (a wrapped model's own arguments) become hashable
  # FrozenDicts, as module attributes must be.
  args = {k: flax.core.FrozenDict(dict(v)) if isinstance(v, Mapping) else v
          for k, v in dict(args).items()}
  return cls(**args, **derived)


def build_generator(name: str, args: Mapping[str, Any],
                    output_shape: Sequence[int],
                    num_classes: int = 0, latent_dim: int = 0,
                    batch_axis: str | None = None) -> nn.Module:
  """The generator ``name`` producing samples of ``output_shape``.

  ``num_classes > 0`` makes it class-conditional (ValueError for a family
  without a conditional form). ``latent_dim`` is given to generators that
  also encode (``autoencoder``); ``batch_axis`` as :func:`with_batch_axis`
  (for a model built inside another one).
  """
  return _build('generator', GENERATORS, name, args, num_classes,
                output_shape=tuple(output_shape), latent_dim=latent_dim,
                batch_axis=batch_axis)


def build_critic(name: str, args: Mapping[str, Any],
                 num_classes: int = 0, sample_shape: Sequence[int] = (),
                 latent_dim: int = 0,
                 batch_axis: str | None = None) -> nn.Module:
  """The critic ``name``; class-conditional when ``num_classes > 0``.

  ``sample_shape`` and ``latent_dim`` are given to critics of pairs
  (``joint``, which splits its flat input into an image and a code);
  ``batch_axis`` as :func:`with_batch_axis`.
  """
  return _build('critic', CRITICS, name, args, num_classes,
                sample_shape=tuple(sample_shape), latent_dim=latent_dim,
                batch_axis=batch_axis)


# Critic arguments that can make every output depend on the whole batch: the
# argument, whether its value does, and a value that does not. Batch
# statistics (Ioffe & Szegedy 2015), the minibatch standard deviation (Karras
# et al. 2018) and minibatch discrimination (Salimans et al. 2016).
_BATCH_COUPLING_ARGS = (('normalization', lambda v: v == 'batch', 'layer'),
                        ('minibatch_stddev', bool, False),
                        ('minibatch_discrimination', bool, 0))


def batch_coupling(critic: nn.Module) -> tuple[str, Any, Any] | None:
  """What makes one example's output of ``critic`` depend on the other
  examples of its batch: ``(key, value, alternative)``, ``key`` the dotted
  path of the argument under ``model.critic_args`` (through the ``trunk``
  of wrapper critics such as ``joint``), ``value`` its setting and
  ``alternative`` one without the coupling; None when each output depends
  on its own example only (what per-example input-gradient penalties need).
  """
  for field, couples, alternative in _BATCH_COUPLING_ARGS:
    value = getattr(critic, field, alternative)
    if couples(value):
      return field, value, alternative
  if isinstance(getattr(critic, 'trunk', None), str):
    found = batch_coupling(build_critic(critic.trunk, critic.trunk_args))
    if found:
      return f'trunk_args.{found[0]}', *found[1:]
  return None


def with_batch_axis(module: nn.Module, batch_axis: str | None) -> nn.Module:
  """``module`` computing its batch statistics over the global batch of a
  step sharded over the mesh axis ``batch_axis`` (as is for families
  without batch statistics, and for ``batch_axis=None``)."""
  has_field = any(f.name == 'batch_axis' for f in dataclasses.fields(module))
  return module.clone(batch_axis=batch_axis) if has_field else module


def split_variables(variables) -> tuple[Any, Any]:
  """``init``'s variables -> (``params``, the other collections)."""
  variables = dict(variables)
  return variables.pop('params'), variables


def apply(module: nn.Module, params, model_state, x, train: bool,
          rngs: Mapping[str, Any] | None = None,
          labels: jax.Array | None = None, method: str | None = None):
  """Runs ``module`` on ``x``; returns its output and updated model state.

  ``model_state`` holds the non-parameter collections (batch statistics,
  constants); in training they are mutable and come back updated. ``labels``
  are passed to conditional models only (``None`` for unconditional ones).
  ``method`` names another method than ``__call__`` (e.g. ``encode``).
  """
  variables = {'params': params, **model_state}
  inputs = (x,) if labels is None else (x, labels)
  if train and model_state:
    return module.apply(variables, *inputs, train=True, rngs=rngs,
                        mutable=list(model_state), method=method)
  return (module.apply(variables, *inputs, train=train, rngs=rngs,
                       method=method), model_state)


__all__ = ['Autoencoder', 'CRITICS', 'CriticOutput', 'JointCritic',
           'SemiSupervisedCritic', 'SequenceCritic', 'SequenceGenerator',
           'SequenceRNNGenerator', 'DCGANCritic', 'DCGANGenerator',
           'GENERATORS', 'MLPCritic', 'MLPGenerator', 'SNGANCNNCritic',
           'SNGANCNNGenerator', 'SNGANResNetCritic', 'SNGANResNetGenerator',
           'apply', 'batch_coupling', 'build_critic', 'build_generator',
           'conditional_names',
           'default_args', 'split_variables', 'with_batch_axis']
