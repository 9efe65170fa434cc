"""Which Keras backend and devices a run trains on, and the precision they call for."""

import dataclasses

import keras


@dataclasses.dataclass(frozen=True)
class Accelerator:
    """A GPU a run can train on: its name and CUDA compute capability (major, minor)."""

    name: str
    compute_capability: tuple[int, int] | None = None

    @property
    def has_bfloat16(self) -> bool:
        """NVIDIA's bfloat16 matrix units came with Ampere (compute capability 8.0)."""
        return self.compute_capability is not None and self.compute_capability >= (8, 0)


def _capability(value) -> tuple[int, int] | None:
    """`"8.0"`, `(8, 0)` or None, as the backends report it, as a tuple."""
    if value is None:
        return None
    if isinstance(value, str):
        value = value.split(".")
    return tuple(int(part) for part in value)[:2]


def find_accelerator() -> Accelerator | None:
    """The first GPU the Keras backend sees, or None on a CPU-only machine.

    Example:
    >>> find_accelerator()  # doctest: +SKIP
    Accelerator(name='NVIDIA H100 80GB HBM3', compute_capability=(9, 0))
    """
    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        gpus = [device for device in jax.devices() if device.platform == "gpu"]
        if gpus:
            capability = getattr(gpus[0], "compute_capability", None)
            return Accelerator(gpus[0].device_kind, _capability(capability))
    elif backend == "torch":
        import torch

        if torch.cuda.is_available():
            return Accelerator(torch.cuda.get_device_name(0), torch.cuda.get_device_capability(0))
    else:
        import tensorflow as tf

        gpus = tf.config.list_physical_devices("GPU")
        if gpus:
            details = tf.config.experimental.get_device_details(gpus[0])
            return Accelerator(details.get("device_name", gpus[0].name),
                               _capability(details.get("compute_capability")))
    return None


def resolve_precision(precision: str, accelerator: Accelerator | None) -> str:
    """The Keras dtype policy for `precision` ("auto" or a policy name) on `accelerator`.

    "auto" is mixed_bfloat16 on a GPU with bfloat16 units (its range is
    float32's: no loss scaling), mixed_float16 on an older GPU (Keras then
    scales the loss), and float32 on a CPU, where mixed_bfloat16 measured
    within noise of float32 (benchmarks/README.md).

    >>> resolve_precision("auto", Accelerator("NVIDIA A100-SXM4-40GB", (8, 0)))
    'mixed_bfloat16'
    >>> resolve_precision("auto", Accelerator("Tesla T4", (7, 5)))
    'mixed_float16'
    >>> resolve_precision("auto", None)
    'float32'
    """
    if precision != "auto":
        return precision
    if accelerator is None:
        return "float32"
    return "mixed_bfloat16" if accelerator.has_bfloat16 else "mixed_float16"


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
