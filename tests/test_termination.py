"""SIGTERM ends a command as Ctrl-C does, and never in the middle of a training step."""

import os
import signal

import keras
import numpy as np
import pytest
import tensorflow as tf

from minibert.termination import Terminated, deferred, sigterm_raises_terminated
from minibert.training.stage import StageOutputs, fit_stage


def test_a_sigterm_outside_training_raises_at_once():
    with sigterm_raises_terminated(), pytest.raises(Terminated):
        os.kill(os.getpid(), signal.SIGTERM)
        pytest.fail("SIGTERM did not interrupt")


def test_a_sigterm_inside_a_deferred_block_waits_for_its_end():
    reached = False
    with sigterm_raises_terminated(), pytest.raises(Terminated):
        with deferred():
            os.kill(os.getpid(), signal.SIGTERM)
            reached = True  # not interrupted here
    assert reached


def test_a_sigterm_during_a_stage_stops_it_at_the_end_of_that_batch():
    class SendSigtermAfterSecondBatch(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if batch == 1:
                os.kill(os.getpid(), signal.SIGTERM)

    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    batches = tf.data.Dataset.from_tensor_slices((np.zeros((8, 2)), np.zeros((8, 1)))).batch(2)
    with sigterm_raises_terminated(), pytest.raises(Terminated):
        fit_stage(model, batches, epochs=3, callbacks=[SendSigtermAfterSecondBatch()],
                  outputs=StageOutputs(verbose=0))
    assert int(model.optimizer.iterations.numpy()) == 2
