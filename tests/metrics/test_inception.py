"""The FID InceptionV3 feature extractor (gan_jax.metrics.features.inception).

The torch test rebuilds pytorch-fid's network (the TF 2015-12-05 Inception graph
with its FIDInceptionA/C/E_1/E_2 blocks) by hand in PyTorch, with random
weights and batch-norm statistics, and checks that the Flax port, loaded
through the library's own .pth conversion, gives the same pool3 features and
logits. The other tests need no torch.
"""

import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import traverse_util

from gan_jax.metrics import features
from gan_jax.metrics.features import inception


def _random_variables(seed=0):
  """FIDInceptionV3 variables filled with random numbers (no real init)."""
  rng = np.random.default_rng(seed)
  flat = {key: rng.normal(size=shape).astype(np.float32)
          for key, shape in inception._expected_shapes().items()}
  return traverse_util.unflatten_dict(flat, sep='/')


def test_output_shapes_and_grayscale():
  variables = jax.eval_shape(
      inception.FIDInceptionV3().init, jax.random.PRNGKey(0),
      jax.ShapeDtypeStruct((1, 299, 299, 3), jnp.float32))
  for channels in (1, 3):
    pool3, logits = jax.eval_shape(
        inception.fid_inception_apply, variables,
        jax.ShapeDtypeStruct((2, 32, 32, channels), jnp.float32))
    assert pool3.shape == (2, 2048) and logits.shape == (2, 1008)
  # 94 conv + batch-norm layers (5 arrays each) and the fc kernel and bias.
  assert len(traverse_util.flatten_dict(variables)) == 94 * 5 + 2
  assert variables['params']['fc']['kernel'].shape == (2048, 1008)


def test_preprocess_repeats_gray_and_keeps_299_unchanged():
  rng = np.random.default_rng(0)
  gray = rng.uniform(-1, 1, (2, 12, 10, 1)).astype(np.float32)
  np.testing.assert_allclose(inception.preprocess(gray),
                             inception.preprocess(np.repeat(gray, 3, -1)),
                             atol=1e-6)
  full = rng.uniform(-1, 1, (1, 299, 299, 3)).astype(np.float32)
  np.testing.assert_array_equal(inception.preprocess(full), full)
  with pytest.raises(ValueError, match='1 or 3 channels'):
    inception.preprocess(np.zeros((1, 8, 8, 2)))


@pytest.mark.parametrize('path', [None, ''])
def test_missing_weights_path_names_the_config_key(path):
  with pytest.raises(ValueError, match='eval.inception_weights') as error:
    features.require_weights_path(path)
  assert '\n' not in str(error.value)
  with pytest.raises(ValueError, match='eval.inception_weights'):
    features.make_fid_inception(path)


def test_missing_file_names_path_and_source(tmp_path):
  path = tmp_path / 'nowhere' / features.FID_WEIGHTS_FILE
  with pytest.raises(FileNotFoundError) as error:
    features.load_fid_inception_params(path)
  message = str(error.value)
  assert str(path) in message and 'pytorch-fid' in message
  assert features.FID_WEIGHTS_URL in message and '\n' not in message


def test_pth_without_torch_says_how_to_install(tmp_path, monkeypatch):
  path = tmp_path / 'weights.pth'
  path.write_bytes(b'not read')
  monkeypatch.setitem(sys.modules, 'torch', None)  # `import torch` now fails.
  with pytest.raises(ImportError, match='pip install torch') as error:
    features.load_fid_inception_params(path)
  assert '\n' not in str(error.value)


def test_npz_round_trip(tmp_path):
  variables = _random_variables()
  path = tmp_path / 'inception.npz'
  features.save_fid_inception_params(variables, path)
  loaded = features.load_fid_inception_params(path)
  assert jax.tree.structure(loaded) == jax.tree.structure(variables)
  for want, got in zip(jax.tree.leaves(variables), jax.tree.leaves(loaded)):
    np.testing.assert_array_equal(np.asarray(got), want)


def test_npz_with_wrong_contents_is_rejected(tmp_path):
  flat = traverse_util.flatten_dict(_random_variables(), sep='/')
  del flat['params/Mixed_7c/branch_pool/conv/kernel']
  flat['params/fc/bias'] = np.zeros(1000, np.float32)
  path = tmp_path / 'bad.npz'
  np.savez(path, **flat)
  with pytest.raises(ValueError, match='missing: params/Mixed_7c') as error:
    features.load_fid_inception_params(path)
  assert 'wrong shape: params/fc/bias' in str(error.value)


# ---------------------------------------------------------------------------
# Comparison with a PyTorch rebuild of pytorch-fid's network.


def _torch_reference():
  """pytorch-fid's FID InceptionV3, written out in plain torch.

  Same module names as torchvision's Inception3 with pytorch-fid's patched
  blocks, so its state dict has the keys of pt_inception-2015-12-05.pth.
  """
  torch = pytest.importorskip('torch', reason='needs torch for the reference')
  tnn, F = torch.nn, torch.nn.functional

  class Conv(tnn.Module):

    def __init__(self, cin, cout, kernel, stride=1, padding=0):
      super().__init__()
      self.conv = tnn.Conv2d(cin, cout, kernel, stride, padding, bias=False)
      self.bn = tnn.BatchNorm2d(cout, eps=0.001)

    def forward(self, x):
      return F.relu(self.bn(self.conv(x)))

  def avg_pool(x):  # TF-style: padding not counted in the average.
    return F.avg_pool2d(x, 3, 1, 1, count_include_pad=False)

  class BlockA(tnn.Module):  # FIDInceptionA

    def __init__(self, cin, pool_features):
      super().__init__()
      self.branch1x1 = Conv(cin, 64, 1)
      self.branch5x5_1 = Conv(cin, 48, 1)
      self.branch5x5_2 = Conv(48, 64, 5, padding=2)
      self.branch3x3dbl_1 = Conv(cin, 64, 1)
      self.branch3x3dbl_2 = Conv(64, 96, 3, padding=1)
      self.branch3x3dbl_3 = Conv(96, 96, 3, padding=1)
      self.branch_pool = Conv(cin, pool_features, 1)

    def forward(self, x):
      return torch.cat([
          self.branch1x1(x),
          self.branch5x5_2(self.branch5x5_1(x)),
          self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x))),
          self.branch_pool(avg_pool(x)),
      ], 1)

  class BlockB(tnn.Module):  # torchvision InceptionB (Mixed_6a)

    def __init__(self, cin):
      super().__init__()
      self.branch3x3 = Conv(cin, 384, 3, stride=2)
      self.branch3x3dbl_1 = Conv(cin, 64, 1)
      self.branch3x3dbl_2 = Conv(64, 96, 3, padding=1)
      self.branch3x3dbl_3 = Conv(96, 96, 3, stride=2)

    def forward(self, x):
      return torch.cat([
          self.branch3x3(x),
          self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x))),
          F.max_pool2d(x, 3, 2),
      ], 1)

  class BlockC(tnn.Module):  # FIDInceptionC

    def __init__(self, cin, c7):
      super().__init__()
      self.branch1x1 = Conv(cin, 192, 1)
      self.branch7x7_1 = Conv(cin, c7, 1)
      self.branch7x7_2 = Conv(c7, c7, (1, 7), padding=(0, 3))
      self.branch7x7_3 = Conv(c7, 192, (7, 1), padding=(3, 0))
      self.branch7x7dbl_1 = Conv(cin, c7, 1)
      self.branch7x7dbl_2 = Conv(c7, c7, (7, 1), padding=(3, 0))
      self.branch7x7dbl_3 = Conv(c7, c7, (1, 7), padding=(0, 3))
      self.branch7x7dbl_4 = Conv(c7, c7, (7, 1), padding=(3, 0))
      self.branch7x7dbl_5 = Conv(c7, 192, (1, 7), padding=(0, 3))
      self.branch_pool = Conv(cin, 192, 1)

    def forward(self, x):
      seven = self.branch7x7_3(self.branch7x7_2(self.branch7x7_1(x)))
      double = x
      for i in range(1, 6):
        double = getattr(self, f'branch7x7dbl_{i}')(double)
      return torch.cat([self.branch1x1(x), seven, double,
                        self.branch_pool(avg_pool(x))], 1)

  class BlockD(tnn.Module):  # torchvision InceptionD (Mixed_7a)

    def __init__(self, cin):
      super().__init__()
      self.branch3x3_1 = Conv(cin, 192, 1)
      self.branch3x3_2 = Conv(192, 320, 3, stride=2)
      self.branch7x7x3_1 = Conv(cin, 192, 1)
      self.branch7x7x3_2 = Conv(192, 192, (1, 7), padding=(0, 3))
      self.branch7x7x3_3 = Conv(192, 192, (7, 1), padding=(3, 0))
      self.branch7x7x3_4 = Conv(192, 192, 3, stride=2)

    def forward(self, x):
      seven = x
      for i in range(1, 5):
        seven = getattr(self, f'branch7x7x3_{i}')(seven)
      return torch.cat([self.branch3x3_2(self.branch3x3_1(x)), seven,
                        F.max_pool2d(x, 3, 2)], 1)

  class BlockE(tnn.Module):  # FIDInceptionE_1 (avg) and FIDInceptionE_2 (max)

    def __init__(self, cin, use_max_pool):
      super().__init__()
      self.use_max_pool = use_max_pool
      self.branch1x1 = Conv(cin, 320, 1)
      self.branch3x3_1 = Conv(cin, 384, 1)
      self.branch3x3_2a = Conv(384, 384, (1, 3), padding=(0, 1))
      self.branch3x3_2b = Conv(384, 384, (3, 1), padding=(1, 0))
      self.branch3x3dbl_1 = Conv(cin, 448, 1)
      self.branch3x3dbl_2 = Conv(448, 384, 3, padding=1)
      self.branch3x3dbl_3a = Conv(384, 384, (1, 3), padding=(0, 1))
      self.branch3x3dbl_3b = Conv(384, 384, (3, 1), padding=(1, 0))
      self.branch_pool = Conv(cin, 192, 1)

    def forward(self, x):
      a = self.branch3x3_1(x)
      b = self.branch3x3dbl_2(self.branch3x3dbl_1(x))
      pooled = (F.max_pool2d(x, 3, 1, 1) if self.use_max_pool
                else avg_pool(x))
      return torch.cat([
          self.branch1x1(x),
          self.branch3x3_2a(a), self.branch3x3_2b(a),
          self.branch3x3dbl_3a(b), self.branch3x3dbl_3b(b),
          self.branch_pool(pooled),
      ], 1)

  class Reference(tnn.Module):

    def __init__(self):
      super().__init__()
      self.Conv2d_1a_3x3 = Conv(3, 32, 3, stride=2)
      self.Conv2d_2a_3x3 = Conv(32, 32, 3)
      self.Conv2d_2b_3x3 = Conv(32, 64, 3, padding=1)
      self.Conv2d_3b_1x1 = Conv(64, 80, 1)
      self.Conv2d_4a_3x3 = Conv(80, 192, 3)
      self.Mixed_5b = BlockA(192, 32)
      self.Mixed_5c = BlockA(256, 64)
      self.Mixed_5d = BlockA(288, 64)
      self.Mixed_6a = BlockB(288)
      self.Mixed_6b = BlockC(768, 128)
      self.Mixed_6c = BlockC(768, 160)
      self.Mixed_6d = BlockC(768, 160)
      self.Mixed_6e = BlockC(768, 192)
      self.Mixed_7a = BlockD(768)
      self.Mixed_7b = BlockE(1280, use_max_pool=False)
      self.Mixed_7c = BlockE(2048, use_max_pool=True)
      self.fc = tnn.Linear(2048, 1008)

    def forward(self, images):
      """NCHW images in [-1, 1] of any size -> (pool3, logits)."""
      # pytorch-fid: [0, 1] input, resize to 299, then scale to [-1, 1].
      x = F.interpolate((images + 1) / 2, size=(299, 299), mode='bilinear',
                        align_corners=False)
      x = 2 * x - 1
      x = self.Conv2d_2b_3x3(self.Conv2d_2a_3x3(self.Conv2d_1a_3x3(x)))
      x = F.max_pool2d(x, 3, 2)
      x = self.Conv2d_4a_3x3(self.Conv2d_3b_1x1(x))
      x = F.max_pool2d(x, 3, 2)
      for name in ('5b', '5c', '5d', '6a', '6b', '6c', '6d', '6e', '7a', '7b',
                   '7c'):
        x = getattr(self, f'Mixed_{name}')(x)
      pool3 = x.mean((2, 3))
      return pool3, self.fc(pool3)

  return torch, Reference


def test_resize_matches_torch_bilinear():
  torch = pytest.importorskip('torch', reason='needs torch for the reference')
  rng = np.random.default_rng(1)
  for size in (32, 28, 310):  # upsampling and (unantialiased) downsampling
    images = rng.uniform(-1, 1, (2, size, size, 3)).astype(np.float32)
    want = torch.nn.functional.interpolate(
        torch.from_numpy(images).permute(0, 3, 1, 2), size=(299, 299),
        mode='bilinear', align_corners=False).permute(0, 2, 3, 1).numpy()
    np.testing.assert_allclose(inception.preprocess(images), want, atol=2e-6)


@pytest.mark.slow  # ~20 s on two CPU cores, mostly compiling the network
def test_matches_pytorch_fid_reference(tmp_path):
  torch, reference_class = _torch_reference()
  torch.manual_seed(0)
  reference = reference_class()
  # Random weights and batch-norm affine parameters; running statistics
  # measured on random images, so the activations stay O(1) through 94 layers,
  # then perturbed, so that they are not the batch statistics either.
  batch_norms = [m for m in reference.modules()
                 if isinstance(m, torch.nn.BatchNorm2d)]
  with torch.no_grad():
    for bn in batch_norms:
      bn.momentum = None  # cumulative average: one batch sets the statistics
      bn.weight.uniform_(0.7, 1.3)
      bn.bias.normal_(0, 0.2)
    reference.train()
    reference(torch.rand(2, 3, 32, 32) * 2 - 1)
    for bn in batch_norms:
      channels = bn.num_features
      bn.running_mean += 0.1 * bn.running_var.sqrt() * torch.randn(channels)
      bn.running_var *= torch.empty(channels).uniform_(0.8, 1.25)
  reference.eval()

  pth_path, npz_path = tmp_path / 'reference.pth', tmp_path / 'reference.npz'
  torch.save(reference.state_dict(), pth_path)
  from_pth = features.load_fid_inception_params(pth_path)
  features.convert_fid_inception_weights(pth_path, npz_path)
  jax.tree.map(np.testing.assert_array_equal, from_pth,
               features.load_fid_inception_params(npz_path))
  extractor = features.make_fid_inception(npz_path, batch_size=2)

  rng = np.random.default_rng(0)
  images = rng.uniform(-1, 1, (3, 32, 32, 3)).astype(np.float32)
  with torch.no_grad():
    want_pool3, want_logits = (t.numpy() for t in reference(
        torch.from_numpy(images).permute(0, 3, 1, 2)))
  # Three images in batches of two: the last batch is padded.
  pool3, logits = extractor(images)

  assert pool3.shape == (3, 2048) and logits.shape == (3, 1008)
  assert want_pool3.std() > 0.1 and want_logits.std() > 0.1  # not degenerate
  # Random deep networks amplify rounding: here float32 torch itself is ~3e-5
  # relative away from a float64 run, as far as the Flax port is.
  for got, want in ((pool3, want_pool3), (logits, want_logits)):
    error = np.abs(got - want).max()
    print(f'max |diff| {error:.2e}, max |reference| {np.abs(want).max():.2e}')
    assert error <= 1e-4 * max(1.0, np.abs(want).max())
