"""A run that became non-finite: the error, its advice, the check.

A train step's metrics are checked on the host (:func:`check_finite`); the
first non-finite one ends the run as :class:`Diverged`, with advice true
to what the workdir holds (:func:`divergence_advice`).
"""

import ml_collections
import numpy as np


class Diverged(RuntimeError):
  """Training made a loss or parameter non-finite; nothing of it was saved.

  ``advice`` says what the workdir holds and what to try
  (:func:`divergence_advice`).
  """

  def __init__(self, step: int, quantities: dict[str, float],
               advice: str = ''):
    shown = ', '.join(f'{name}={value}' for name, value in
                      sorted(quantities.items())[:4])
    super().__init__(f'diverged at step {step}: {shown}'
                     + (f'; {advice}' if advice else ''))
    self.step = step
    self.quantities = quantities


def divergence_advice(config: ml_collections.ConfigDict,
                      checkpoint_step: int | None) -> str:
  """What a diverged run leaves behind and what to try, true to the case."""
  if checkpoint_step is None:
    saved = 'no checkpoint was saved before it, so a rerun starts at step 0'
    again = 'rerun'
  else:
    saved = (f'the checkpoint of step {checkpoint_step} holds the last '
             'finite state')
    again = 'resume'
  if not config.skip_nonfinite_updates:
    return (f'{saved}; {again} with --config.skip_nonfinite_updates=True to '
            'skip updates whose gradients are not finite')
  return (f'{saved}; skip_nonfinite_updates is already on, so the parameters '
          'themselves became non-finite (finite updates too large for them, '
          f'or more than max_consecutive_skips={config.max_consecutive_skips} '
          'skipped in a row): lower --config.optim.d_lr / --config.optim.g_lr '
          'or constrain the critic (e.g. --config.tricks=spectral_norm)')


# Written in the workdir of a run that diverged: {"step", "quantities"},
# each quantity's value as a string ("nan", "inf"): JSON has no number for it.
DIVERGED_FILE = 'diverged.json'


def check_finite(metrics: dict[str, np.ndarray], first_step: int,
                 skip_nonfinite_updates: bool) -> None:
  """Raises :class:`Diverged` at the first step whose metrics are not finite.

  ``metrics`` are per-step ``[num_steps]`` arrays of steps ``first_step``,
  ``first_step + 1``, ... With skipped updates non-finite losses are
  expected (the update was dropped); only the parameter norms count then.
  """
  names = sorted(name for name in metrics if not skip_nonfinite_updates
                 or name.endswith('_param_norm'))
  bad = np.stack([~np.isfinite(metrics[name]) for name in names])
  if bad.any():
    index = int(np.argmax(bad.any(axis=0)))
    raise Diverged(first_step + index, {
        name: float(metrics[name][index])
        for name, flags in zip(names, bad) if flags[index]})
