"""Running an evaluation function over many examples in fixed-size chunks."""

from typing import Callable

import numpy as np


def in_chunks(fn: Callable[[np.ndarray], np.ndarray], x: np.ndarray,
              size: int = 500) -> np.ndarray:
  """``fn`` over the rows of ``x`` in chunks of ``size`` rows, the last one
  padded by repeating rows, so a jitted ``fn`` compiles for one shape."""
  outputs = []
  for start in range(0, len(x), size):
    chunk = x[start:start + size]
    count = len(chunk)
    if count < size:
      chunk = np.concatenate([chunk, np.repeat(chunk[-1:], size - count, 0)])
    outputs.append(np.asarray(fn(chunk))[:count])
  return np.concatenate(outputs)
