"""Training: the train state, the pure step, sampling and evaluation, the loop.

One module per job:

* :mod:`~gan_jax.train.state`: the experiment's static parts (:class:`Gan`,
  :func:`build`) and the train state (:class:`TrainState`,
  :func:`init_state`);
* :mod:`~gan_jax.train.step`: the pure train step and the fused steps of one
  jit call;
* :mod:`~gan_jax.train.sampling`: generating samples and evaluating a state;
* :mod:`~gan_jax.train.runs`: setting runs up, holding and restoring their
  workdirs (:func:`train_and_evaluate`, :func:`train_and_evaluate_seeds`);
* :mod:`~gan_jax.train.loop`: the loop and what is due between its calls;
* :mod:`~gan_jax.train.progress`: periods, the log window, the ETA, the
  summary; :mod:`~gan_jax.train.divergence`: non-finite runs;
  :mod:`~gan_jax.train.workdir_files`: the JSON files of a workdir.

The host pipeline's batches are :class:`gan_jax.data.host_batches.HostBatches`.
The names below are the API the entry points, benchmarks and tests use.
"""

from gan_jax.data.host_batches import HostBatches
from gan_jax.train.divergence import check_finite
from gan_jax.train.divergence import divergence_advice
from gan_jax.train.divergence import Diverged
from gan_jax.train.runs import train_and_evaluate
from gan_jax.train.runs import train_and_evaluate_seeds
from gan_jax.train.sampling import evaluate_state
from gan_jax.train.sampling import generate_samples
from gan_jax.train.sampling import grid_classes
from gan_jax.train.sampling import make_generate
from gan_jax.train.state import build
from gan_jax.train.state import Gan
from gan_jax.train.state import init_state
from gan_jax.train.state import Player
from gan_jax.train.state import TrainState
from gan_jax.train.step import make_fused_steps
from gan_jax.train.step import make_train_step
from gan_jax.train.step import sample_real_batch
from gan_jax.train.workdir_files import DIVERGED_FILE
from gan_jax.train.workdir_files import write_eval_json

__all__ = [
    'HostBatches',
    'check_finite',
    'divergence_advice',
    'Diverged',
    'train_and_evaluate',
    'train_and_evaluate_seeds',
    'evaluate_state',
    'generate_samples',
    'grid_classes',
    'make_generate',
    'build',
    'Gan',
    'init_state',
    'Player',
    'TrainState',
    'make_fused_steps',
    'make_train_step',
    'sample_real_batch',
    'DIVERGED_FILE',
    'write_eval_json',
]
