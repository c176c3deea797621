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

import flax.linen as nn
import jax

from gan_jax.models.common import CriticOutput
from gan_jax.models.dcgan import DCGANCritic, DCGANGenerator
from gan_jax.models.mlp import MLPCritic, MLPGenerator
from gan_jax.models.sngan import (SNGANCNNCritic, SNGANCNNGenerator,
                                  SNGANResNetCritic, SNGANResNetGenerator)

GENERATORS: dict[str, type[nn.Module]] = {
    'mlp': MLPGenerator,
    'dcgan': DCGANGenerator,
    'sngan_cnn': SNGANCNNGenerator,
    'sngan_resnet': SNGANResNetGenerator,
}
CRITICS: dict[str, type[nn.Module]] = {
    'mlp': MLPCritic,
    'dcgan': DCGANCritic,
    'sngan_cnn': SNGANCNNCritic,
    'sngan_resnet': SNGANResNetCritic,
}

# Constructor fields the library fills in itself, not the user.
_DERIVED_FIELDS = ('output_shape', 'num_classes', 'batch_axis', 'parent',
                   'name')


def _is_conditional(cls: type[nn.Module]) -> bool:
  return any(f.name == 'num_classes' for f in dataclasses.fields(cls))


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
  return {f.name: f.default for f in dataclasses.fields(registry[name])
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
  return cls(**dict(args), **derived)


def build_generator(name: str, args: Mapping[str, Any],
                    output_shape: Sequence[int],
                    num_classes: int = 0) -> nn.Module:
  """The generator ``name`` producing samples of ``output_shape``.

  ``num_classes > 0`` makes it class-conditional (ValueError for a family
  without a conditional form).
  """
  return _build('generator', GENERATORS, name, args, num_classes,
                output_shape=tuple(output_shape))


def build_critic(name: str, args: Mapping[str, Any],
                 num_classes: int = 0) -> nn.Module:
  """The critic ``name``; class-conditional when ``num_classes > 0``."""
  return _build('critic', CRITICS, name, args, num_classes)


def with_batch_axis(module: nn.Module, batch_axis: str | None) -> nn.Module:
  """``module`` computing its batch statistics over the global batch of a
  step sharded over the mesh axis ``batch_axis`` (as is for families
  without batch statistics, and for ``batch_axis=None``)."""
  has_field = any(f.name == 'batch_axis' for f in dataclasses.fields(module))
  return module.clone(batch_axis=batch_axis) if has_field else module


def apply(module: nn.Module, params, model_state, x, train: bool,
          rngs: Mapping[str, Any] | None = None,
          labels: jax.Array | None = None):
  """Runs ``module`` on ``x``; returns its output and updated model state.

  ``model_state`` holds the non-parameter collections (batch statistics,
  constants); in training they are mutable and come back updated. ``labels``
  are passed to conditional models only (``None`` for unconditional ones).
  """
  variables = {'params': params, **model_state}
  inputs = (x,) if labels is None else (x, labels)
  if train and model_state:
    return module.apply(variables, *inputs, train=True, rngs=rngs,
                        mutable=list(model_state))
  return module.apply(variables, *inputs, train=train, rngs=rngs), model_state


__all__ = ['CRITICS', 'CriticOutput', 'DCGANCritic', 'DCGANGenerator',
           'GENERATORS', 'MLPCritic', 'MLPGenerator', 'SNGANCNNCritic',
           'SNGANCNNGenerator', 'SNGANResNetCritic', 'SNGANResNetGenerator',
           'apply', 'build_critic', 'build_generator', 'conditional_names',
           'default_args', 'with_batch_axis']
