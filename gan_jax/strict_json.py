"""JSON as gan_jax writes it: strict, with undefined values as ``null``.

Python's ``json`` writes a float NaN or ±inf as the bare tokens ``NaN`` and
``Infinity``, which are not JSON (RFC 8259): strict parsers (``jq``,
JavaScript's ``JSON.parse``, Go, Rust's serde) refuse the whole file. A
metric can be undefined (``reverse_kl`` when no sample is high quality), so
every JSON file a user reads (``eval.json``, ``metrics.jsonl``,
``eval_step_S.json``, ``config.json``, ``diverged.json``, ``wall_time.json``)
is written through :func:`dumps` / :func:`dump`: a non-finite number becomes
``null``, and ``allow_nan=False`` turns anything that still slips through
into an error instead of an invalid file. Readers map ``null`` back to NaN
(:func:`null_to_nan`).
"""

import json
import math
import numbers
import os
from typing import Any

import numpy as np


def undefined_to_null(value: Any) -> Any:
  """``value`` with every non-finite number (NaN, ±inf) replaced by None,
  in nested dicts, lists and tuples too; numpy scalars become Python ones."""
  if isinstance(value, dict):
    return {k: undefined_to_null(v) for k, v in value.items()}
  if isinstance(value, (list, tuple)):
    return [undefined_to_null(v) for v in value]
  if isinstance(value, np.ndarray) and value.ndim == 0:
    value = value.item()
  if isinstance(value, (bool, np.bool_)):
    return bool(value)
  if isinstance(value, numbers.Integral):
    return int(value)
  if isinstance(value, numbers.Real):
    value = float(value)
    return value if math.isfinite(value) else None
  return value


def dumps(value: Any, **kwargs) -> str:
  """``json.dumps`` of ``value`` with undefined numbers as ``null``."""
  return json.dumps(undefined_to_null(value), allow_nan=False, **kwargs)


def dump(value: Any, f, **kwargs) -> None:
  """``json.dump`` of ``value`` with undefined numbers as ``null``."""
  json.dump(undefined_to_null(value), f, allow_nan=False, **kwargs)


def null_to_nan(value: Any) -> Any:
  """What a reader makes of a metric written as ``null``: NaN."""
  return math.nan if value is None else value


def write(path: str, value: Any, sort_keys: bool = True) -> None:
  """Writes ``value`` to ``path`` as indented strict JSON, atomically: to a
  temporary name, then renamed, so a reader never sees half a file."""
  with open(path + '.tmp', 'w') as f:
    dump(value, f, indent=2, sort_keys=sort_keys)
    f.write('\n')
  os.replace(path + '.tmp', path)
