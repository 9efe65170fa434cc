"""Token embedding plus a learned position embedding (and optionally a segment embedding)."""

import keras
import keras_hub
from keras import ops


@keras.saving.register_keras_serializable(package="minibert")
class TokenAndPositionEmbedding(keras.layers.Layer):
    """Sums a token embedding, a learned position embedding and a segment embedding.

    Segments are BERT's sentence A / sentence B: in `[cls] a [sep] b [sep]`,
    every token up to and including the first `[sep]` is segment 0 and the
    rest segment 1. They are read off the token ids (the number of
    separators before each position), so a packed pair needs no second
    input and single texts, which hold no separator, are all segment 0.

    Args:
        vocabulary_size: number of token ids.
        sequence_length: longest sequence the position table covers.
        hidden_dim: embedding width.
        embeddings_initializer: initializer of every table.
        num_segments: 0 for no segment embedding (single texts), 2 for pairs.
        separator_id: the `[sep]` token id segments are counted by; needed
            when `num_segments > 0`.

    Call arguments:
        token_ids: int tensor (batch, tokens), tokens <= sequence_length.

    Returns:
        float tensor (batch, tokens, hidden_dim).

    Example:
    >>> layer = TokenAndPositionEmbedding(vocabulary_size=50, sequence_length=8, hidden_dim=16)
    >>> tuple(layer(keras.ops.ones((2, 8), "int32")).shape)
    (2, 8, 16)
    >>> ids = keras.ops.array([[3, 7, 4, 8, 9, 4, 0]])  # [cls] a [sep] b b [sep] pad
    >>> TokenAndPositionEmbedding.segment_ids(ids, separator_id=4, num_segments=2).numpy().tolist()
    [[0, 0, 0, 1, 1, 1, 1]]
    """

    def __init__(
        self,
        vocabulary_size,
        sequence_length,
        hidden_dim,
        embeddings_initializer="glorot_uniform",
        num_segments=0,
        separator_id=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if num_segments and separator_id is None:
            raise ValueError("a segment embedding needs the separator_id segments are counted by")
        self.vocabulary_size = vocabulary_size
        self.sequence_length = sequence_length
        self.hidden_dim = hidden_dim
        self.embeddings_initializer = keras.initializers.get(embeddings_initializer)
        self.token_embedding = keras.layers.Embedding(
            vocabulary_size,
            hidden_dim,
            embeddings_initializer=self.embeddings_initializer,
            dtype=self.dtype_policy,
            name="token_embedding",
        )
        self.position_embedding = keras_hub.layers.PositionEmbedding(
            sequence_length,
            initializer=self.embeddings_initializer,
            dtype=self.dtype_policy,
            name="position_embedding",
        )
        self.num_segments = num_segments
        self.separator_id = separator_id
        self.segment_embedding = None
        if num_segments:
            self.segment_embedding = keras.layers.Embedding(
                num_segments,
                hidden_dim,
                embeddings_initializer=self.embeddings_initializer,
                dtype=self.dtype_policy,
                name="segment_embedding",
            )

    def build(self, input_shape):
        self.token_embedding.build(input_shape)
        self.position_embedding.build(tuple(input_shape) + (self.hidden_dim,))
        if self.segment_embedding is not None:
            self.segment_embedding.build(input_shape)
        self.built = True

    @staticmethod
    def segment_ids(token_ids, separator_id, num_segments):
        """Per token, how many separators come before it, capped at `num_segments - 1`."""
        is_separator = ops.cast(ops.equal(token_ids, separator_id), "int32")
        before = ops.cumsum(is_separator, axis=1) - is_separator  # exclusive: a [sep] ends its segment
        return ops.minimum(before, num_segments - 1)

    def call(self, token_ids):
        token_vectors = self.token_embedding(token_ids)  # (batch, tokens, hidden)
        vectors = token_vectors + self.position_embedding(token_vectors)
        if self.segment_embedding is not None:
            segments = self.segment_ids(token_ids, self.separator_id, self.num_segments)
            vectors = vectors + self.segment_embedding(segments)
        return vectors

    def compute_output_shape(self, input_shape):
        return tuple(input_shape) + (self.hidden_dim,)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "vocabulary_size": self.vocabulary_size,
                "sequence_length": self.sequence_length,
                "hidden_dim": self.hidden_dim,
                "embeddings_initializer": keras.initializers.serialize(
                    self.embeddings_initializer
                ),
                "num_segments": self.num_segments,
                "separator_id": self.separator_id,
            }
        )
        return config
