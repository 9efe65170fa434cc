"""Data-parallel training on existing engines: one flag, one context.

    "none"           one device (the default)
    "mirrored"       tf.distribute.MirroredStrategy: every GPU of one host,
                     TensorFlow backend
    "data-parallel"  keras.distribution.DataParallel: every device JAX sees,
                     on one host or, after keras.distribution.initialize(),
                     on several

Each batch is split across the devices: `batch_size` is the global batch. What
the models and their input pipelines must know of that split (rows padded to a
multiple of the devices, losses summed over replicas) is in
`minibert.models.replicas`.
"""

import contextlib
import os

import keras

from minibert.config import DISTRIBUTIONS

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
        multi_host = is_multi_host(name)
        if multi_host:
            _join_job()
        previous = keras.distribution.distribution()
        # Each process of a multi-host job cuts its own rows out of every
        # global batch (minibert.models.replicas.process_rows): the batches'
        # widths vary, which Keras' own sharding (a fixed batch size) cannot take.
        distribution = keras.distribution.DataParallel(auto_shard_dataset=not multi_host)
        keras.distribution.set_distribution(distribution)
        try:
            yield len(distribution.device_mesh.devices.flatten())
        finally:
            keras.distribution.set_distribution(previous)
    else:
        raise ValueError(f"distribute must be one of {DISTRIBUTIONS}, got {name!r}")


def is_multi_host(name: str) -> bool:
    """Whether `--distribute name` joins a multi-host JAX job (KERAS_DISTRIBUTION_* are set)."""
    return name == "data-parallel" and all(variable in os.environ for variable in _MULTI_HOST_VARIABLES)


def coordinating_process_id(name: str) -> int:
    """This process's id in a multi-host job (0, the coordinator, writes the run); 0 elsewhere."""
    return int(os.environ.get("KERAS_DISTRIBUTION_PROCESS_ID", 0)) if is_multi_host(name) else 0


def _join_job() -> None:
    """keras.distribution.initialize() once per process: JAX joins a job only once."""
    if not getattr(_join_job, "joined", False):
        keras.distribution.initialize()
        _join_job.joined = True


def _require_backend(backend, name):
    if keras.backend.backend() != backend:
        raise ValueError(
            f"--distribute {name} needs the {backend} backend (KERAS_BACKEND={backend}); "
            f"this process runs {keras.backend.backend()}"
        )
