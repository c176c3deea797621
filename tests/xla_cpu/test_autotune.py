"""gan_jax.xla_cpu.autotune: timing two implementations, keeping the answer,
and a run's own choices."""

import json

import jax
import jax.numpy as jnp
import pytest

from gan_jax.xla_cpu import autotune
from gan_jax.xla_cpu import compiler_options

_SHAPES = [jax.ShapeDtypeStruct((256, 256), jnp.float32)]


def _once(x):
  return x @ x


def _many_times(x):
  """The same product, recomputed 40 times: far slower than once."""
  def body(_, y):
    return y + x @ (x + 1e-9 * y)
  return jax.lax.fori_loop(0, 40, body, x @ x)


def _stored(key, options=None):
  """The key an answer is kept under: the question and the options it was
  timed with (a train step's default options unless given)."""
  options = compiler_options.compiler_options() if options is None else options
  return f'{key} options {json.dumps(options, sort_keys=True)}'


@pytest.fixture
def cache(tmp_path, monkeypatch):
  path = tmp_path / 'autotune.json'
  monkeypatch.setenv('GAN_JAX_AUTOTUNE_CACHE', str(path))
  monkeypatch.setattr(autotune, '_answers', {})
  return path


def test_the_clearly_faster_one_is_chosen_and_kept(cache):
  assert autotune.prefers_challenger('slow baseline', _many_times, _once,
                                     _SHAPES)
  assert not autotune.prefers_challenger('slow challenger', _once,
                                         _many_times, _SHAPES)
  stored = json.loads(cache.read_text())
  assert stored == {autotune.machine_key(): {_stored('slow baseline'): True,
                                             _stored('slow challenger'): False}}


def test_a_kept_answer_is_not_timed_again(cache, monkeypatch):
  autotune.prefers_challenger('layer', _many_times, _once, _SHAPES)
  monkeypatch.setattr(autotune, '_answers', {})  # A new process.

  def no_timing(*_):
    raise AssertionError('timed again')

  monkeypatch.setattr(autotune, '_time_both', no_timing)
  assert autotune.prefers_challenger('layer', _many_times, _once, _SHAPES)


def test_answers_of_another_machine_are_not_used(cache):
  cache.write_text(json.dumps({'another machine': {_stored('layer'): False}}))
  assert autotune.prefers_challenger('layer', _many_times, _once, _SHAPES)
  stored = json.loads(cache.read_text())
  assert stored['another machine'] == {_stored('layer'): False}
  assert stored[autotune.machine_key()] == {_stored('layer'): True}


def test_an_unreadable_cache_is_ignored_and_rewritten(cache):
  cache.write_text('{not json')
  assert autotune.prefers_challenger('layer', _many_times, _once, _SHAPES)
  assert json.loads(cache.read_text())[autotune.machine_key()] == {
      _stored('layer'): True}


def test_an_unwritable_cache_keeps_the_answer_in_memory(tmp_path,
                                                        monkeypatch):
  blocker = tmp_path / 'a file'
  blocker.write_text('')
  monkeypatch.setenv('GAN_JAX_AUTOTUNE_CACHE', str(blocker / 'autotune.json'))
  monkeypatch.setattr(autotune, '_answers', {})
  assert autotune.prefers_challenger('layer', _many_times, _once, _SHAPES)
  monkeypatch.setattr(autotune, '_time_both', None)  # Not timed again.
  assert autotune.prefers_challenger('layer', _many_times, _once, _SHAPES)


def test_it_can_be_asked_while_a_function_is_traced(cache):
  """The question comes up inside jit tracing (a custom VJP rule)."""
  @jax.jit
  def traced(x):
    faster = autotune.prefers_challenger('in a trace', _many_times, _once,
                                         _SHAPES)
    return x * (2.0 if faster else 3.0)

  assert float(traced(jnp.ones(()))) == 2.0


def test_each_set_of_compiler_options_is_timed_under_those_options(
    cache, monkeypatch):
  timed = []

  def time_both(baseline, challenger, shapes, options):
    del baseline, challenger, shapes
    timed.append(options)
    return 2.0, 1.0

  monkeypatch.setattr(autotune, '_time_both', time_both)
  xla = compiler_options.compiler_options(cpu_kernels='xla')
  ynn = compiler_options.compiler_options(cpu_kernels='ynn')
  for options in (xla, ynn, xla):
    assert autotune.prefers_challenger('layer', _many_times, _once, _SHAPES,
                                       options)
  assert timed == [xla, ynn]
  assert set(json.loads(cache.read_text())[autotune.machine_key()]) == {
      _stored('layer', xla), _stored('layer', ynn)}


def test_a_run_gets_its_pinned_answers_and_collects_every_answer(
    cache, monkeypatch):
  """Within for_run: a pinned answer wins over the cache and a forced mode
  (a resumed run computes as it did), the rest are decided as usual, and
  every answer given is collected for the run's record; outside, nothing
  is pinned."""
  options = compiler_options.compiler_options(cpu_kernels='xla')
  monkeypatch.setattr(autotune, '_time_both',
                      lambda *_: (2.0, 1.0))  # The challenger is faster.
  with autotune.for_run({'pinned layer': False}, options) as run:
    assert not autotune.decide('pinned layer', _many_times, _once, _SHAPES)
    assert not autotune.decide('pinned layer', _many_times, _once, _SHAPES,
                               forced=True)
    assert autotune.decide('new layer', _many_times, _once, _SHAPES)
    assert not autotune.decide('forced layer', _many_times, _once, _SHAPES,
                               forced=False)
  assert run.chosen == {'pinned layer': False, 'new layer': True,
                        'forced layer': False}
  assert set(json.loads(cache.read_text())[autotune.machine_key()]) == {
      _stored('new layer', options)}
  assert autotune.decide('pinned layer', _many_times, _once, _SHAPES)
