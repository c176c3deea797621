"""benchmarks/torch_reference.py (PyTorch twins of gan_jax's benchmarked
experiments) and benchmarks/run.py. Skipped without torch."""

import functools
import json
import os
import subprocess
import sys

import jax
import numpy as np
import pytest

from gan_jax import config as config_lib
from gan_jax import losses
from gan_jax import metrics
from gan_jax import models
from gan_jax import train

torch = pytest.importorskip('torch')
# After the skip: benchmarks/torch_reference.py imports torch at its top.
from benchmarks import torch_reference  # noqa: E402  # pylint: disable=wrong-import-position

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# The benchmark's experiments (benchmarks/run.py), at a small batch.
EXPERIMENTS = {
    'mlp2d': ('ring8.py', {}),
    'dcgan32': ('dcgan_digits.py', dict(image_size=32, channels=3)),
    'sngan_resnet32': ('sngan_resnet_cifar10.py',
                       dict(name='digits', image_size=32, channels=3)),
}


@functools.cache
def _experiment(name):
  """(config, gan, gan_jax's initial state, the twin loaded with it)."""
  config_file, data_overrides = EXPERIMENTS[name]
  config = config_lib.load(os.path.join(REPO, 'configs', config_file))
  config.data.update(data_overrides)
  config.batch_size = 4
  gan = train.build(config)
  state = jax.jit(functools.partial(train.init_state, gan))(
      jax.random.PRNGKey(0))
  twin = torch_reference.build(config, gan)
  twin.load(state)
  return config, gan, state, twin


def _nchw(x):
  x = torch.from_numpy(np.array(x))
  return x.permute(0, 3, 1, 2) if x.ndim == 4 else x


@pytest.mark.parametrize('name', EXPERIMENTS)
def test_same_parameter_counts(name):
  _, _, state, twin = _experiment(name)  # Loading mapped them one to one.
  for jax_params, module in ((state.generator.params, twin.generator),
                             (state.critic.params, twin.critic)):
    assert (torch_reference.count_parameters(jax_params)
            == torch_reference.count_parameters(module) > 0)


def test_loading_refuses_other_parameters():
  _, _, mlp_state, _ = _experiment('mlp2d')
  _, _, _, dcgan = _experiment('dcgan32')
  with pytest.raises(ValueError, match='parameters differ'):
    torch_reference.load_flax_params(dcgan.generator,
                                     mlp_state.generator.params)


@pytest.mark.parametrize('name', EXPERIMENTS)
def test_same_function_at_the_same_parameters(name):
  _, gan, state, twin = _experiment(name)
  rng = np.random.default_rng(0)
  z = rng.standard_normal((4, gan.latent_dim), np.float32)
  fake, _ = models.apply(gan.generator, state.generator.params,
                         state.generator.model_state, z, train=True)
  twin_fake = twin.generator(torch.from_numpy(z))
  np.testing.assert_allclose(_nchw(fake).numpy(), twin_fake.detach().numpy(),
                             atol=1e-4)
  x = rng.uniform(-1, 1, (4, *gan.dataset.sample_shape)).astype(np.float32)
  # The spectral norm's iteration included (both keep its vectors here).
  used, _ = gan.tricks.critic_params(state.critic.params, state.tricks)
  logits = models.apply(gan.critic, used, state.critic.model_state, x,
                        train=True)[0].logits
  twin_logits = twin.critic_logits(twin.critic_params(advance=False),
                                   _nchw(x))
  np.testing.assert_allclose(logits, twin_logits.detach().numpy(),
                             rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize('name', [
    'mlp2d', 'dcgan32',
    pytest.param('sngan_resnet32', marks=pytest.mark.slow)])
def test_one_step_changes_every_weight(name):
  _, gan, _, twin = _experiment(name)
  params = lambda: [p.detach().clone() for m in (twin.generator, twin.critic)
                    for p in m.parameters()]
  before = params()
  vectors = dict(twin.spectral_norm.u) if twin.spectral_norm else {}
  real = None
  if twin.mixture is None:
    real = torch.from_numpy(np.random.default_rng(1).uniform(
        -1, 1, (gan.n_critic, 4, *gan.dataset.sample_shape)
    ).astype(np.float32)).permute(0, 1, 4, 2, 3)
  twin.step(real)
  for old, new in zip(before, params()):
    assert torch.all(torch.isfinite(new))
    assert not torch.equal(old, new)
  for name_, u in vectors.items():  # A 1-vector stays ±1.
    assert u.numel() == 1 or not torch.equal(u, twin.spectral_norm.u[name_])


@pytest.mark.parametrize('name', torch_reference.LOSSES)
def test_losses_match_gan_jax(name):
  rng = np.random.default_rng(0)
  real, fake = rng.standard_normal((2, 16)).astype(np.float32) * 3
  twin = torch_reference.LOSSES[name]
  ours = losses.get(name)
  np.testing.assert_allclose(
      twin.critic(torch.from_numpy(real), torch.from_numpy(fake)).item(),
      ours.critic(real, fake, 1.0), rtol=1e-6)
  np.testing.assert_allclose(twin.generator(torch.from_numpy(fake)).item(),
                             ours.generator(fake), rtol=1e-6)


def test_frechet_distances_agree():
  rng = np.random.default_rng(0)
  a = rng.standard_normal((300, 20)).astype(np.float32)
  b = (rng.standard_normal((250, 20)) @ rng.uniform(0.5, 1.5, (20, 20))
       ).astype(np.float32) + 0.3
  np.testing.assert_allclose(
      metrics.frechet_distance(a, b),
      torch_reference.reference_frechet_distance(a, b), rtol=1e-7)


def _run(*args):
  return subprocess.run([sys.executable, 'benchmarks/run.py', *args],
                        cwd=REPO, capture_output=True, text=True, timeout=900)


def test_run_rejects_an_unknown_case():
  done = _run('--cases=mlp2d_step,nope')
  assert done.returncode == 2
  assert done.stderr.strip().splitlines()[-1] == (
      "error: unknown case 'nope'; allowed: mlp2d_step, dcgan32_step, "
      'sngan_resnet32_step, sngan_resnet32_b256_step, frechet_distance, '
      'sweep_seeds')


@pytest.mark.slow
def test_run_quick_writes_the_results(tmp_path):
  out = tmp_path / 'bench.json'
  done = _run('--quick', '--cases=mlp2d_step,frechet_distance',
              '--repeats=2', '--round_seconds=0.05', '--torch_threads=1',
              f'--out={out}')
  assert done.returncode == 0, done.stderr[-3000:]
  results = json.loads(out.read_text())
  assert {'machine', 'versions'} <= set(results)
  mlp, frechet = results['cases']
  assert (mlp['name'], frechet['name']) == ('mlp2d_step', 'frechet_distance')
  for case in (mlp, frechet):
    for field in ('jax_per_sec', 'torch_per_sec', 'jax_peak_rss_mb',
                  'torch_peak_rss_mb'):
      assert case[field] > 0, field
    assert case['ratio'] == pytest.approx(case['jax_per_sec']
                                          / case['torch_per_sec'])
    assert len(case['jax_rates']) == len(case['torch_rates']) == 2
  assert mlp['jax_compile_s'] > 0 and mlp['torch_first_call_s'] > 0
  # Model FLOPs: the ring8 MLPs' products (flop_count's rules are tested in
  # test_flop_count.py); utilisation is FLOP/s over the measured matmul rate.
  assert 'model_flops_per_unit' not in frechet
  assert results['peaks']['matmul_flops_per_sec'] > 0
  for side in ('jax', 'torch'):
    assert mlp[f'{side}_model_flops_per_sec'] == pytest.approx(
        mlp['model_flops_per_unit'] * mlp[f'{side}_per_sec'])
    assert mlp[f'{side}_fraction_of_matmul'] == pytest.approx(
        mlp[f'{side}_model_flops_per_sec']
        / results['peaks']['matmul_flops_per_sec'])
  assert mlp['generator_parameters'] == 49_666
  assert frechet['jax_value'] == pytest.approx(frechet['torch_value'],
                                               rel=1e-6)
  assert frechet['value_relative_difference'] < 1e-6
  assert results['machine']['cpus_available'] >= 1
  assert not results['machine']['torch_cudnn_benchmark']  # Only on CUDA.
