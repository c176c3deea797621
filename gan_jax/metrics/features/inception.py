"""InceptionV3 features for FID and the Inception Score, in Flax.

FID (Heusel et al. 2017, "GANs Trained by a Two Time-Scale Update Rule
Converge to a Local Nash Equilibrium") compares Gaussians fitted to the 2048-d
``pool3`` features of one particular network: the TensorFlow Inception graph
of 2015-12-05 (Szegedy et al. 2016, "Rethinking the Inception Architecture for
Computer Vision"). The Inception Score (Salimans et al. 2016, "Improved
Techniques for Training GANs") uses the same graph's 1008-way softmax. Numbers
are only comparable with published ones when exactly this network is used, so
:class:`FIDInceptionV3` reproduces the port of that graph by pytorch-fid
(Seitzer 2020, github.com/mseitzer/pytorch-fid), including where it departs
from the textbook InceptionV3:

* the average pools inside the Inception blocks exclude the zero padding from
  the average (TensorFlow's ``SAME`` average pool), pytorch-fid's
  ``FIDInceptionA``, ``FIDInceptionC`` and ``FIDInceptionE_1``;
* the pool branch of the last block, ``Mixed_7c`` (``FIDInceptionE_2``), max
  pools instead of averaging;
* batch norm has epsilon 1e-3 and the classifier has 1008 outputs.

Module and parameter names follow the PyTorch state dict
(``Mixed_5b/branch1x1/conv``, ``.../bn``, ``fc``), so the weights file
pytorch-fid publishes converts key by key (:func:`load_fid_inception_params`).
Layout is NHWC, as everywhere in ``gan_jax``.
"""

import functools
import os
from typing import Any, Mapping

import flax.linen as nn
from flax import traverse_util
import jax
import jax.numpy as jnp
import numpy as np

FID_WEIGHTS_FILE = 'pt_inception-2015-12-05-6726825d.pth'
FID_WEIGHTS_URL = ('https://github.com/mseitzer/pytorch-fid/releases/download/'
                   f'fid_weights/{FID_WEIGHTS_FILE}')
INPUT_SIZE = 299
POOL3_DIM = 2048
NUM_LOGITS = 1008

_WHERE_FROM = (f'download {FID_WEIGHTS_FILE} from the pytorch-fid GitHub '
               f'release ({FID_WEIGHTS_URL})')

# Convolutions and the classifier run at full float32 precision: on GPUs the
# default would use TF32 (10-bit mantissa), which moves the features by ~1e-3
# relative and FID along with them.
_PRECISION = jax.lax.Precision.HIGHEST


class BasicConv(nn.Module):
  """Convolution without bias, batch norm (running statistics) and ReLU.

  Attributes:
    features: output channels.
    kernel_size: ``(height, width)`` of the kernel.
    strides: ``(height, width)`` strides.
    padding: symmetric zero padding ``(height, width)``, as PyTorch's
      ``Conv2d(padding=...)``.
  """
  features: int
  kernel_size: tuple[int, int]
  strides: tuple[int, int] = (1, 1)
  padding: tuple[int, int] = (0, 0)

  @nn.compact
  def __call__(self, x: jax.Array) -> jax.Array:
    pad_h, pad_w = self.padding
    x = nn.Conv(self.features, self.kernel_size, self.strides,
                padding=((pad_h, pad_h), (pad_w, pad_w)), use_bias=False,
                precision=_PRECISION, name='conv')(x)
    x = nn.BatchNorm(use_running_average=True, epsilon=1e-3, name='bn')(x)
    return nn.relu(x)


def _avg_pool_same(x: jax.Array) -> jax.Array:
  """3x3, stride 1, padding 1; the padding does not count in the average."""
  return nn.avg_pool(x, (3, 3), (1, 1), padding=((1, 1), (1, 1)),
                     count_include_pad=False)


def _max_pool_reduce(x: jax.Array) -> jax.Array:
  """3x3, stride 2, no padding: the grid-size reductions."""
  return nn.max_pool(x, (3, 3), (2, 2), padding='VALID')


class InceptionA(nn.Module):
  """35x35 block (Mixed_5b-d): 1x1, 5x5, double 3x3 and pool branches."""
  pool_features: int

  @nn.compact
  def __call__(self, x: jax.Array) -> jax.Array:
    b1 = BasicConv(64, (1, 1), name='branch1x1')(x)
    b5 = BasicConv(48, (1, 1), name='branch5x5_1')(x)
    b5 = BasicConv(64, (5, 5), padding=(2, 2), name='branch5x5_2')(b5)
    b3 = BasicConv(64, (1, 1), name='branch3x3dbl_1')(x)
    b3 = BasicConv(96, (3, 3), padding=(1, 1), name='branch3x3dbl_2')(b3)
    b3 = BasicConv(96, (3, 3), padding=(1, 1), name='branch3x3dbl_3')(b3)
    bp = BasicConv(self.pool_features, (1, 1),
                   name='branch_pool')(_avg_pool_same(x))
    return jnp.concatenate([b1, b5, b3, bp], axis=-1)


class InceptionB(nn.Module):
  """Reduction 35x35 -> 17x17 (Mixed_6a)."""

  @nn.compact
  def __call__(self, x: jax.Array) -> jax.Array:
    b3 = BasicConv(384, (3, 3), strides=(2, 2), name='branch3x3')(x)
    bd = BasicConv(64, (1, 1), name='branch3x3dbl_1')(x)
    bd = BasicConv(96, (3, 3), padding=(1, 1), name='branch3x3dbl_2')(bd)
    bd = BasicConv(96, (3, 3), strides=(2, 2), name='branch3x3dbl_3')(bd)
    return jnp.concatenate([b3, bd, _max_pool_reduce(x)], axis=-1)


class InceptionC(nn.Module):
  """17x17 block (Mixed_6b-e) with factorised 7x7 convolutions."""
  channels_7x7: int

  @nn.compact
  def __call__(self, x: jax.Array) -> jax.Array:
    c7 = self.channels_7x7
    row = dict(kernel_size=(1, 7), padding=(0, 3))  # 1x7 convolution
    col = dict(kernel_size=(7, 1), padding=(3, 0))  # 7x1 convolution
    b1 = BasicConv(192, (1, 1), name='branch1x1')(x)
    b7 = BasicConv(c7, (1, 1), name='branch7x7_1')(x)
    b7 = BasicConv(c7, **row, name='branch7x7_2')(b7)
    b7 = BasicConv(192, **col, name='branch7x7_3')(b7)
    bd = BasicConv(c7, (1, 1), name='branch7x7dbl_1')(x)
    bd = BasicConv(c7, **col, name='branch7x7dbl_2')(bd)
    bd = BasicConv(c7, **row, name='branch7x7dbl_3')(bd)
    bd = BasicConv(c7, **col, name='branch7x7dbl_4')(bd)
    bd = BasicConv(192, **row, name='branch7x7dbl_5')(bd)
    bp = BasicConv(192, (1, 1), name='branch_pool')(_avg_pool_same(x))
    return jnp.concatenate([b1, b7, bd, bp], axis=-1)


class InceptionD(nn.Module):
  """Reduction 17x17 -> 8x8 (Mixed_7a)."""

  @nn.compact
  def __call__(self, x: jax.Array) -> jax.Array:
    b3 = BasicConv(192, (1, 1), name='branch3x3_1')(x)
    b3 = BasicConv(320, (3, 3), strides=(2, 2), name='branch3x3_2')(b3)
    b7 = BasicConv(192, (1, 1), name='branch7x7x3_1')(x)
    b7 = BasicConv(192, (1, 7), padding=(0, 3), name='branch7x7x3_2')(b7)
    b7 = BasicConv(192, (7, 1), padding=(3, 0), name='branch7x7x3_3')(b7)
    b7 = BasicConv(192, (3, 3), strides=(2, 2), name='branch7x7x3_4')(b7)
    return jnp.concatenate([b3, b7, _max_pool_reduce(x)], axis=-1)


class InceptionE(nn.Module):
  """8x8 block (Mixed_7b, Mixed_7c) with split 1x3 / 3x1 outputs.

  Attributes:
    pool: ``'avg'`` (padding excluded from the average) for Mixed_7b,
      ``'max'`` for Mixed_7c, as in the 2015-12-05 graph.
  """
  pool: str = 'avg'

  @nn.compact
  def __call__(self, x: jax.Array) -> jax.Array:
    b1 = BasicConv(320, (1, 1), name='branch1x1')(x)
    b3 = BasicConv(384, (1, 1), name='branch3x3_1')(x)
    b3 = jnp.concatenate([
        BasicConv(384, (1, 3), padding=(0, 1), name='branch3x3_2a')(b3),
        BasicConv(384, (3, 1), padding=(1, 0), name='branch3x3_2b')(b3),
    ], axis=-1)
    bd = BasicConv(448, (1, 1), name='branch3x3dbl_1')(x)
    bd = BasicConv(384, (3, 3), padding=(1, 1), name='branch3x3dbl_2')(bd)
    bd = jnp.concatenate([
        BasicConv(384, (1, 3), padding=(0, 1), name='branch3x3dbl_3a')(bd),
        BasicConv(384, (3, 1), padding=(1, 0), name='branch3x3dbl_3b')(bd),
    ], axis=-1)
    if self.pool == 'avg':
      pooled = _avg_pool_same(x)
    elif self.pool == 'max':
      # Padding counts as -inf, as in PyTorch's and TensorFlow's max pools.
      pooled = nn.max_pool(x, (3, 3), (1, 1), padding=((1, 1), (1, 1)))
    else:
      raise ValueError(f"pool must be 'avg' or 'max', got {self.pool!r}")
    bp = BasicConv(192, (1, 1), name='branch_pool')(pooled)
    return jnp.concatenate([b1, b3, bd, bp], axis=-1)


class FIDInceptionV3(nn.Module):
  """The FID Inception network: ``pool3`` features and 1008-way logits.

  Takes NHWC images already in [-1, 1] and resized to 299x299
  (:func:`preprocess`); returns ``(pool3 [n, 2048], logits [n, 1008])``.
  ``pool3`` is the global average of Mixed_7c, the features FID uses; the
  logits are the fully connected layer on top (dropout is off at inference).
  Stateless: batch norm always uses the running statistics.
  """

  @nn.compact
  def __call__(self, x: jax.Array) -> tuple[jax.Array, jax.Array]:
    x = BasicConv(32, (3, 3), strides=(2, 2), name='Conv2d_1a_3x3')(x)
    x = BasicConv(32, (3, 3), name='Conv2d_2a_3x3')(x)
    x = BasicConv(64, (3, 3), padding=(1, 1), name='Conv2d_2b_3x3')(x)
    x = _max_pool_reduce(x)
    x = BasicConv(80, (1, 1), name='Conv2d_3b_1x1')(x)
    x = BasicConv(192, (3, 3), name='Conv2d_4a_3x3')(x)
    x = _max_pool_reduce(x)
    x = InceptionA(32, name='Mixed_5b')(x)
    x = InceptionA(64, name='Mixed_5c')(x)
    x = InceptionA(64, name='Mixed_5d')(x)
    x = InceptionB(name='Mixed_6a')(x)
    x = InceptionC(128, name='Mixed_6b')(x)
    x = InceptionC(160, name='Mixed_6c')(x)
    x = InceptionC(160, name='Mixed_6d')(x)
    x = InceptionC(192, name='Mixed_6e')(x)
    x = InceptionD(name='Mixed_7a')(x)
    x = InceptionE('avg', name='Mixed_7b')(x)
    x = InceptionE('max', name='Mixed_7c')(x)
    pool3 = jnp.mean(x, axis=(1, 2))
    logits = nn.Dense(NUM_LOGITS, precision=_PRECISION, name='fc')(pool3)
    return pool3, logits


def preprocess(images: jax.Array) -> jax.Array:
  """Images in [-1, 1], ``[n, h, w, 1 or 3]`` -> ``[n, 299, 299, 3]`` float32.

  Bilinear resizing as pytorch-fid's ``F.interpolate(mode='bilinear',
  align_corners=False)``: half-pixel centres, two taps, no antialiasing (which
  would change the result only when shrinking images larger than 299).
  pytorch-fid resizes [0, 1] images and then maps them to [-1, 1]; resizing
  first in [-1, 1] is the same, since bilinear weights sum to one. Grayscale
  images are repeated to three channels.
  """
  images = jnp.asarray(images, jnp.float32)
  n, height, width, channels = images.shape
  if channels not in (1, 3):
    raise ValueError(f'images must have 1 or 3 channels (NHWC), got shape '
                     f'{images.shape}')
  if (height, width) != (INPUT_SIZE, INPUT_SIZE):
    images = jax.image.resize(images, (n, INPUT_SIZE, INPUT_SIZE, channels),
                              'bilinear', antialias=False)
  return jnp.broadcast_to(images, (n, INPUT_SIZE, INPUT_SIZE, 3))


def fid_inception_apply(variables, images: jax.Array
                        ) -> tuple[jax.Array, jax.Array]:
  """:func:`preprocess` then :class:`FIDInceptionV3`: ``(pool3, logits)``."""
  return FIDInceptionV3().apply(variables, preprocess(images))


_apply_jit = jax.jit(fid_inception_apply)


class FIDInception:
  """Batched feature extractor: images in [-1, 1] -> ``(pool3, logits)``.

  Runs on the default device, or with each batch's rows split over the
  devices of ``data_parallel`` (a ``gan_jax.parallel.DataParallel``),
  ``batch_size`` images per jitted call. When there
  are more than ``batch_size`` images the last batch is zero-padded to full
  size, so one compiled program serves every call with the same image size.

  Note on the Inception Score: the reference implementation (Salimans et al.
  2016, openai/improved-gan) takes the softmax of ``pool3 @ fc.kernel``
  without the fc bias; subtract ``variables['params']['fc']['bias']`` from the
  logits to reproduce it exactly.
  """

  def __init__(self, variables: Mapping[str, Any], batch_size: int = 100,
               data_parallel=None):
    if batch_size < 1:
      raise ValueError(f'batch_size must be positive, got {batch_size}')
    self.variables = (jax.device_put(variables) if data_parallel is None
                      else data_parallel.replicate(variables))
    self.batch_size = batch_size
    self._data_parallel = data_parallel

  def __call__(self, images) -> tuple[np.ndarray, np.ndarray]:
    """Features of ``images`` (``[n, h, w, c]``, c 1 or 3, values in [-1, 1]).

    Returns:
      ``pool3`` ``[n, 2048]`` and ``logits`` ``[n, 1008]``, float32 numpy.
    """
    if not isinstance(images, jax.Array):
      images = np.asarray(images)
    if images.ndim != 4 or images.shape[-1] not in (1, 3):
      raise ValueError('images must be [n, height, width, 1 or 3], got shape '
                       f'{images.shape}')
    n = images.shape[0]
    if n == 0:
      return (np.zeros((0, POOL3_DIM), np.float32),
              np.zeros((0, NUM_LOGITS), np.float32))
    size = min(self.batch_size, n)
    outputs = []
    for start in range(0, n, size):
      batch = images[start:start + size]
      if batch.shape[0] < size:
        pad = size - batch.shape[0]
        batch = jnp.pad(jnp.asarray(batch), ((0, pad), (0, 0), (0, 0), (0, 0)))
      if self._data_parallel is None:
        outputs.append(jax.device_get(_apply_jit(self.variables, batch)))
      else:
        parallel = self._data_parallel
        outputs.append(tuple(
            parallel.get_rows(x, size) for x in _apply_jit(
                self.variables, parallel.put_rows(np.asarray(batch)))))
    pool3 = np.concatenate([p for p, _ in outputs])[:n]
    logits = np.concatenate([batch_logits for _, batch_logits in outputs])[:n]
    return pool3, logits


def make_fid_inception(params_path: str | os.PathLike | None,
                       batch_size: int = 100,
                       data_parallel=None) -> FIDInception:
  """The FID extractor with weights from ``params_path`` (.pth or .npz)."""
  return FIDInception(load_fid_inception_params(params_path), batch_size,
                      data_parallel)


def require_weights_path(path: str | os.PathLike | None) -> str:
  """Returns ``path`` as a string; ValueError when no weights path is set."""
  if path is None or not str(path):
    raise ValueError(
        'FID / Inception Score need the FID Inception weights: set '
        f'eval.inception_weights to the local path of {FID_WEIGHTS_FILE} '
        f'(pytorch-fid GitHub release: {FID_WEIGHTS_URL}) or of a .npz made '
        'from it by convert_fid_inception_weights')
  return os.fspath(path)


@functools.lru_cache(maxsize=1)
def _expected_shapes() -> dict[str, tuple[int, ...]]:
  """Flattened ``'collection/module/.../leaf'`` -> shape of the variables."""
  shapes = jax.eval_shape(
      FIDInceptionV3().init, jax.random.PRNGKey(0),
      jax.ShapeDtypeStruct((1, INPUT_SIZE, INPUT_SIZE, 3), jnp.float32))
  flat = traverse_util.flatten_dict(shapes, sep='/')
  return {key: tuple(value.shape) for key, value in flat.items()}


def _from_torch_state_dict(state_dict: Mapping[str, np.ndarray]
                           ) -> dict[str, np.ndarray]:
  """Renames and transposes pytorch-fid's state dict to flat Flax variables.

  Conv weights OIHW -> HWIO; batch norm weight / bias -> params scale / bias,
  running mean / var -> batch_stats mean / var; the fc weight ``[out, in]`` is
  transposed to a Dense kernel ``[in, out]``. ``num_batches_tracked`` (written
  by newer PyTorch) carries nothing at inference and is dropped.
  """
  flat = {}
  for key, value in state_dict.items():
    if key.count('.') < 1:
      flat[key] = value  # Reported as unexpected by _check_and_unflatten.
      continue
    *modules, layer, leaf = key.split('.')
    path = '/'.join([*modules, layer])
    if layer == 'conv' and leaf == 'weight' and value.ndim == 4:
      flat[f'params/{path}/kernel'] = value.transpose(2, 3, 1, 0)
    elif layer == 'bn' and leaf in ('weight', 'bias'):
      flat[f'params/{path}/{"scale" if leaf == "weight" else "bias"}'] = value
    elif layer == 'bn' and leaf in ('running_mean', 'running_var'):
      flat[f'batch_stats/{path}/{leaf[len("running_"):]}'] = value
    elif layer == 'bn' and leaf == 'num_batches_tracked':
      continue
    elif layer == 'fc' and not modules and leaf == 'weight' and value.ndim == 2:
      flat['params/fc/kernel'] = value.T
    elif layer == 'fc' and not modules and leaf == 'bias':
      flat['params/fc/bias'] = value
    else:
      flat[key] = value  # Dotted, so never expected: reported as unexpected.
  return flat


def _check_and_unflatten(flat: Mapping[str, np.ndarray], path: str):
  """Checks names and shapes against :class:`FIDInceptionV3`; nested dicts."""
  expected = _expected_shapes()
  missing = sorted(set(expected) - set(flat))
  unexpected = sorted(set(flat) - set(expected))
  wrong = sorted(k for k in set(flat) & set(expected)
                 if tuple(flat[k].shape) != expected[k])
  if missing or unexpected or wrong:
    def first(keys):
      return ', '.join(keys[:3]) + (f' (+{len(keys) - 3} more)'
                                    if len(keys) > 3 else '')
    problems = [f'{label}: {first(keys)}' for label, keys in (
        ('missing', missing), ('unexpected', unexpected),
        ('wrong shape', wrong)) if keys]
    raise ValueError(f'{path} does not hold the FID Inception weights '
                     f'({"; ".join(problems)}); {_WHERE_FROM}')
  return traverse_util.unflatten_dict(
      {k: jnp.asarray(v, jnp.float32) for k, v in flat.items()}, sep='/')


def _read_pth(path: str) -> dict[str, np.ndarray]:
  """Reads a PyTorch state dict as numpy arrays (needs torch)."""
  try:
    import torch  # pylint: disable=g-import-not-at-top
  except ImportError as error:
    raise ImportError(
        f'reading {path} (a PyTorch .pth file) needs torch: pip install torch '
        '--index-url https://download.pytorch.org/whl/cpu (the CPU build '
        'suffices), or load a .npz written once by '
        'convert_fid_inception_weights') from error
  state_dict = torch.load(path, map_location='cpu', weights_only=True)
  if not isinstance(state_dict, Mapping) or not all(
      isinstance(v, torch.Tensor) for v in state_dict.values()):
    raise ValueError(f'{path} is not a PyTorch state dict of tensors; '
                     f'{_WHERE_FROM}')
  return {k: v.detach().cpu().numpy() for k, v in state_dict.items()}


def load_fid_inception_params(path: str | os.PathLike | None):
  """Loads FID Inception variables from pytorch-fid's .pth or a converted .npz.

  Args:
    path: local path of pytorch-fid's ``pt_inception-2015-12-05-6726825d.pth``
      (needs torch to read) or of the ``.npz`` that
      :func:`convert_fid_inception_weights` writes (needs no torch).

  Returns:
    ``{'params': ..., 'batch_stats': ...}`` for :class:`FIDInceptionV3`.

  Raises:
    ValueError: no path, or a file that is not the FID Inception weights.
    FileNotFoundError: nothing at ``path``.
    ImportError: a .pth file and torch is not installed.
  """
  path = require_weights_path(path)
  if not os.path.isfile(path):
    raise FileNotFoundError(f'FID Inception weights not found at {path!r}; '
                            f'{_WHERE_FROM}')
  if path.endswith('.npz'):
    with np.load(path) as arrays:
      flat = {key: arrays[key] for key in arrays.files}
  else:
    flat = _from_torch_state_dict(_read_pth(path))
  return _check_and_unflatten(flat, path)


def save_fid_inception_params(variables: Mapping[str, Any],
                              npz_path: str | os.PathLike) -> None:
  """Writes FID Inception ``variables`` to ``npz_path``, one array a leaf."""
  flat = traverse_util.flatten_dict(variables, sep='/')
  np.savez(npz_path, **{k: np.asarray(v) for k, v in flat.items()})


def convert_fid_inception_weights(pth_path: str | os.PathLike,
                                  npz_path: str | os.PathLike) -> None:
  """Converts pytorch-fid's .pth weights to a .npz that loads without torch.

  Run once where torch is installed; afterwards point ``eval.inception_weights``
  at ``npz_path``.
  """
  save_fid_inception_params(load_fid_inception_params(pth_path), npz_path)
