"""Token embedding plus a learned position embedding."""

import keras
import keras_hub


@keras.saving.register_keras_serializable(package="minibert")
class TokenAndPositionEmbedding(keras.layers.Layer):
    """Sums a token embedding and a learned position embedding.

    Args:
        vocabulary_size: number of token ids.
        sequence_length: longest sequence the position table covers.
        hidden_dim: embedding width.
        embeddings_initializer: initializer of both tables.

    Call arguments:
        token_ids: int tensor (batch, tokens), tokens <= sequence_length.

    Returns:
        float tensor (batch, tokens, hidden_dim).

    Example:
    >>> layer = TokenAndPositionEmbedding(vocabulary_size=50, sequence_length=8, hidden_dim=16)
    >>> tuple(layer(keras.ops.ones((2, 8), "int32")).shape)
    (2, 8, 16)
    """

    def __init__(
        self,
        vocabulary_size,
        sequence_length,
        hidden_dim,
        embeddings_initializer="glorot_uniform",
        **kwargs,
    ):
        super().__init__(**kwargs)
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

    def build(self, input_shape):
        self.token_embedding.build(input_shape)
        self.position_embedding.build(tuple(input_shape) + (self.hidden_dim,))
        self.built = True

    def call(self, token_ids):
        token_vectors = self.token_embedding(token_ids)  # (batch, tokens, hidden)
        return token_vectors + self.position_embedding(token_vectors)

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
            }
        )
        return config
