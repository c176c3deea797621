"""Named factories configured by keyword arguments (tricks, families).

A config names a factory and gives its arguments as a dict; these helpers
list the arguments a factory takes and build it, turning a wrong key or a
value the factory rejects into one ValueError line naming both.
"""

import inspect
from typing import Any, Callable, Mapping


def default_args(factory: Callable[..., Any],
                 filled_in: tuple[str, ...] = ()) -> dict[str, Any]:
  """``factory``'s keyword arguments with their defaults, except the ones
  the library fills in (``filled_in``)."""
  return {p.name: p.default
          for p in inspect.signature(factory).parameters.values()
          if p.name not in filled_in}


def build(kind: str, name: str, factory: Callable[..., Any],
          args: Mapping[str, Any], allowed: Mapping[str, Any],
          **filled_in: Any) -> Any:
  """``factory(**args, **filled_in)`` after checking ``args`` against
  ``allowed``.

  Raises:
    ValueError: ``unknown argument 'k' for <kind> '<name>'; allowed: ...``,
      or ``<kind> '<name>': <the factory's own message>``.
  """
  for key in args:
    if key not in allowed:
      raise ValueError(f'unknown argument {key!r} for {kind} {name!r}; '
                       f'allowed: {", ".join(allowed)}')
  try:
    return factory(**args, **filled_in)
  except ValueError as e:
    raise ValueError(f'{kind} {name!r}: {e}') from e
