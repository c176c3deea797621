"""Families of adversarial models, chosen by ``config.family``.

* ``gan``: a generator against a critic of samples (every GAN of
  ``gan_jax.models``: MLP, DCGAN, SN-GAN …; the default).
* ``bigan``: ALI / BiGAN, an encoder and a generator against a critic of
  (image, code) pairs (:mod:`gan_jax.families.bigan`).
* ``aae``: the adversarial autoencoder (:mod:`gan_jax.families.aae`).
* ``ssgan``: the semi-supervised GAN with a K+1-class critic
  (:mod:`gan_jax.families.ssgan`).
* ``seqgan``: SeqGAN's policy gradient with Monte Carlo rollouts for
  discrete sequences (:mod:`gan_jax.families.seqgan`). (The Gumbel-softmax
  sequence GAN is the plain ``gan`` family with a ``sequence`` generator.)

``config.family_args.<name>.<arg>`` holds each family's arguments (the base
config carries their defaults). The train step sees only the
:class:`Family` (:mod:`gan_jax.families.base` documents the protocol), and
tricks, losses, sharding, checkpoints and sweeps apply to every family.
"""

import inspect
from typing import Any, Callable, Mapping

from gan_jax import factories
from gan_jax.families.aae import aae
from gan_jax.families.base import GAN, EvalModels, Family, Pair
from gan_jax.families.bigan import bigan
from gan_jax.families.seqgan import seqgan
from gan_jax.families.ssgan import Context, ssgan


def gan() -> Family:
  """The plain GAN: ``real = x``, ``fake = G(z)``."""
  return GAN


FAMILIES: dict[str, Callable[..., Family]] = {
    'gan': gan,
    'bigan': bigan,
    'aae': aae,
    'ssgan': ssgan,
    'seqgan': seqgan,
}

# The generator and critic a family is trained with, when it needs
# particular ones: (generators, critics) allowed.
REQUIRED_MODELS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    'bigan': (('autoencoder',), ('joint',)),
    'aae': (('autoencoder',), ()),
    'ssgan': ((), ('semi_supervised',)),
    'seqgan': (('sequence_rnn',), ()),
}
# The data each family trains on ('images', 'sequences' or 'points'); the
# plain GAN trains on any.
DATA_KINDS: dict[str, tuple[str, ...]] = {
    'bigan': ('images',),
    'aae': ('images',),
    'ssgan': ('images',),
    'seqgan': ('sequences',),
}
_FILLED_IN = ('context',)  # Factory parameters the library supplies.


def default_args(name: str) -> dict[str, Any]:
  """The user-settable arguments of family ``name`` with their defaults."""
  return factories.default_args(FAMILIES[name], _FILLED_IN)


def check_models(name: str, generator: str, critic: str, data_kind: str,
                 conditional: bool) -> None:
  """ValueError unless family ``name`` can train ``generator`` against
  ``critic`` on this data (``data_kind`` as in :data:`DATA_KINDS`,
  class-conditional or not)."""
  if name not in FAMILIES:
    raise ValueError(f'unknown family {name!r}; allowed: '
                     f'{", ".join(sorted(FAMILIES))}')
  kinds = DATA_KINDS.get(name)
  if kinds and data_kind not in kinds:
    raise ValueError(f'family {name!r} trains on {" or ".join(kinds)} only, '
                     f'not {data_kind}')
  if name != 'gan' and conditional:
    raise ValueError(f'family {name!r} has no class-conditional form; set '
                     'config.model.conditional=False')
  generators, critics = REQUIRED_MODELS.get(name, ((), ()))
  for kind, chosen, allowed in (('generator', generator, generators),
                                ('critic', critic, critics)):
    if allowed and chosen not in allowed:
      raise ValueError(f'family {name!r} needs config.model.{kind} in '
                       f'{", ".join(allowed)}; got {chosen!r}')


# SeqGAN's reward is D(Y) = σ(logit), a probability only the cross-entropy
# losses train the critic to output; its fakes are sampled tokens, through
# which no gradient reaches the generator, so feature matching's is zero.
REQUIRED_LOSSES: dict[str, tuple[str, ...]] = {
    'seqgan': ('minimax', 'non_saturating'),
}
REFUSED_TRICKS: dict[str, tuple[str, ...]] = {
    'seqgan': ('feature_matching',),
}


def check_objective(name: str, loss: str, tricks: list[str]) -> None:
  """ValueError unless family ``name`` can train with ``loss`` and the
  tricks named in ``tricks``."""
  allowed = REQUIRED_LOSSES.get(name)
  if allowed and loss not in allowed:
    raise ValueError(f'family {name!r} needs config.loss in '
                     f'{", ".join(allowed)}; got {loss!r}')
  for trick in tricks:
    if trick in REFUSED_TRICKS.get(name, ()):
      raise ValueError(f'family {name!r} cannot train with trick {trick!r}')


def from_config(name: str, family_args: Mapping[str, Mapping[str, Any]],
                context: Context) -> Family:
  """The family ``name`` with its arguments from ``family_args``.

  Raises:
    ValueError: one line naming an unknown family or argument, or a value
      the family rejects.
  """
  if name not in FAMILIES:
    raise ValueError(f'unknown family {name!r}; allowed: '
                     f'{", ".join(sorted(FAMILIES))}')
  factory = FAMILIES[name]
  filled_in = ({'context': context} if 'context' in
               inspect.signature(factory).parameters else {})
  return factories.build('family', name, factory,
                         dict(family_args.get(name, {})), default_args(name),
                         **filled_in)


__all__ = ['Context', 'EvalModels', 'FAMILIES', 'Family', 'Pair',
           'check_models', 'check_objective', 'default_args', 'from_config',
           *FAMILIES]
