"""Stability tricks as composable transforms (see ``base`` for the hooks).

``config.tricks`` names the tricks in chain order (comma-separated, empty for
none) and ``config.trick_args.<name>`` holds each one's keyword arguments.
A trick module registers its factory in ``TRICKS``; the train step only ever
sees the chained :class:`Trick`.
"""

from typing import Any, Callable, Mapping

from gan_jax.tricks.base import (CriticView, Params, StepInfo, Trick, chain,
                                 make)

# name -> factory(**trick_args) -> Trick.
TRICKS: dict[str, Callable[..., Trick]] = {}


def parse_names(names: str) -> list[str]:
  """``'a, b,'`` -> ``['a', 'b']``; ValueError naming an unknown trick."""
  parsed = [n.strip() for n in names.split(',') if n.strip()]
  for name in parsed:
    if name not in TRICKS:
      allowed = ', '.join(sorted(TRICKS)) or 'none are registered'
      raise ValueError(f'unknown trick {name!r}; allowed: {allowed}')
  return parsed


def from_config(names: str, trick_args: Mapping[str, Mapping[str, Any]]) -> Trick:
  """Chains the tricks ``names`` with their arguments from ``trick_args``."""
  return chain(*(TRICKS[name](**dict(trick_args.get(name, {})))
                 for name in parse_names(names)))


__all__ = ['CriticView', 'Params', 'StepInfo', 'TRICKS', 'Trick', 'chain',
           'from_config', 'make', 'parse_names']
