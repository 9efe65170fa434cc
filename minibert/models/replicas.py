"""What a model and its batches must know of the devices a training step is split across.

Under `--distribute` (`minibert.training.distribution`) each batch is split
across devices: its rows must be a multiple of their count, and a loss that
is a mean over the batch must sum over every replica's rows. These helpers
answer both on one device too (1, and the value itself), so the models and
pipelines call them unconditionally.
"""

import contextlib
import random

import keras
import numpy as np


def batch_multiple() -> int:
    """Rows each batch must be a multiple of: the devices it is split across.

    Keras' DataParallel cannot split a batch of 31 rows across 2 devices, and
    the masked LM's step fails on a MirroredStrategy's uneven replicas: the
    data pipelines pad such batches with zero-weight rows.
    """
    distribution = keras.distribution.distribution()
    if isinstance(distribution, keras.distribution.DataParallel):
        return int(np.prod(distribution.device_mesh.shape))
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        if tf.distribute.has_strategy():
            return tf.distribute.get_strategy().num_replicas_in_sync
    return 1


def process_rows() -> tuple[int, int]:
    """(this process's index, the number of processes) every batch's rows are divided among.

    In a multi-host JAX job each process feeds its devices its share of the
    global batch: the rows from index x share to (index + 1) x share.
    """
    distribution = keras.distribution.distribution()
    if isinstance(distribution, keras.distribution.DataParallel) and keras.backend.backend() == "jax":
        import jax

        return jax.process_index(), jax.process_count()
    return 0, 1


@contextlib.contextmanager
def on_this_process(model):
    """Yields `model`, or in a multi-host job a copy of it on this process's devices alone.

    Keras' `predict` cannot fetch outputs that lie on other processes'
    devices: predictions made during a multi-host run (the fill-mask report,
    the validation report) run on a copy of the (replicated) weights, with
    no distribution set inside the block, so batches are whole again. Every
    process computes the same predictions.
    """
    if process_rows()[1] == 1:
        yield model
        return
    from keras.src.random.seed_generator import global_seed_generator

    from minibert.models.serialization import inference_copy

    previous = keras.distribution.distribution()
    keras.distribution.set_distribution(None)
    # Building the copy draws seeds for its layers from Python's random
    # module and its (overwritten) initial weights from Keras' global seed:
    # put both back, or the layers built after it (the classifier's head)
    # start elsewhere than in a one-process run.
    python_state = random.getstate()
    seed_state = keras.ops.convert_to_numpy(global_seed_generator().state)
    try:
        yield inference_copy(model)
    finally:
        random.setstate(python_state)
        global_seed_generator().state.assign(seed_state)
        keras.distribution.set_distribution(previous)


def pad_rows(array: np.ndarray, multiple: int) -> np.ndarray:
    """`array` with all-zero rows appended up to a multiple of `multiple` rows.

    Example:
    >>> pad_rows(np.ones((3, 2), "int32"), 2).tolist()
    [[1, 1], [1, 1], [1, 1], [0, 0]]
    """
    extra = -len(array) % multiple
    return np.concatenate([array, np.zeros((extra, *array.shape[1:]), array.dtype)]) if extra else array


def _replica_context():
    """The tf.distribute replica context of a step split across replicas, else None."""
    if keras.backend.backend() != "tensorflow":
        return None
    import tensorflow as tf

    context = tf.distribute.get_replica_context()
    return context if context is not None and context.num_replicas_in_sync > 1 else None


def sum_over_replicas(value):
    """`value` summed over a tf.distribute step's replicas; `value` elsewhere.

    A JAX data-parallel step computes on the whole batch: nothing to sum.
    """
    context = _replica_context()
    return value if context is None else context.all_reduce("sum", value)


def num_replicas_in_step() -> int:
    """How many tf.distribute replicas share the step being traced (1 elsewhere)."""
    context = _replica_context()
    return 1 if context is None else context.num_replicas_in_sync


def weighted_mean(losses, weights=None):
    """sum(losses * weights) / sum(weights), the sums over every replica's batch.

    Under a tf.distribute strategy each replica returns its share of the
    global mean, and Keras sums the replicas' gradients: the result equals
    one device's on the whole batch, however the rows were split. Under JAX
    a data-parallel step already sees the whole batch.
    """
    weights = keras.ops.ones_like(losses) if weights is None else keras.ops.cast(weights, "float32")
    weights = keras.ops.reshape(weights, keras.ops.shape(losses))
    total_weight = sum_over_replicas(keras.ops.sum(weights))
    return keras.ops.sum(losses * weights) / keras.ops.maximum(total_weight, 1.0)
