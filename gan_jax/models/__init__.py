"""Generators and critics (Flax linen), one family per file, chosen by name.

A generator maps ``(z, train)`` to samples; a critic maps ``(x, train)`` to a
:class:`CriticOutput` (logits and last hidden features). ``config.model``
names them (``generator``, ``critic``) and passes ``generator_args`` /
``critic_args`` to their constructors.
"""

import dataclasses
from typing import Any, Mapping, Sequence

import flax.linen as nn

from gan_jax.models.common import CriticOutput
from gan_jax.models.dcgan import DCGANCritic, DCGANGenerator
from gan_jax.models.mlp import MLPCritic, MLPGenerator

GENERATORS: dict[str, type[nn.Module]] = {'mlp': MLPGenerator,
                                          'dcgan': DCGANGenerator}
CRITICS: dict[str, type[nn.Module]] = {'mlp': MLPCritic, 'dcgan': DCGANCritic}

# Constructor fields the library fills in itself, not the user.
_DERIVED_FIELDS = ('output_shape', 'parent', 'name')


def _user_fields(cls: type[nn.Module]) -> list[str]:
  return [f.name for f in dataclasses.fields(cls)
          if f.init and f.name not in _DERIVED_FIELDS]


def default_args(kind: str, name: str) -> dict[str, Any]:
  """The user-settable constructor arguments of a model, with defaults."""
  registry = {'generator': GENERATORS, 'critic': CRITICS}[kind]
  return {f.name: f.default for f in dataclasses.fields(registry[name])
          if f.init and f.name not in _DERIVED_FIELDS}


def _build(kind: str, registry: Mapping[str, type[nn.Module]], name: str,
           args: Mapping[str, Any], **derived) -> nn.Module:
  if name not in registry:
    raise ValueError(f'unknown {kind} {name!r}; allowed: '
                     f'{", ".join(sorted(registry))}')
  cls = registry[name]
  allowed = _user_fields(cls)
  for key in args:
    if key not in allowed:
      raise ValueError(f'unknown argument {key!r} for {kind} {name!r}; '
                       f'allowed: {", ".join(allowed)}')
  return cls(**dict(args), **derived)


def build_generator(name: str, args: Mapping[str, Any],
                    output_shape: Sequence[int]) -> nn.Module:
  """The generator ``name`` producing samples of ``output_shape``."""
  return _build('generator', GENERATORS, name, args,
                output_shape=tuple(output_shape))


def apply(module: nn.Module, params, model_state, x, train: bool,
          rngs: Mapping[str, Any] | None = None):
  """Runs ``module`` on ``x``; returns its output and updated model state.

  ``model_state`` holds the non-parameter collections (batch statistics,
  constants); in training they are mutable and come back updated.
  """
  variables = {'params': params, **model_state}
  if train and model_state:
    return module.apply(variables, x, train=True, rngs=rngs,
                        mutable=list(model_state))
  return module.apply(variables, x, train=train, rngs=rngs), model_state


def build_critic(name: str, args: Mapping[str, Any]) -> nn.Module:
  """The critic ``name``."""
  return _build('critic', CRITICS, name, args)


__all__ = ['CriticOutput', 'DCGANCritic', 'DCGANGenerator', 'MLPCritic', 'MLPGenerator', 'apply', 'build_critic',
           'default_args',
           'build_generator', 'GENERATORS', 'CRITICS']
