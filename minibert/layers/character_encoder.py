"""A vector per word from its characters: embedding, convolution, max over the characters."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="minibert")
class CharacterEncoder(keras.layers.Layer):
    """Character ids (batch, tokens, characters) to one vector per token (batch, tokens, filters).

    Each character is embedded, a convolution reads each window of
    `kernel_size` characters, and the largest response of each filter over
    the word's characters is kept (padding, id 0, left out): the character
    CNN of Ma and Hovy (2016), which lets a tagger read an unseen name's
    capitals and endings. Ids come from `minibert.data.word_characters`.

    Args:
        num_characters: the size of the character table, padding (0) included.
        character_dim: the width of a character's embedding.
        filters: the convolution's filters: the width of the output.
        kernel_size: characters read by each window.

    Call arguments:
        character_ids: int tensor (batch, tokens, characters), 0 at the padding.

    Returns:
        float tensor (batch, tokens, filters); a token without characters gets zeros.

    Example:
    >>> encoder = CharacterEncoder(num_characters=10, character_dim=4, filters=6)
    >>> ids = keras.ops.convert_to_tensor([[[1, 2, 0], [0, 0, 0]]])
    >>> vectors = encoder(ids)
    >>> tuple(vectors.shape), float(keras.ops.sum(keras.ops.abs(vectors[0, 1])))
    ((1, 2, 6), 0.0)
    """

    def __init__(self, num_characters, character_dim=32, filters=64, kernel_size=3, **kwargs):
        super().__init__(**kwargs)
        self.num_characters = num_characters
        self.character_dim = character_dim
        self.filters = filters
        self.kernel_size = kernel_size
        self.embedding = keras.layers.Embedding(num_characters, character_dim,
                                                name="character_embedding")
        self.convolution = keras.layers.Conv1D(filters, kernel_size, padding="same",
                                               activation="relu", name="character_convolution")

    def build(self, input_shape):
        characters = input_shape[-1]
        self.embedding.build((None, characters))
        self.convolution.build((None, characters, self.character_dim))
        self.built = True

    def call(self, character_ids):
        shape = ops.shape(character_ids)
        flat = ops.reshape(character_ids, (-1, shape[-1]))  # (batch * tokens, characters)
        vectors = self.convolution(self.embedding(flat))
        # ReLU outputs are >= 0, so zeroing the padding's leaves the maximum to the characters.
        present = ops.cast(ops.expand_dims(ops.not_equal(flat, 0), -1), vectors.dtype)
        pooled = ops.max(vectors * present, axis=1)
        return ops.reshape(pooled, (shape[0], shape[1], self.filters))

    def compute_output_shape(self, input_shape):
        return (*input_shape[:2], self.filters)

    def get_config(self):
        return {**super().get_config(), "num_characters": self.num_characters,
                "character_dim": self.character_dim, "filters": self.filters,
                "kernel_size": self.kernel_size}
