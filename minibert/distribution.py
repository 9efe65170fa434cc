"""Data-parallel training on existing engines: one flag, one context.

    "none"           one device (the default)
    "mirrored"       tf.distribute.MirroredStrategy: every GPU of one host,
                     TensorFlow backend
    "data-parallel"  keras.distribution.DataParallel: every device JAX sees,
                     on one host or, after keras.distribution.initialize(),
                     on several

Each batch is split across the devices: `batch_size` is the global batch.
"""

import contextlib
import os

import keras
import numpy as np

DISTRIBUTIONS = ("none", "mirrored", "data-parallel")
# keras.distribution.initialize() reads these to join a multi-host JAX job.
_MULTI_HOST_VARIABLES = ("KERAS_DISTRIBUTION_JOB_ADDRESSES", "KERAS_DISTRIBUTION_NUM_PROCESSES")


@contextlib.contextmanager
def distribution_scope(name: str):
    """Builds, compiles and trains what runs inside it on `name`'s devices.

    Yields the number of devices each batch is split across.

    Example:
    >>> with distribution_scope("none") as num_devices:
    ...     num_devices
    1
    """
    if name == "none":
        yield 1
    elif name == "mirrored":
        _require_backend("tensorflow", name)
        import tensorflow as tf

        strategy = tf.distribute.MirroredStrategy()
        with strategy.scope():
            yield strategy.num_replicas_in_sync
    elif name == "data-parallel":
        _require_backend("jax", name)
        if all(variable in os.environ for variable in _MULTI_HOST_VARIABLES):
            keras.distribution.initialize()
        previous = keras.distribution.distribution()
        distribution = keras.distribution.DataParallel()
        keras.distribution.set_distribution(distribution)
        try:
            yield len(distribution.device_mesh.devices.flatten())
        finally:
            keras.distribution.set_distribution(previous)
    else:
        raise ValueError(f"distribute must be one of {DISTRIBUTIONS}, got {name!r}")


def _require_backend(backend, name):
    if keras.backend.backend() != backend:
        raise ValueError(
            f"--distribute {name} needs the {backend} backend (KERAS_BACKEND={backend}); "
            f"this process runs {keras.backend.backend()}"
        )


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
