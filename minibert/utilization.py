"""Model FLOPs utilization: a training step's matrix FLOPs over the device's peak.

A step's FLOPs are counted from the model's shape, not measured: the matrix
products of the forward pass, times 3 for the backward pass (one product for
the inputs' gradient, one for the weights'), as in PaLM's appendix B and
Megatron's MFU. Embedding lookups, softmaxes, norms and the optimizer are
left out: they are memory-bound and a few percent of the total. The peaks are
dense (no sparsity) tensor-core figures from NVIDIA's data sheets; a device
not listed needs `--peak-tflops`.
"""

import dataclasses
import re

from minibert.config import ModelConfig
from minibert.data.masking import max_predictions_for

PEAK_SOURCE = "NVIDIA data sheets, dense (no sparsity) tensor-core TFLOPS"


@dataclasses.dataclass(frozen=True)
class Peak:
    """One device's peak TFLOPS by compute dtype (None: the device has no such units)."""

    bfloat16: float | None
    float16: float | None
    float32: float


# Matched against the device's name in order, as whole words: more specific first
# ("H100 PCIe" before "H100", "A100" before "A10", "L40S" before "L4").
PEAK_TFLOPS = (
    ("H200", Peak(989.4, 989.4, 66.9)),
    ("H100 PCIe", Peak(756.0, 756.0, 51.2)),
    ("H100", Peak(989.4, 989.4, 66.9)),  # SXM
    ("A100", Peak(312.0, 312.0, 19.5)),
    ("L40S", Peak(362.1, 362.1, 91.6)),
    ("L4", Peak(121.0, 121.0, 30.3)),
    ("A10", Peak(125.0, 125.0, 31.2)),
    ("V100", Peak(None, 125.0, 15.7)),  # SXM2
    ("T4", Peak(None, 65.0, 8.1)),
    ("RTX 4090", Peak(165.2, 165.2, 82.6)),  # float32 accumulation
    ("RTX 3090", Peak(71.0, 71.0, 35.6)),
)


def compute_dtype(precision: str) -> str:
    """The dtype the matrix products run in under a Keras dtype policy."""
    return {"mixed_bfloat16": "bfloat16", "mixed_float16": "float16"}.get(precision, "float32")


def peak_tflops(device_name: str, precision: str) -> float | None:
    """The device's dense peak for `precision`'s compute dtype; None when unknown.

    >>> peak_tflops("NVIDIA H100 80GB HBM3", "mixed_bfloat16")
    989.4
    >>> peak_tflops("NVIDIA A100-SXM4-40GB", "float32")
    19.5
    >>> peak_tflops("Tesla T4", "mixed_bfloat16") is None  # no bfloat16 units
    True
    """
    for name, peak in PEAK_TFLOPS:
        if re.search(rf"(?<![A-Za-z0-9]){re.escape(name)}(?![A-Za-z0-9])", device_name):
            return getattr(peak, compute_dtype(precision))
    return None


def encoder_forward_flops(model: ModelConfig, width: int) -> int:
    """Matrix FLOPs of one sequence of `width` tokens through the encoder blocks."""
    hidden, intermediate = model.hidden_dim, model.intermediate_dim
    projections = 4 * 2 * width * hidden * hidden  # query, key, value, output
    attention = 2 * 2 * width * width * hidden  # scores, then their weighted sum
    feedforward_matrices = 3 if model.gated_feedforward else 2
    feedforward = feedforward_matrices * 2 * width * hidden * intermediate
    return model.num_layers * (projections + attention + feedforward)


def pretraining_step_flops(model: ModelConfig, batch_size: int, width: int, mask_rate: float,
                           num_sampled: int, vocabulary_size: int) -> int:
    """Matrix FLOPs of one masked-LM training step on `batch_size` sequences of `width` tokens.

    The head scores each of the sequence's prediction slots against the
    sampled words and the true one (`num_sampled` > 0), or every word.

    >>> tiny = ModelConfig(hidden_dim=2, num_layers=1, intermediate_dim=4)
    >>> pretraining_step_flops(tiny, batch_size=1, width=4, mask_rate=0.25, num_sampled=0,
    ...                        vocabulary_size=10)  # 3 x (encoder 3 x 128 + head 2 x 1 x 2 x 10)
    1272
    """
    predictions = max_predictions_for(width, mask_rate)
    words = num_sampled + 1 if 0 < num_sampled < vocabulary_size else vocabulary_size
    head = 2 * predictions * model.hidden_dim * words
    return 3 * batch_size * (encoder_forward_flops(model, width) + head)


def utilization(flops_per_step: float, seconds_per_step: float, peak: float | None) -> float | None:
    """Achieved FLOPs per second over the peak (TFLOPS); None without a peak."""
    if peak is None:
        return None
    return flops_per_step / seconds_per_step / (peak * 1e12)
