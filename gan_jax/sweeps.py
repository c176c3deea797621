"""Ablation sweeps: a base config, named variants of it, several seeds each.

A sweep file (``configs/sweeps/NAME.py``) is a config file whose
``get_config()`` is the base experiment and whose ``get_sweep()`` returns a
:class:`Sweep`: the variants (each a name and the config values it
changes) and how many seeds each gets. Variants are written as explicit
lists, cross products of axes (:func:`product`), or both
(concatenate the lists)::

  losses = {'ns': {'loss': 'non_saturating'}, 'hinge': {'loss': 'hinge'}}
  tricks = {'none': {}, 'sn': {'tricks': 'spectral_norm'}}
  Sweep(product(losses, tricks) + [Variant('wgan_gp', {...})], seeds=10)

Run ``k`` of a variant is an ordinary run with ``seed = base seed + k`` in
``<sweep workdir>/<variant>/seed_<seed>/`` (see ``experiments/ablate.py``).
"""

import dataclasses
import re
from typing import Any

import ml_collections
from ml_collections import config_flags

from gan_jax import config as config_lib
from gan_jax import tricks

_NAME = re.compile(r'^[A-Za-z0-9][A-Za-z0-9_.+=-]*$')


@dataclasses.dataclass(frozen=True)
class Variant:
  """A named change of the base config.

  Attributes:
    name: the variant's directory name (letters, digits, ``_ . + = -``).
    overrides: dotted config keys and their values, e.g.
      ``{'loss': 'hinge', 'optim.n_critic': 5}``.
  """
  name: str
  overrides: dict[str, Any] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class Sweep:
  """Variants and seeds of an ablation.

  Attributes:
    variants: the variants, in the order of tables and plots.
    seeds: runs per variant (``--seeds`` overrides it).
    vmap_seeds: train a variant's seeds as one vmapped computation
      (:func:`gan_jax.train.train_and_evaluate_seeds`) instead of one
      after the other (``--vmap_seeds`` overrides it). None: vmapped on
      accelerators, one after the other on CPU, where vmapping is slower
      (ring8, 10 seeds: 0.74× the throughput of one seed at a time on a
      2-core CPU, ``benchmarks/train_speed.py --seeds=1,10``).
    metrics: the final metrics shown in results.md and the plots, in this
      order; empty: every metric of eval.json. results.csv has all.
  """
  variants: list[Variant]
  seeds: int = 10
  vmap_seeds: bool | None = None
  metrics: tuple[str, ...] = ()


def product(*axes: dict[str, dict[str, Any]]) -> list[Variant]:
  """The cross product of axes, each a dict ``{name part: overrides}``.

  A variant's name joins its parts with ``+`` (parts named ``''`` are left
  out), its overrides merge those of its parts (later axes win).
  """
  variants = [Variant('', {})]
  for axis in axes:
    variants = [Variant('+'.join(p for p in (v.name, part) if p),
                        {**v.overrides, **overrides})
                for v in variants for part, overrides in axis.items()]
  return variants


def check(sweep: Sweep) -> None:
  """Raises ConfigError on a sweep that cannot be run (names, seeds)."""
  if not isinstance(sweep, Sweep):
    raise config_lib.ConfigError(
        f'get_sweep() returned {type(sweep).__name__}, not a gan_jax.sweeps.'
        'Sweep')
  if not sweep.variants:
    raise config_lib.ConfigError('the sweep has no variants')
  names = [v.name for v in sweep.variants]
  for name in names:
    if not _NAME.match(name):
      raise config_lib.ConfigError(
          f'variant name {name!r} is not a directory name; allowed: '
          'letters, digits and _ . + = - (not first)')
  for variant in sweep.variants:
    if 'seed' in variant.overrides:
      raise config_lib.ConfigError(
          f'variant {variant.name!r} sets seed; a sweep sets each run\'s '
          'seed (the base seed + k); change the base seed instead')
  duplicates = sorted({n for n in names if names.count(n) > 1})
  if duplicates:
    raise config_lib.ConfigError(
        f'variant names must be unique: {", ".join(duplicates)} repeated')
  if isinstance(sweep.seeds, bool) or not isinstance(
      sweep.seeds, int) or sweep.seeds <= 0:
    raise config_lib.ConfigError(
        f'seeds={sweep.seeds!r} must be a positive integer')


def run_config(base: ml_collections.ConfigDict, variant: Variant,
               seed_index: int,
               command_line: dict[str, Any] | None = None
               ) -> ml_collections.ConfigDict:
  """The config of run ``seed_index`` of ``variant``.

  ``command_line`` (dotted key -> value, the ``--config.KEY=VALUE``
  overrides) is applied after the variant's overrides, so it holds for
  every run.

  Raises:
    ConfigError: an override names a key the config does not have.
  """
  config = ml_collections.ConfigDict(base.to_dict())
  for source, overrides in ((f'variant {variant.name!r}', variant.overrides),
                            ('the command line', command_line or {})):
    for key, value in overrides.items():
      try:
        config_flags.config_path.get_value(key, config)
      except (AttributeError, KeyError, IndexError):
        raise config_lib.ConfigError(
            f'{source} sets unknown config key {key!r}') from None
      try:
        config_flags.config_path.set_value(key, config, value)
      except TypeError as e:
        raise config_lib.ConfigError(
            f'{source} sets {key}={value!r}: {e}') from None
  config.seed = base.seed + seed_index
  return config


# What the 2-D mixture tables report (gan_jax.metrics.mode_coverage).
MIXTURE_METRICS = ('modes', 'high_quality', 'reverse_kl')

# The four tricks of Salimans et al. 2016 / Sønderby et al. 2017 / Miyato et
# al. 2018 as one chain (the README's example of composing tricks).
FOUR_TRICKS = ('spectral_norm,one_sided_label_smoothing,feature_matching,'
               'instance_noise')
_WGAN_N_CRITIC = 5  # Arjovsky et al. 2017; Gulrajani et al. 2017.


# The tricks and losses of the standard ablation, named here rather than
# read off the registries: the shipped sweeps and the tables published from
# them keep their variants when a trick or a loss is added.
ABLATED_TRICKS = ('spectral_norm', 'one_sided_label_smoothing',
                  'feature_matching', 'instance_noise', 'gradient_penalty',
                  'r1_penalty', 'r2_penalty', 'dragan_penalty',
                  'weight_clipping', 'generator_ema', 'historical_averaging')
ABLATED_LOSSES = ('minimax', 'non_saturating', 'wasserstein',
                  'least_squares', 'hinge')


def trick_ablation(base_loss: str,
                   penalty_overrides: dict[str, Any] | None = None
                   ) -> list[Variant]:
  """The standard stability ablation, every change from the base alone.

  ``baseline`` (the base config, whose loss is ``base_loss``); each trick of
  :data:`ABLATED_TRICKS` alone with its default arguments;
  ``four_tricks`` (:data:`FOUR_TRICKS`); each other loss of
  :data:`ABLATED_LOSSES` with no trick; and the two Wasserstein
  critics with their Lipschitz constraints, ``wasserstein+weight_clipping``
  (WGAN) and ``wasserstein+gradient_penalty`` (WGAN-GP), both with 5 critic
  updates per generator update as in their papers (the base optimiser is
  kept: Adam, not WGAN's RMSProp).

  Args:
    base_loss: the base config's loss (not repeated as a loss variant).
    penalty_overrides: config values that the variants with a trick of
      :data:`gan_jax.tricks.PENALISES_INPUT_GRADIENTS` change as well, e.g.
      ``{'model.critic_args.normalization': 'layer'}`` for a batch-norm
      critic, on which those penalties are not defined.
  """
  variants = ([Variant('baseline')]
              + [Variant(name, {'tricks': name}) for name in ABLATED_TRICKS]
              + [Variant('four_tricks', {'tricks': FOUR_TRICKS})]
              + [Variant(name, {'loss': name}) for name in ABLATED_LOSSES
                 if name != base_loss]
              + [Variant(f'wasserstein+{trick}',
                         {'loss': 'wasserstein', 'tricks': trick,
                          'optim.n_critic': _WGAN_N_CRITIC})
                 for trick in ('weight_clipping', 'gradient_penalty')])
  return [_with_penalty_overrides(v, penalty_overrides or {})
          for v in variants]


# WGAN-GP as its authors trained it on the 2-D mixtures (gan_toy.py in the
# code of Gulrajani et al. 2017): λ 0.1 ("smaller lambda seems to help for
# toy tasks"), Adam 1e-4 for both players with b1 0.5 and b2 0.9, 5 critic
# updates. The ablation's `wasserstein+gradient_penalty` changes only the
# loss, the penalty and n_critic; this one is the published WGAN-GP rows'
# setting on our MLPs, batch and number of steps.
WGAN_GP_TOY_SETTINGS = Variant('wgan_gp_toy_settings', {
    'loss': 'wasserstein', 'tricks': 'gradient_penalty',
    'trick_args.gradient_penalty.weight': 0.1,
    'optim.n_critic': _WGAN_N_CRITIC,
    'optim.g_lr': 1e-4, 'optim.d_lr': 1e-4, 'optim.b1': 0.5, 'optim.b2': 0.9})


def _with_penalty_overrides(variant: Variant,
                            overrides: dict[str, Any]) -> Variant:
  names = tricks.parse_names(variant.overrides.get('tricks', ''))
  if tricks.PENALISES_INPUT_GRADIENTS.isdisjoint(names):
    return variant
  return Variant(variant.name, {**variant.overrides, **overrides})
