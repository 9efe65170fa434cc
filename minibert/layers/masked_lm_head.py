"""The masked-language-model head: logits only where tokens were chosen."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="minibert")
class MaskedLMHead(keras.layers.Layer):
    """Gathers the chosen positions, then projects them to the vocabulary.

    Only ~15% of positions carry a loss, so gathering them before the
    vocabulary projection skips ~85% of the model's largest matrix product
    (as KerasHub's MaskedLMHead and Cramming's sparse prediction do).

    Args:
        vocabulary_size: number of output logits.
        token_embedding: optional `keras.layers.Embedding` whose table is
            reused, transposed, as the output projection (tied weights, as in
            BERT). It is not serialized: the model that owns both passes it
            again when rebuilt.
        transform: apply BERT's Dense + activation + LayerNorm before the
            projection. The notebook had no transform.
        activation: activation of the transform.
        layer_norm_epsilon: epsilon of the transform's LayerNormalization.

    Call arguments:
        sequence: float tensor (batch, tokens, hidden).
        mask_positions: int tensor (batch, predictions).

    Returns:
        float32 logits (batch, predictions, vocabulary_size). float32 even
        under mixed precision: a softmax over 30k words in float16 overflows.

    Example:
    >>> head = MaskedLMHead(vocabulary_size=50)
    >>> tuple(head(keras.ops.zeros((2, 8, 16)), keras.ops.zeros((2, 3), "int32")).shape)
    (2, 3, 50)
    """

    def __init__(
        self,
        vocabulary_size,
        token_embedding=None,
        transform=False,
        activation="gelu",
        layer_norm_epsilon=1e-6,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.vocabulary_size = vocabulary_size
        self.token_embedding = token_embedding
        self.transform = transform
        self.activation = keras.activations.get(activation)
        self.layer_norm_epsilon = layer_norm_epsilon

    def build(self, sequence_shape, mask_positions_shape=None):
        hidden_dim = sequence_shape[-1]
        gathered_shape = (None, None, hidden_dim)
        if self.transform:
            self.transform_dense = keras.layers.Dense(
                hidden_dim, activation=self.activation, dtype=self.dtype_policy,
                name="transform_dense",
            )
            self.transform_dense.build(gathered_shape)
            self.transform_norm = keras.layers.LayerNormalization(
                epsilon=self.layer_norm_epsilon, dtype=self.dtype_policy,
                name="transform_norm",
            )
            self.transform_norm.build(gathered_shape)
        if self.token_embedding is None:
            self.output_kernel = self.add_weight(
                shape=(hidden_dim, self.vocabulary_size),
                initializer="glorot_uniform",
                name="output_kernel",
            )
        self.output_bias = self.add_weight(
            shape=(self.vocabulary_size,), initializer="zeros", name="output_bias"
        )
        self.built = True

    def call(self, sequence, mask_positions):
        return self.project(self.features(sequence, mask_positions))

    def features(self, sequence, mask_positions):
        """What the projection sees: (batch, predictions, hidden) at the chosen positions."""
        x = ops.take_along_axis(
            sequence, ops.expand_dims(ops.cast(mask_positions, "int32"), axis=-1), axis=1
        )
        if self.transform:
            x = self.transform_norm(self.transform_dense(x))
        return x

    def output_embeddings(self):
        """The output projection as (vocabulary, hidden): one row per word."""
        if self.token_embedding is None:
            return ops.transpose(self.output_kernel)
        return self.token_embedding.embeddings

    def project(self, features):
        """float32 logits (batch, predictions, vocabulary) over the whole vocabulary."""
        if self.token_embedding is None:
            kernel = self.output_kernel
        else:
            kernel = ops.transpose(self.token_embedding.embeddings)  # (hidden, vocabulary)
        logits = ops.matmul(features, ops.cast(kernel, features.dtype))
        logits += ops.cast(self.output_bias, features.dtype)
        return ops.cast(logits, "float32")

    def compute_output_shape(self, sequence_shape, mask_positions_shape):
        return (sequence_shape[0], mask_positions_shape[1], self.vocabulary_size)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "vocabulary_size": self.vocabulary_size,
                "transform": self.transform,
                "activation": keras.activations.serialize(self.activation),
                "layer_norm_epsilon": self.layer_norm_epsilon,
            }
        )
        return config
