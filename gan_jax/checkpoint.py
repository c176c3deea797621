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

  def restore_latest(self, state, data_state: dict):
    """The latest saved train state and input-pipeline state.

    Returns ``(state, data_state)`` as given when there is no checkpoint;
    ``state`` gives the structure, shapes and dtypes to restore into.
    """
    step = self._manager.latest_step()
    if step is None:
      return state, data_state
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
