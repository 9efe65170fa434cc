"""TensorBoard event files of each epoch's figures, written without the tensorboard package.

`keras.callbacks.TensorBoard` writes its scalars with `tf.summary.scalar`,
which TensorFlow hands to the tensorboard package: without it installed
the callback fails at the first epoch's end ("TensorBoard is not
installed"). The event files themselves need only `tf.summary.write`, part
of TensorFlow, and a scalar is a float tensor tagged for TensorBoard's
scalars plugin. So training writes logs anywhere TensorFlow runs, under any
Keras backend, and only the machine that views them needs
`pip install tensorboard`.
"""

import os

import keras

# TensorBoard's scalars plugin reads summaries carrying this plugin name
# (tensorboard/plugins/scalar/metadata.py; its content, a version-0
# ScalarPluginData, serializes to no bytes).
SCALARS_PLUGIN = "scalars"


class TensorBoardLogs(keras.callbacks.Callback):
    """Writes every epoch's logs as TensorBoard scalars, laid out as Keras' callback does.

    `log_dir/train` gets `loss`, `accuracy`, `seconds`, `learning_rate`...; `log_dir/validation`
    gets the `val_` figures under the same names, so TensorBoard draws train
    and validation on one chart per figure (tags `epoch_loss`,
    `epoch_accuracy`, ...). The step is the epoch's index, so a resumed
    stage continues its curves. Put it after callbacks that add to the
    epoch's logs (`EpochTimer`).

    Args:
        log_dir: the stage's folder, e.g. `RUN/logs/frozen` (created as needed).

    Example:
    >>> import numpy as np, tempfile
    >>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    >>> model.compile(optimizer="adam", loss="mse")
    >>> folder = tempfile.mkdtemp()
    >>> _ = model.fit(np.zeros((4, 2)), np.zeros((4, 1)), validation_split=0.5, epochs=2,
    ...               callbacks=[TensorBoardLogs(folder)], verbose=0)
    >>> sorted(os.listdir(folder))
    ['train', 'validation']
    """

    def __init__(self, log_dir):
        super().__init__()
        self.log_dir = log_dir
        self._writers = {}

    def _writer(self, split):
        import tensorflow as tf  # the event-file writer; TensorFlow is always installed

        if split not in self._writers:
            self._writers[split] = tf.summary.create_file_writer(os.path.join(self.log_dir, split))
        return self._writers[split]

    def on_epoch_end(self, epoch, logs=None):
        import tensorflow as tf

        metadata = tf.compat.v1.SummaryMetadata()
        metadata.plugin_data.plugin_name = SCALARS_PLUGIN
        figures = dict(logs or {})
        optimizer = getattr(self.model, "optimizer", None)
        if optimizer is not None:
            # The rate the schedule reached, to see warmup and decay beside the loss.
            figures["learning_rate"] = keras.ops.convert_to_numpy(optimizer.learning_rate)
        for name, value in figures.items():
            split, figure = ("validation", name[4:]) if name.startswith("val_") else ("train", name)
            with self._writer(split).as_default():
                tf.summary.write(
                    f"epoch_{figure}", tf.constant(float(value), tf.float32), step=epoch,
                    metadata=metadata,
                )
        for writer in self._writers.values():
            writer.flush()  # readable while the run goes on

    def on_train_end(self, logs=None):
        for writer in self._writers.values():
            writer.close()
        self._writers = {}
