"""Pooling a sequence of token vectors into one vector, padding ignored."""

import keras
from keras import ops

POOLING_MODES = ("max", "mean", "first")


@keras.saving.register_keras_serializable(package="minibert")
class SequencePooling(keras.layers.Layer):
    """Max, mean or first-token pooling over the real (non-padding) tokens.

    The notebook used GlobalMaxPooling1D over every position, padding
    included; here padded positions never win the max nor enter the mean.
    A sequence with no real token (an empty or whitespace-only text) pools
    to zeros in every mode but "first", so the head answers from its bias
    alone rather than from padding.

    Args:
        mode: "max" (the notebook's), "mean", or "first" (BERT's `[cls]`).

    Call arguments:
        sequence: float tensor (batch, tokens, hidden).
        padding_mask: bool tensor (batch, tokens), True on real tokens.

    Returns:
        float tensor (batch, hidden).

    Example:
    >>> pooling = SequencePooling("mean")
    >>> sequence = keras.ops.array([[[1.0], [3.0], [100.0]]])
    >>> pooling(sequence, keras.ops.array([[True, True, False]])).numpy().tolist()
    [[2.0]]
    """

    def __init__(self, mode="max", **kwargs):
        super().__init__(**kwargs)
        if mode not in POOLING_MODES:
            raise ValueError(f"pooling mode {mode!r} is not one of {POOLING_MODES}")
        self.mode = mode

    def call(self, sequence, padding_mask):
        if self.mode == "first":
            return sequence[:, 0, :]
        mask = ops.expand_dims(ops.cast(padding_mask, sequence.dtype), axis=-1)  # (batch, tokens, 1)
        if self.mode == "mean":
            total = ops.sum(sequence * mask, axis=1)
            count = ops.maximum(ops.sum(mask, axis=1), 1.0)
            return total / count
        # A large negative stands in for padding so it never wins the max.
        lowest = ops.cast(-1e4, sequence.dtype)
        pooled = ops.max(ops.where(mask > 0, sequence, lowest), axis=1)
        # Without a real token that would be -1e4 everywhere, which saturates
        # the head (an empty review predicted with certainty): zeros instead.
        has_tokens = ops.max(mask, axis=1) > 0  # (batch, 1)
        return ops.where(has_tokens, pooled, ops.zeros_like(pooled))

    def compute_output_shape(self, sequence_shape, padding_mask_shape=None):
        return (sequence_shape[0], sequence_shape[-1])

    def get_config(self):
        config = super().get_config()
        config.update({"mode": self.mode})
        return config
