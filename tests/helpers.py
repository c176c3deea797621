"""Shared test helpers: tiny configs and short training runs."""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import optax

from gan_jax import config as config_lib
from gan_jax import train


def tiny_config(**overrides):
  """A fast ring8 config: batch 32, latent 8, width 16.

  The fused steps' loop is not unrolled (``scan_unroll=1``): unrolling
  changes no bit of the results (tests/train/test_step.py checks it), and a
  rolled loop compiles in about 60 % of the time, which is most of what a
  test of a few steps costs.
  """
  config = config_lib.base()
  config.batch_size = 32
  config.model.latent_dim = 8
  config.model.generator_args.width = 16
  config.model.critic_args.width = 16
  config.scan_unroll = 1
  for key, value in overrides.items():
    node = config
    *parents, leaf = key.split('.')
    for parent in parents:
      node = node[parent]
    node[leaf] = value
  return config


def init_state(gan, seed=0):
  return jax.jit(functools.partial(train.init_state, gan))(
      jax.random.PRNGKey(seed))


_COMPILED = {}


def run_steps(gan, state, num_steps, steps_per_call):
  """Trains ``num_steps`` steps in calls of ``steps_per_call``.

  The jitted function is cached per experiment, so tests that step one at a
  time compile once.
  """
  key = (id(gan), steps_per_call)
  if key not in _COMPILED:
    # Keeping gan alive keeps its id from being reused by another object.
    _COMPILED[key] = (gan, jax.jit(train.make_fused_steps(gan, steps_per_call)))
  fused = _COMPILED[key][1]
  metrics = None
  for _ in range(num_steps // steps_per_call):
    state, metrics = fused(state)
  return state, metrics


def assert_trees_close(a, b, **tolerance):
  for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b), strict=True):
    np.testing.assert_allclose(x, y, **tolerance)


def samples_of(p, scale=10):
  """Indices of points, each repeated in proportion to its probability."""
  return np.repeat(np.arange(len(p)),
                   np.round(np.asarray(p) * scale).astype(int))


def optimal_critic_outputs(loss, p_data, p_g, real_target=1.0, steps=3000):
  """Minimises ``loss.critic`` over one free critic output per point.

  The densities are discrete: real and fake "samples" are the points repeated
  in proportion to p_data and p_g. Returns the outputs and the minimum.
  """
  real_idx, fake_idx = samples_of(p_data), samples_of(p_g)
  objective = lambda out: loss.critic(out[real_idx], out[fake_idx], real_target)
  opt = optax.adam(0.05)
  out = jnp.zeros(len(p_data))
  state = opt.init(out)

  @jax.jit
  def update(out, state):
    updates, state = opt.update(jax.grad(objective)(out), state)
    return optax.apply_updates(out, updates), state

  for _ in range(steps):
    out, state = update(out, state)
  return np.asarray(out), float(objective(out))
