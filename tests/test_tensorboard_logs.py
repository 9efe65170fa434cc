"""TensorBoard event files written by minibert.training.tensorboard_logs, read back as TensorBoard reads them."""

import keras
import numpy as np
import tensorflow as tf

from minibert.training.tensorboard_logs import TensorBoardLogs


def read_scalars(folder) -> dict:
    """{tag: [(step, value), ...]} of the scalars in a folder's event files."""
    scalars = {}
    for path in sorted(folder.glob("events.out.tfevents*")):
        for record in tf.data.TFRecordDataset(str(path)):
            event = tf.compat.v1.Event.FromString(record.numpy())
            for value in event.summary.value:
                # The plugin TensorBoard files the summary under: its scalar charts.
                assert value.metadata.plugin_data.plugin_name == "scalars"
                scalars.setdefault(value.tag, []).append(
                    (event.step, float(tf.make_ndarray(value.tensor)))
                )
    return scalars


def test_every_epochs_figures_are_scalars_in_train_and_validation_folders(tmp_path):
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="mse", metrics=["mae"])
    x, y = np.random.default_rng(0).normal(size=(8, 2)), np.ones((8, 1))
    history = model.fit(x, y, validation_data=(x, y), epochs=3, verbose=0,
                        callbacks=[TensorBoardLogs(tmp_path)]).history

    train, validation = read_scalars(tmp_path / "train"), read_scalars(tmp_path / "validation")
    assert set(train) == {"epoch_loss", "epoch_mae", "epoch_learning_rate"}
    assert set(validation) == {"epoch_loss", "epoch_mae"}
    assert [step for step, _ in train["epoch_loss"]] == [0, 1, 2]
    np.testing.assert_allclose([value for _, value in train["epoch_loss"]], history["loss"], rtol=1e-6)
    np.testing.assert_allclose([value for _, value in validation["epoch_mae"]], history["val_mae"],
                               rtol=1e-6)
    np.testing.assert_allclose([value for _, value in train["epoch_learning_rate"]], 0.01, rtol=1e-6)
