"""One training stage (mlm, frozen, unfrozen): what every stage has around its `fit`.

Every stage times its epochs (`seconds` in history.csv), writes TensorBoard
scalars when asked, checkpoints each epoch so that a killed run resumes
where it stopped, logs its loss every few batches (steps.csv), and takes a
SIGTERM at a batch's end. Only what
differs between stages (a time budget, fill-mask reports) is passed in.
"""

import dataclasses
import os

import keras

from minibert.termination import deferred, raise_if_terminated
from minibert.training.callbacks import BestWeights, EpochTimer, StepLog
from minibert.training.checkpoints import STEPS_FILE, StageCheckpoint
from minibert.training.tensorboard_logs import TensorBoardLogs


class TerminationPoint(keras.callbacks.Callback):
    """Raises a SIGTERM that arrived during the stage at the end of a batch, where it unwinds
    cleanly (`minibert.termination`); last, so the epoch's checkpoint is written first."""

    def on_train_batch_end(self, batch, logs=None):
        raise_if_terminated()

    def on_test_batch_end(self, batch, logs=None):
        raise_if_terminated()

    def on_predict_batch_end(self, batch, logs=None):
        raise_if_terminated()

    def on_epoch_end(self, epoch, logs=None):
        raise_if_terminated()


@dataclasses.dataclass(frozen=True)
class StageOutputs:
    """What a stage writes beside its model, and how loudly it trains.

    Attributes:
        checkpoint_dir: every epoch is checkpointed there (`StageCheckpoint`),
            and a rerun resumes after the last one saved; None: no resume.
        log_dir: the stage's TensorBoard event files; None: none.
        step_logs: a dict each stage adds its loss every few batches to,
            under its name (steps.csv); None: kept nowhere.
        verbose: Keras' `fit` verbosity.
        on_stage_end: `function(stage_name, model)` called after each
            fine-tuning stage, e.g. to save it; None: nothing.

    Example:
    >>> outputs = StageOutputs(checkpoint_dir="run/checkpoints", step_logs={})
    >>> outputs.stage("frozen").checkpoint_dir
    'run/checkpoints/frozen'
    """

    checkpoint_dir: str | None = None
    log_dir: str | None = None
    step_logs: dict | None = None
    verbose: str | int = "auto"
    on_stage_end: object = None

    def stage(self, name: str) -> "StageOutputs":
        """These outputs for the stage `name`: its checkpoints and logs in subfolders `name`."""
        return dataclasses.replace(
            self,
            checkpoint_dir=None if self.checkpoint_dir is None else os.path.join(
                self.checkpoint_dir, name),
            log_dir=None if self.log_dir is None else os.path.join(self.log_dir, name),
        )

    def record_steps(self, name: str, steps: list) -> None:
        """Keeps the stage `name`'s loss every few batches, where step logs are kept."""
        if self.step_logs is not None:
            self.step_logs[name] = steps


@dataclasses.dataclass
class StageResult:
    """A finished stage: every epoch's logs (restored ones too) and its points within epochs."""

    history: dict
    steps: list


def fit_stage(model, train, *, epochs, validation=None, outputs=StageOutputs(), callbacks=(),
              steps_per_epoch=None) -> StageResult:
    """Fits a compiled `model` on `train` for one stage, resuming from `checkpoint_dir`.

    Args:
        model: a compiled Keras model.
        train, validation: tf.data datasets (the pipeline shuffles, so fit does not).
        epochs: the stage's epochs, those a resumed run already trained included.
        outputs: its checkpoints (a finished stage is restored, not trained
            again), TensorBoard logs and verbosity (`StageOutputs`).
        callbacks: the stage's own callbacks, run after the checkpoint's (so
            they see the epoch it resumes from) and before the step log; but a
            `BestWeights`, run before the checkpoint, so that each checkpoint
            has the best weights' state of its epoch.
        steps_per_epoch: for a stream of unknown length, or a repeated one
            validated every so many steps.

    Example:
    >>> import keras, numpy as np, tensorflow as tf
    >>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    >>> model.compile(optimizer="adam", loss="mse")
    >>> batches = tf.data.Dataset.from_tensor_slices((np.zeros((8, 2)), np.zeros((8, 1)))).batch(4)
    >>> result = fit_stage(model, batches, epochs=2, outputs=StageOutputs(verbose=0))
    >>> sorted(result.history), len(result.history["seconds"])
    (['loss', 'seconds'], 2)
    """
    checkpoint_dir = outputs.checkpoint_dir
    best_weights = [callback for callback in callbacks if isinstance(callback, BestWeights)]
    callbacks = [callback for callback in callbacks if callback not in best_weights]
    # The epoch timer first: the logs of every later callback have its seconds.
    stage_callbacks = [EpochTimer(), *best_weights]
    if outputs.log_dir is not None:
        stage_callbacks.append(TensorBoardLogs(outputs.log_dir))
    checkpoint = StageCheckpoint(checkpoint_dir) if checkpoint_dir is not None else None
    if checkpoint is not None:
        stage_callbacks.append(checkpoint)
    step_log = StepLog(
        path=None if checkpoint_dir is None else os.path.join(checkpoint_dir, STEPS_FILE),
        checkpoint=checkpoint,
    )
    with deferred():
        history = model.fit(
            train, validation_data=validation, epochs=epochs,
            callbacks=[*stage_callbacks, *callbacks, step_log, TerminationPoint()],
            steps_per_epoch=steps_per_epoch, verbose=outputs.verbose, shuffle=False,
        )
    return StageResult(
        history=checkpoint.history if checkpoint is not None else history.history,
        steps=step_log.points,
    )
