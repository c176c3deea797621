"""Checkpoints of the train state with orbax-checkpoint's CheckpointManager."""

import orbax.checkpoint as ocp


class Checkpointer:
  """Saves the train state and data position; restores the latest ones.

  Saves are asynchronous (orbax writes in a background thread while training
  goes on); :meth:`close` waits for the last one to be complete.

  Args:
    directory: where the numbered checkpoint directories live.
    keep: how many of the latest checkpoints to keep.
  """

  def __init__(self, directory: str, keep: int):
    self._manager = ocp.CheckpointManager(
        directory,
        options=ocp.CheckpointManagerOptions(max_to_keep=keep, create=True))

  def steps(self) -> list[int]:
    """The steps that have a checkpoint, oldest first."""
    return sorted(self._manager.all_steps())

  def restore_latest(self, state, data_state: dict):
    """The latest saved train state and input-pipeline state.

    Returns ``(state, data_state)`` as given when there is no checkpoint;
    ``state`` gives the structure, shapes and dtypes to restore into.
    """
    step = self._manager.latest_step()
    if step is None:
      return state, data_state
    return self.restore(step, state)

  def restore(self, step: int, state):
    """The train state and input-pipeline state saved at ``step``.

    Raises:
      ValueError: there is no checkpoint of ``step`` (names the ones there).
    """
    if step not in self.steps():
      raise ValueError(f'no checkpoint of step {step}; checkpoints: '
                       f'{", ".join(map(str, self.steps())) or "none"}')
    restored = self._manager.restore(step, args=ocp.args.Composite(
        state=ocp.args.StandardRestore(state), data=ocp.args.JsonRestore()))
    return restored.state, restored.data

  def save(self, step: int, state, data_state: dict) -> None:
    """Saves the train state and the input pipeline's position (JSON)."""
    self._manager.save(step, args=ocp.args.Composite(
        state=ocp.args.StandardSave(state),
        data=ocp.args.JsonSave(data_state)))

  def close(self) -> None:
    self._manager.wait_until_finished()
    self._manager.close()
