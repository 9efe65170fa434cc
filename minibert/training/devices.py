"""Which Keras backend and devices a run trains on, in one line."""

import keras


def describe_devices() -> str:
    """The backend, its accelerators (or the CPU) and the dtype policy.

    Example:
    >>> describe_devices()  # doctest: +SKIP
    'backend jax on gpu:0 (NVIDIA H100 80GB HBM3), precision float32'
    """
    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        devices = [f"{device.platform}:{device.id} ({device.device_kind})" for device in jax.devices()]
    elif backend == "torch":
        import torch

        devices = [
            f"cuda:{index} ({torch.cuda.get_device_name(index)})"
            for index in range(torch.cuda.device_count())
        ] or ["cpu"]
    else:
        import tensorflow as tf

        devices = [device.name.removeprefix("/device:") for device in tf.config.list_logical_devices()]
        # TensorFlow always lists the CPU; name it only when nothing else is there.
        devices = [name for name in devices if not name.startswith("CPU")] or ["CPU:0"]
    policy = keras.mixed_precision.global_policy().name
    return f"backend {backend} on {', '.join(devices)}, precision {policy}"
