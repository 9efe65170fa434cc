"""Two token sequences packed into BERT's `[cls] a [sep] b [sep]` input."""

import keras
from keras import ops

from minibert.data.tokenizer import CLS_ID, PADDING_ID, SEP_ID, UNKNOWN_ID, kept_lengths


@keras.saving.register_keras_serializable(package="minibert")
class PairPacker(keras.layers.Layer):
    """Packs two padded id sequences into one `[cls] a [sep] b [sep]` sequence.

    When the pair is longer than `sequence_length`, the longer side is cut
    first: each side keeps at least half the room if it needs it, and the
    shorter side's leftover room goes to the longer one (the result of
    KerasHub's round-robin `MultiSegmentPacker`, here in `keras.ops` on
    padded tensors, so it runs inside a model on any backend). A `[sep]`
    that was in the text itself becomes `[UNK]`, so segments stay two.

    Args:
        sequence_length: length of the packed output, at least 3.

    Call arguments:
        token_ids_a, token_ids_b: int tensors (batch, tokens), 0-padded at
            the end, as TextVectorization gives them.

    Returns:
        int32 tensor (batch, sequence_length); the segments are read off the
        `[sep]` tokens by `TokenAndPositionEmbedding`.

    Example:
    >>> packer = PairPacker(sequence_length=8)
    >>> packer(keras.ops.array([[7, 8, 9, 0]]), keras.ops.array([[5, 6, 0, 0]])).numpy().tolist()
    [[3, 7, 8, 9, 4, 5, 6, 4]]
    """

    def __init__(self, sequence_length, **kwargs):
        super().__init__(**kwargs)
        if sequence_length < 3:
            raise ValueError(
                f"a packed pair needs room for [cls] and two [sep], got sequence_length={sequence_length}"
            )
        self.sequence_length = sequence_length

    def call(self, token_ids_a, token_ids_b):
        kept_a, kept_b = kept_lengths(  # (batch, 1) each
            self._length(token_ids_a), self._length(token_ids_b), self.sequence_length - 3
        )

        position = ops.expand_dims(ops.arange(self.sequence_length, dtype="int32"), 0)  # (1, L)
        from_a = self._gather(token_ids_a, position - 1)
        from_b = self._gather(token_ids_b, position - kept_a - 2)
        end_of_a = kept_a + 1
        end_of_b = kept_a + kept_b + 2
        packed = ops.where(position == end_of_b, SEP_ID, ops.zeros_like(from_a))  # 0: padding
        packed = ops.where((position > end_of_a) & (position < end_of_b), from_b, packed)
        packed = ops.where(position == end_of_a, SEP_ID, packed)
        packed = ops.where((position > 0) & (position < end_of_a), from_a, packed)
        return ops.where(position == 0, CLS_ID, packed)

    @staticmethod
    def _length(token_ids):
        return ops.sum(ops.cast(ops.not_equal(token_ids, PADDING_ID), "int32"), axis=1, keepdims=True)

    def _gather(self, token_ids, indices):
        """token_ids[:, indices], clipped into range; a literal [sep] becomes [UNK]."""
        token_ids = ops.cast(token_ids, "int32")
        token_ids = ops.where(ops.equal(token_ids, SEP_ID), UNKNOWN_ID, token_ids)
        width = ops.shape(token_ids)[1]
        indices = ops.clip(indices, 0, width - 1)
        indices = ops.broadcast_to(indices, (ops.shape(token_ids)[0], self.sequence_length))
        return ops.take_along_axis(token_ids, indices, axis=1)

    def compute_output_spec(self, token_ids_a, token_ids_b):
        return keras.KerasTensor((token_ids_a.shape[0], self.sequence_length), dtype="int32")

    def get_config(self):
        config = super().get_config()
        config.update({"sequence_length": self.sequence_length})
        return config
