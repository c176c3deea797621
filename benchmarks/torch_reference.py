r"""PyTorch twins of gan_jax's benchmarked experiments, and pytorch-fid's FD.

What a researcher would otherwise run, written as a PyTorch user writes it
(NCHW tensors, eager mode, ``torch.optim.Adam`` with its defaults), so that
``benchmarks/run.py`` compares gan_jax with it on the same machine:

* the models: the ring8 MLPs, the DCGAN and the SN-GAN ResNet generator and
  critic, with exactly the layers and parameters of gan_jax's Flax models.
  Submodules carry the names of the Flax modules (``Dense_0``,
  ``GeneratorBlock_1.Conv_0``, ...), so :func:`load_flax_params` maps every
  parameter one to one (and fails if one is left over on either side); with
  gan_jax's initial parameters loaded, both compute the same function
  (tests/test_torch_reference.py checks both).
* the train step of :func:`gan_jax.train.make_train_step`
  (:class:`TorchGan`): ``n_critic`` critic updates, each on its own real
  batch and on fakes of fresh latents made without gradient (batch norm in
  training mode, its running statistics updated), real and fake batches
  through the critic in separate calls (separate batch statistics), then one
  generator update on fresh latents; the critic's loss and the generator's
  loss of ``losses.LOSSES`` (non-saturating and hinge); Adam with the
  config's learning rates, b1, b2 and eps 1e-8 for each player; gradients
  only for the player being updated (``torch.autograd.grad``).
* the ``spectral_norm`` trick (:class:`SpectralNorm`): every critic weight of
  two or more dimensions used as W / σ(W), σ from one power iteration per
  critic update from the stored vector u, gradient through σ with u and v
  held fixed; the generator update runs one more iteration from the same u
  and keeps nothing, as gan_jax's trick does.
* the Fréchet distance of pytorch-fid (:func:`reference_frechet_distance`):
  NumPy mean and covariance, ``scipy.linalg.sqrtm`` of Σa Σb.

Not identical, by design or as a cost too small to matter:

* random numbers: latents and ring samples come from torch's generator, not
  from jax.random; the draws differ, their distributions do not.
* gan_jax's step also computes what training logs (losses, mean critic
  outputs, parameter and update norms) and checks the gradients are finite
  (``optax.apply_if_finite``); the twin computes only the losses it
  differentiates.
* in the generator update the twin's critic, in training mode, updates its
  batch-norm running statistics (unused in training); gan_jax discards
  them. Running variances are unbiased in torch, biased in Flax.
* the DCGAN's transposed convolutions are ``nn.ConvTranspose2d``; gan_jax on
  CPU computes the same function as one 2×2 convolution of its four output
  phases (``gan_jax.models.upsampling``).
* gan_jax fuses ``steps_per_call`` steps into one compiled call; the twin
  dispatches every operation from Python.
"""

import dataclasses
from typing import Callable, NamedTuple

import flax
import jax
import ml_collections
import numpy as np
import scipy.linalg
import torch
from torch import nn
from torch.nn import functional as F

from gan_jax import data
from gan_jax import models
from gan_jax import train

Tensor = torch.Tensor


# --- Layers whose flattening order differs from Flax's NHWC one.


class LinearToMap(nn.Linear):
  """A dense layer whose output is viewed as a ``[c, h, w]`` map; Flax views
  the same units as ``[h, w, c]`` (:func:`load_flax_params` reorders)."""

  def __init__(self, in_features: int, hwc: tuple[int, int, int],
               bias: bool = True):
    super().__init__(in_features, int(np.prod(hwc)), bias=bias)
    self.hwc = hwc

  def forward(self, x: Tensor) -> Tensor:
    height, width, channels = self.hwc
    return super().forward(x).view(-1, channels, height, width)


class LinearFromMap(nn.Linear):
  """A dense layer on a flattened ``[c, h, w]`` map; Flax flattens the same
  map as ``[h, w, c]`` (:func:`load_flax_params` reorders)."""

  def __init__(self, hwc: tuple[int, int, int], out_features: int):
    super().__init__(int(np.prod(hwc)), out_features)
    self.hwc = hwc

  def forward(self, x: Tensor) -> Tensor:
    return super().forward(x.flatten(1))


class ProjectionLogits(nn.Module):
  """gan_jax's unconditional ``ProjectionLogits``: one dense unit."""

  def __init__(self, dense: nn.Linear):
    super().__init__()
    self.Dense_0 = dense

  def forward(self, features: Tensor) -> Tensor:
    return self.Dense_0(features)[:, 0]


def _add(module: nn.Module, name: str, layer: nn.Module) -> nn.Module:
  module.add_module(name, layer)
  return layer


# --- The models.


class MLPGenerator(nn.Module):
  """``gan_jax.models.MLPGenerator`` (ReLU, no normalisation, no dropout)."""

  def __init__(self, latent_dim: int, output_dim: int, width: int,
               depth: int):
    super().__init__()
    sizes = [latent_dim] + [width] * depth
    self.hidden = [_add(self, f'Dense_{i}', nn.Linear(sizes[i], width))
                   for i in range(depth)]
    self.out = _add(self, f'Dense_{depth}', nn.Linear(width, output_dim))

  def forward(self, z: Tensor) -> Tensor:
    for dense in self.hidden:
      z = F.relu(dense(z))
    return self.out(z)


class MLPCritic(nn.Module):
  """``gan_jax.models.MLPCritic`` (ReLU, no normalisation); logits only."""

  def __init__(self, input_dim: int, width: int, depth: int):
    super().__init__()
    sizes = [input_dim] + [width] * depth
    self.hidden = [_add(self, f'Dense_{i}', nn.Linear(sizes[i], width))
                   for i in range(depth)]
    self.out = _add(self, f'Dense_{depth}', nn.Linear(width, 1))

  def forward(self, x: Tensor) -> Tensor:
    for dense in self.hidden:
      x = F.relu(dense(x))
    return self.out(x)[:, 0]


class DCGANGenerator(nn.Module):
  """``gan_jax.models.DCGANGenerator`` with batch norm and 4×4 stride-2
  transposed convolutions."""

  def __init__(self, latent_dim: int, output_shape: tuple[int, int, int],
               width: int):
    super().__init__()
    size, _, channels = output_shape
    doublings = int(np.log2(size // 4))
    features = width * 2 ** (doublings - 1)
    self.Dense_0 = LinearToMap(latent_dim, (4, 4, features), bias=False)
    self.norms = [_add(self, 'BatchNorm_0', nn.BatchNorm2d(features))]
    self.ups = []
    for index in range(doublings - 1):
      self.ups.append(_add(self, f'Upsample_{index}', nn.ConvTranspose2d(
          features, features // 2, 4, stride=2, padding=1, bias=False)))
      features //= 2
      self.norms.append(_add(self, f'BatchNorm_{index + 1}',
                             nn.BatchNorm2d(features)))
    self.out = _add(self, f'Upsample_{doublings - 1}', nn.ConvTranspose2d(
        features, channels, 4, stride=2, padding=1))

  def forward(self, z: Tensor) -> Tensor:
    h = F.relu(self.norms[0](self.Dense_0(z)))
    for up, norm in zip(self.ups, self.norms[1:]):
      h = F.relu(norm(up(h)))
    return torch.tanh(self.out(h))


class DCGANCritic(nn.Module):
  """``gan_jax.models.DCGANCritic`` with batch norm, LeakyReLU(0.2)."""

  def __init__(self, input_shape: tuple[int, int, int], width: int):
    super().__init__()
    size, _, channels = input_shape
    doublings = int(np.log2(size // 4))
    self.convs, self.norms = [], [None]
    features = width
    for index in range(doublings):
      self.convs.append(_add(self, f'Conv_{index}', nn.Conv2d(
          channels, features, 4, stride=2, padding=1, bias=not index)))
      if index:
        self.norms.append(_add(self, f'BatchNorm_{index - 1}',
                               nn.BatchNorm2d(features)))
      channels, features = features, features * 2
    self.ProjectionLogits_0 = ProjectionLogits(
        LinearFromMap((4, 4, channels), 1))

  def forward(self, x: Tensor) -> Tensor:
    for conv, norm in zip(self.convs, self.norms):
      x = conv(x)
      x = F.leaky_relu(norm(x) if norm else x, 0.2)
    return self.ProjectionLogits_0(x)


def _double(x: Tensor) -> Tensor:
  return F.interpolate(x, scale_factor=2, mode='nearest')


class GeneratorBlock(nn.Module):
  """gan_jax's SN-GAN residual up-block."""

  def __init__(self, features: int):
    super().__init__()
    self.BatchNorm_0 = nn.BatchNorm2d(features)
    self.Conv_0 = nn.Conv2d(features, features, 3, padding=1, bias=False)
    self.BatchNorm_1 = nn.BatchNorm2d(features)
    self.Conv_1 = nn.Conv2d(features, features, 3, padding=1)
    self.Conv_2 = nn.Conv2d(features, features, 1)

  def forward(self, x: Tensor) -> Tensor:
    h = self.Conv_0(_double(F.relu(self.BatchNorm_0(x))))
    h = self.Conv_1(F.relu(self.BatchNorm_1(h)))
    return h + self.Conv_2(_double(x))


class CriticBlock(nn.Module):
  """gan_jax's SN-GAN residual critic block (``first``: the optimised one)."""

  def __init__(self, in_features: int, features: int, downsample: bool,
               first: bool):
    super().__init__()
    self.downsample, self.first = downsample, first
    self.Conv_0 = nn.Conv2d(in_features, features, 3, padding=1)
    self.Conv_1 = nn.Conv2d(features, features, 3, padding=1)
    self.Conv_2 = (nn.Conv2d(in_features, features, 1)  # The shortcut's.
                   if first or downsample or in_features != features
                   else None)

  def _pool(self, x: Tensor) -> Tensor:
    return F.avg_pool2d(x, 2) if self.downsample else x

  def forward(self, x: Tensor) -> Tensor:
    h = self.Conv_0(x if self.first else F.relu(x))
    h = self._pool(self.Conv_1(F.relu(h)))
    if self.first:
      return h + self.Conv_2(self._pool(x))
    if self.Conv_2 is not None:
      return h + self._pool(self.Conv_2(x))
    return h + x


class SNGANResNetGenerator(nn.Module):
  """``gan_jax.models.SNGANResNetGenerator`` with batch norm."""

  def __init__(self, latent_dim: int, output_shape: tuple[int, int, int],
               width: int):
    super().__init__()
    size, _, channels = output_shape
    self.Dense_0 = LinearToMap(latent_dim, (4, 4, width))
    self.blocks = [_add(self, f'GeneratorBlock_{i}', GeneratorBlock(width))
                   for i in range(int(np.log2(size // 4)))]
    self.BatchNorm_0 = nn.BatchNorm2d(width)
    self.Conv_0 = nn.Conv2d(width, channels, 3, padding=1)

  def forward(self, z: Tensor) -> Tensor:
    h = self.Dense_0(z)
    for block in self.blocks:
      h = block(h)
    return torch.tanh(self.Conv_0(F.relu(self.BatchNorm_0(h))))


class SNGANResNetCritic(nn.Module):
  """``gan_jax.models.SNGANResNetCritic``: down-blocks to 8×8, two plain
  blocks, ReLU, global sum pooling, dense."""

  def __init__(self, input_shape: tuple[int, int, int], width: int):
    super().__init__()
    size, _, channels = input_shape
    num_down = int(np.log2(size // 8))
    self.blocks = []
    for index in range(num_down + 2):
      self.blocks.append(_add(self, f'CriticBlock_{index}', CriticBlock(
          channels, width, downsample=index < num_down, first=index == 0)))
      channels = width
    self.ProjectionLogits_0 = ProjectionLogits(nn.Linear(width, 1))

  def forward(self, x: Tensor) -> Tensor:
    for block in self.blocks:
      x = block(x)
    return self.ProjectionLogits_0(F.relu(x).sum(dim=(2, 3)))


# The twins and the gan_jax constructor fields they read; every other field
# must have the Flax class's default (which is what the twin implements).
_GENERATORS = {
    models.MLPGenerator: (
        lambda m, latent: MLPGenerator(latent, int(np.prod(m.output_shape)),
                                       m.width, m.depth),
        ('output_shape', 'width', 'depth')),
    models.DCGANGenerator: (
        lambda m, latent: DCGANGenerator(latent, m.output_shape, m.width),
        ('output_shape', 'width')),
    models.SNGANResNetGenerator: (
        lambda m, latent: SNGANResNetGenerator(latent, m.output_shape,
                                               m.width),
        ('output_shape', 'width')),
}
_CRITICS = {
    models.MLPCritic: (
        lambda m, shape: MLPCritic(int(np.prod(shape)), m.width, m.depth),
        ('width', 'depth')),
    models.DCGANCritic: (lambda m, shape: DCGANCritic(shape, m.width),
                         ('width',)),
    models.SNGANResNetCritic: (
        lambda m, shape: SNGANResNetCritic(shape, m.width), ('width',)),
}
_BOOKKEEPING_FIELDS = ('parent', 'name', 'batch_axis')


def _twin(registry: dict, module: flax.linen.Module, *args) -> nn.Module:
  kind = type(module)
  if kind not in registry:
    raise ValueError(f'no PyTorch twin of {kind.__name__}; allowed: '
                     f'{", ".join(sorted(k.__name__ for k in registry))}')
  make, read = registry[kind]
  for field in dataclasses.fields(module):
    if field.name in read + _BOOKKEEPING_FIELDS:
      continue
    if getattr(module, field.name) != field.default:
      raise ValueError(
          f'the PyTorch twin of {kind.__name__} implements only '
          f'{field.name}={field.default!r}, not '
          f'{getattr(module, field.name)!r}')
  return make(module, *args)


# --- Parameters.


def count_parameters(model) -> int:
  """Trainable parameters of a torch module or of a Flax ``params`` tree."""
  if isinstance(model, nn.Module):
    return sum(p.numel() for p in model.parameters())
  return sum(int(np.size(leaf)) for leaf in jax.tree.leaves(model))


def _to_torch_layout(layer: nn.Module, leaf: str,
                     value: np.ndarray) -> np.ndarray:
  """A Flax parameter ``leaf`` of ``layer``'s counterpart in torch's layout."""
  if leaf == 'kernel' and isinstance(layer, nn.ConvTranspose2d):
    # lax.conv_transpose does not flip the kernel; torch's transposed
    # convolution (the gradient of a convolution) does.
    return np.flip(value, (0, 1)).transpose(2, 3, 0, 1)
  if leaf == 'kernel' and isinstance(layer, nn.Conv2d):
    return value.transpose(3, 2, 0, 1)  # HWIO -> OIHW.
  if leaf == 'kernel':
    value = value.T  # [in, out] -> [out, in].
  if isinstance(layer, LinearToMap):  # Output units (h, w, c) -> (c, h, w).
    rest = value.shape[1:]
    return np.moveaxis(value.reshape(*layer.hwc, *rest), 2, 0).reshape(
        value.shape)
  if leaf == 'kernel' and isinstance(layer, LinearFromMap):
    out = value.shape[0]  # Input units (h, w, c) -> (c, h, w).
    return np.moveaxis(value.reshape(out, *layer.hwc), 3, 1).reshape(out, -1)
  return value


def torch_name(flax_path: str) -> str:
  """``'Block_0/Conv_1/kernel'`` -> ``'Block_0.Conv_1.weight'``."""
  *modules, leaf = flax_path.split('/')
  return '.'.join(modules + [{'kernel': 'weight', 'scale': 'weight'}.get(
      leaf, leaf)])


def load_flax_params(module: nn.Module, params) -> None:
  """Copies a Flax ``params`` tree of gan_jax into its twin ``module``.

  Raises:
    ValueError: a parameter has no counterpart of the same size on the
      other side.
  """
  flat = flax.traverse_util.flatten_dict(flax.core.unfreeze(params), sep='/')
  own = dict(module.named_parameters())
  names = {torch_name(path): path for path in flat}
  if set(names) != set(own):
    raise ValueError(
        f'parameters differ: only in Flax {sorted(set(names) - set(own))}, '
        f'only in torch {sorted(set(own) - set(names))}')
  with torch.no_grad():
    for name, path in names.items():
      layer = module.get_submodule(name.rpartition('.')[0])
      value = _to_torch_layout(layer, path.rpartition('/')[2],
                               np.asarray(flat[path]))
      if value.shape != tuple(own[name].shape):
        raise ValueError(f'{path}: Flax {value.shape} in torch layout, '
                         f'torch {tuple(own[name].shape)}')
      own[name].copy_(torch.tensor(value.copy()))


# --- The spectral_norm trick.


def _normalize(x: Tensor) -> Tensor:
  return x / (torch.linalg.vector_norm(x) + 1e-12)


class SpectralNorm:
  """gan_jax's ``spectral_norm`` trick (one power iteration) for a critic.

  Every critic parameter of two or more dimensions, as a matrix
  ``[out_features, fan_in]`` (the transpose of gan_jax's ``[fan_in,
  out_features]``: the same singular values), is divided by σ estimated
  from its vector ``u`` (``[out_features]``, like gan_jax's). Used through
  ``torch.func.functional_call``, so the critic module stays a plain one.

  Args:
    critic: the critic module.
    u: the initial vectors by torch parameter name (e.g. gan_jax's trick
      state, see :meth:`TorchGan.load`); random unit vectors if None.
  """

  def __init__(self, critic: nn.Module, u: dict[str, Tensor] | None = None):
    self._critic = critic
    self.u = u or {
        name: _normalize(torch.randn(p.shape[0], device=p.device))
        for name, p in critic.named_parameters() if p.ndim >= 2}

  def params(self, advance: bool) -> dict[str, Tensor]:
    """The critic's parameters with its weights normalised; ``advance``
    keeps the iterated vectors (critic updates), else they are dropped."""
    params = dict(self._critic.named_parameters())
    new_u = {}
    for name, u in self.u.items():
      weight = params[name]
      matrix = weight.reshape(weight.shape[0], -1)
      with torch.no_grad():
        v = _normalize(matrix.T @ u)
        new_u[name] = _normalize(matrix @ v)
      params[name] = weight / (new_u[name] @ matrix @ v)
    if advance:
      self.u = new_u
    return params


# --- Objectives (gan_jax.losses, real target 1).


class Loss(NamedTuple):
  critic: Callable[[Tensor, Tensor], Tensor]
  generator: Callable[[Tensor], Tensor]


LOSSES = {
    'non_saturating': Loss(
        lambda real, fake: F.softplus(-real).mean() + F.softplus(fake).mean(),
        lambda fake: F.softplus(-fake).mean()),
    'hinge': Loss(
        lambda real, fake: F.relu(1 - real).mean() + F.relu(1 + fake).mean(),
        lambda fake: -fake.mean()),
}


# --- The experiment and its train step.


class TorchGan:
  """The PyTorch twin of a gan_jax experiment (see the module docstring).

  Built by :func:`build`. ``step(real)`` is one train step: ``real`` is a
  ``[n_critic, batch, ...]`` tensor of real batches (NCHW images), or None
  to draw them from the experiment's Gaussian mixture as gan_jax does on
  device.
  """

  def __init__(self, generator: nn.Module, critic: nn.Module, loss: Loss,
               config: ml_collections.ConfigDict, gan: train.Gan,
               device: torch.device, seed: int):
    self.generator = generator.to(device).train()
    self.critic = critic.to(device).train()
    self.loss = loss
    self.spectral_norm = (SpectralNorm(self.critic)
                          if config.tricks == 'spectral_norm' else None)
    self.n_critic = gan.n_critic
    self.batch_size = gan.batch_size
    self.latent_dim = gan.latent_dim
    self.device = device
    self.rng = torch.Generator(device).manual_seed(seed)
    adam = lambda module, lr: torch.optim.Adam(
        module.parameters(), lr, betas=(config.optim.b1, config.optim.b2),
        eps=1e-8)
    self.g_optimizer = adam(self.generator, config.optim.g_lr)
    self.d_optimizer = adam(self.critic, config.optim.d_lr)
    self.mixture = (gan.dataset if data.is_on_device(gan.dataset) else None)
    # On the device once: a copy from host memory at every step would make
    # each CUDA step wait for the queue to drain.
    self.centers = (torch.as_tensor(self.mixture.centers, device=device)
                    if self.mixture else None)

  def load(self, state: train.TrainState) -> None:
    """Takes gan_jax's parameters (and spectral-norm vectors) from
    ``state``, a single-run train state."""
    load_flax_params(self.generator, state.generator.params)
    load_flax_params(self.critic, state.critic.params)
    if self.spectral_norm:
      trick_state, = state.tricks
      self.spectral_norm.u = {
          torch_name(path): torch.tensor(np.asarray(u), device=self.device)
          for path, u in trick_state.u.items()}

  def _latents(self) -> Tensor:
    return torch.randn(self.batch_size, self.latent_dim, device=self.device,
                       generator=self.rng)

  def _sample_mixture(self) -> Tensor:
    """``[n_critic, batch, dim]`` points of the mixture (one mode each,
    uniformly, plus isotropic noise)."""
    centers = self.centers
    count = self.n_critic * self.batch_size
    modes = torch.randint(len(centers), (count,), device=self.device,
                          generator=self.rng)
    noise = torch.randn(count, centers.shape[1], device=self.device,
                        generator=self.rng)
    points = centers[modes] + self.mixture.std * noise
    return points.view(self.n_critic, self.batch_size, -1)

  def critic_logits(self, params: dict[str, Tensor] | None,
                    x: Tensor) -> Tensor:
    """The critic's logits on ``x`` with ``params`` (:meth:`critic_params`)."""
    if params is None:
      return self.critic(x)
    return torch.func.functional_call(self.critic, params, (x,))

  def critic_params(self, advance: bool) -> dict[str, Tensor] | None:
    """The critic's parameters as used (spectrally normalised, the vectors
    kept if ``advance``); None without the trick: the module's own."""
    return self.spectral_norm.params(advance) if self.spectral_norm else None

  @staticmethod
  def _update(optimizer: torch.optim.Optimizer, loss: Tensor) -> None:
    params = [p for group in optimizer.param_groups for p in group['params']]
    for param, grad in zip(params, torch.autograd.grad(loss, params)):
      param.grad = grad
    optimizer.step()

  def step(self, real: Tensor | None = None) -> None:
    if real is None:
      real = self._sample_mixture()
    for index in range(self.n_critic):
      with torch.no_grad():
        fake = self.generator(self._latents())
      params = self.critic_params(advance=True)
      self._update(self.d_optimizer, self.loss.critic(
          self.critic_logits(params, real[index]),
          self.critic_logits(params, fake)))
    fake = self.generator(self._latents())
    self._update(self.g_optimizer, self.loss.generator(
        self.critic_logits(self.critic_params(advance=False), fake)))


def build(config: ml_collections.ConfigDict, gan: train.Gan,
          device: torch.device | str = 'cpu', seed: int = 0) -> TorchGan:
  """The PyTorch twin of the experiment ``config`` (built as ``gan``).

  Raises:
    ValueError: something the twins do not implement (a model family or
      option, a loss, a trick other than ``spectral_norm``, conditioning).
  """
  if config.loss not in LOSSES:
    raise ValueError(f'no PyTorch twin of loss {config.loss!r}; allowed: '
                     f'{", ".join(sorted(LOSSES))}')
  if config.tricks not in ('', 'spectral_norm'):
    raise ValueError(f'no PyTorch twin of tricks {config.tricks!r}; allowed: '
                     "'', spectral_norm")
  if (config.tricks and
      config.trick_args.spectral_norm.n_power_iterations != 1):
    raise ValueError('the PyTorch spectral norm does one power iteration')
  if gan.num_classes:
    raise ValueError('no PyTorch twin of conditional models')
  generator = _twin(_GENERATORS, gan.generator, gan.latent_dim)
  critic = _twin(_CRITICS, gan.critic, gan.dataset.sample_shape)
  return TorchGan(generator, critic, LOSSES[config.loss], config, gan,
                  torch.device(device), seed)


# --- Fréchet distance, pytorch-fid's way.


def reference_frechet_distance(features_a: np.ndarray,
                               features_b: np.ndarray,
                               eps: float = 1e-6) -> float:
  """The Fréchet distance of two feature sets as pytorch-fid computes it.

  The features in float64, as pytorch-fid's activation array is; mean and
  covariance with ``np.mean`` / ``np.cov``, then
  ‖μa − μb‖² + Tr Σa + Tr Σb − 2 Tr sqrtm(Σa Σb) with
  ``scipy.linalg.sqrtm`` of the non-symmetric product; if that is not
  finite, ``eps`` is added to both diagonals and it is tried again; an
  imaginary part of the root is dropped (an error if its diagonal has one
  above 1e-3).
  """
  features_a = np.asarray(features_a, np.float64)
  features_b = np.asarray(features_b, np.float64)
  mu_a, mu_b = np.mean(features_a, axis=0), np.mean(features_b, axis=0)
  sigma_a = np.cov(features_a, rowvar=False)
  sigma_b = np.cov(features_b, rowvar=False)
  root = scipy.linalg.sqrtm(sigma_a @ sigma_b)
  if not np.isfinite(root).all():
    offset = eps * np.eye(len(sigma_a))
    root = scipy.linalg.sqrtm((sigma_a + offset) @ (sigma_b + offset))
  if np.iscomplexobj(root):
    imaginary = np.abs(np.diagonal(root).imag).max()
    if imaginary > 1e-3:
      raise ValueError(f'imaginary component {imaginary} in sqrtm')
    root = root.real
  diff = mu_a - mu_b
  return float(diff @ diff + np.trace(sigma_a) + np.trace(sigma_b)
               - 2 * np.trace(root))
