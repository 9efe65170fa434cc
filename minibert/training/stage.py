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
from minibert.training.callbacks import EpochTimer, StepLog
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


@dataclasses.dataclass
class StageResult:
    """A finished stage: every epoch's logs (restored ones too) and its points within epochs."""

    history: dict
    steps: list


def fit_stage(model, train, *, epochs, validation=None, checkpoint_dir=None, log_dir=None,
              callbacks=(), steps_per_epoch=None, best_weights=None,
              verbose="auto") -> StageResult:
    """Fits a compiled `model` on `train` for one stage, resuming from `checkpoint_dir`.

    Args:
        model: a compiled Keras model.
        train, validation: tf.data datasets (the pipeline shuffles, so fit does not).
        epochs: the stage's epochs, those a resumed run already trained included.
        checkpoint_dir: optional folder: every epoch is checkpointed there
            (`StageCheckpoint`), and a rerun resumes after the last one saved;
            a finished stage is restored, not trained again.
        log_dir: optional folder for the stage's TensorBoard event files.
        callbacks: the stage's own callbacks, run after the checkpoint's (so
            they see the epoch it resumes from) and before the step log.
        steps_per_epoch: for a stream of unknown length, or a repeated one
            validated every so many steps.
        best_weights: an optional `BestWeights`, run before the checkpoint,
            so that each checkpoint has the best weights' state of its epoch.

    Example:
    >>> import keras, numpy as np, tensorflow as tf
    >>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    >>> model.compile(optimizer="adam", loss="mse")
    >>> batches = tf.data.Dataset.from_tensor_slices((np.zeros((8, 2)), np.zeros((8, 1)))).batch(4)
    >>> result = fit_stage(model, batches, epochs=2, verbose=0)
    >>> sorted(result.history), len(result.history["seconds"])
    (['loss', 'seconds'], 2)
    """
    stage_callbacks = [EpochTimer()]  # first: the logs of every later callback have its seconds
    if best_weights is not None:
        stage_callbacks.append(best_weights)
    if log_dir is not None:
        stage_callbacks.append(TensorBoardLogs(log_dir))
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
            steps_per_epoch=steps_per_epoch, verbose=verbose, shuffle=False,
        )
    return StageResult(
        history=checkpoint.history if checkpoint is not None else history.history,
        steps=step_log.points,
    )
