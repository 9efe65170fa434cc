"""One Transformer encoder block: self-attention then a feed-forward network."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="minibert")
class TransformerEncoder(keras.layers.Layer):
    """A Transformer encoder block (Vaswani et al. 2017) with a padding mask.

    Post-LN by default, as the notebook and the original BERT:
    `x = norm(x + attention(x)); x = norm(x + ffn(x))`. With
    `normalize_first=True` it is pre-LN, `x = x + attention(norm(x))`, which
    trains stably at higher learning rates without warmup (Xiong et al. 2020);
    a stack of pre-LN blocks needs a final LayerNormalization, which
    `minibert.models.Backbone` adds.

    Args:
        num_heads: attention heads; the input width must divide by it.
        intermediate_dim: width of the feed-forward network's hidden layer.
        dropout: dropout after attention and after the feed-forward network.
        activation: activation of the feed-forward hidden layer.
        normalize_first: pre-LN when True, post-LN when False.
        layer_norm_epsilon: LayerNormalization epsilon.
        kernel_initializer: initializer of the attention and feed-forward
            kernels (BERT: a truncated normal of stddev 0.02).
        gated_feedforward: a gated linear unit in the feed-forward network,
            `activation(x W) * (x V)` (Shazeer 2020), at a third more of its
            cost for the same `intermediate_dim`; Cramming kept it.
        use_bias: biases in the attention projections and the feed-forward
            layers; Cramming drops them, for speed, at no loss it could
            measure (LayerNormalization keeps its offset).

    Call arguments:
        inputs: float tensor (batch, tokens, hidden).
        padding_mask: bool tensor (batch, tokens), True on real tokens. Padded
            keys get no attention, so padding changes no real token's output.

    Example:
    >>> encoder = TransformerEncoder(num_heads=2, intermediate_dim=32)
    >>> tuple(encoder(keras.ops.zeros((2, 8, 16))).shape)
    (2, 8, 16)
    """

    def __init__(
        self,
        num_heads,
        intermediate_dim,
        dropout=0.1,
        activation="relu",
        normalize_first=False,
        layer_norm_epsilon=1e-6,
        kernel_initializer="glorot_uniform",
        gated_feedforward=False,
        use_bias=True,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.num_heads = num_heads
        self.intermediate_dim = intermediate_dim
        self.dropout = dropout
        self.activation = keras.activations.get(activation)
        self.normalize_first = normalize_first
        self.layer_norm_epsilon = layer_norm_epsilon
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.gated_feedforward = gated_feedforward
        self.use_bias = use_bias
        self.supports_masking = True

    def build(self, input_shape):
        hidden_dim = input_shape[-1]
        if hidden_dim % self.num_heads:
            raise ValueError(
                f"hidden size {hidden_dim} must be divisible by num_heads={self.num_heads}"
            )
        self.attention = keras.layers.MultiHeadAttention(
            num_heads=self.num_heads,
            key_dim=hidden_dim // self.num_heads,
            kernel_initializer=keras.initializers.get(self._initializer_config()),
            use_bias=self.use_bias,
            dtype=self.dtype_policy,
            name="attention",
        )
        self.attention.build(input_shape, input_shape)
        self.attention_dropout = keras.layers.Dropout(self.dropout, name="attention_dropout")
        self.attention_norm = keras.layers.LayerNormalization(
            epsilon=self.layer_norm_epsilon, dtype=self.dtype_policy, name="attention_norm"
        )
        self.attention_norm.build(input_shape)
        self.intermediate_dense = keras.layers.Dense(
            self.intermediate_dim,
            activation=self.activation,
            kernel_initializer=keras.initializers.get(self._initializer_config()),
            use_bias=self.use_bias,
            dtype=self.dtype_policy,
            name="intermediate_dense",
        )
        self.intermediate_dense.build(input_shape)
        self.gate_dense = None
        if self.gated_feedforward:
            self.gate_dense = keras.layers.Dense(
                self.intermediate_dim,
                kernel_initializer=keras.initializers.get(self._initializer_config()),
                use_bias=self.use_bias, dtype=self.dtype_policy, name="gate_dense",
            )
            self.gate_dense.build(input_shape)
        self.output_dense = keras.layers.Dense(
            hidden_dim, kernel_initializer=keras.initializers.get(self._initializer_config()),
            use_bias=self.use_bias, dtype=self.dtype_policy, name="output_dense",
        )
        self.output_dense.build(tuple(input_shape[:-1]) + (self.intermediate_dim,))
        self.output_dropout = keras.layers.Dropout(self.dropout, name="output_dropout")
        self.output_norm = keras.layers.LayerNormalization(
            epsilon=self.layer_norm_epsilon, dtype=self.dtype_policy, name="output_norm"
        )
        self.output_norm.build(input_shape)
        self.built = True

    def _initializer_config(self):
        # A fresh initializer per sublayer: a seeded one would repeat its draws.
        return keras.initializers.serialize(self.kernel_initializer)

    def call(self, inputs, padding_mask=None, training=None):
        attention_mask = None
        if padding_mask is not None:
            # (batch, 1, keys) -> (batch, queries, keys): every query ignores padded keys.
            num_tokens = ops.shape(inputs)[1]
            keys = ops.expand_dims(ops.cast(padding_mask, "bool"), axis=1)
            attention_mask = ops.broadcast_to(
                keys, (ops.shape(inputs)[0], num_tokens, num_tokens)
            )

        x = inputs  # (batch, tokens, hidden)
        residual = x
        if self.normalize_first:
            x = self.attention_norm(x)
        x = self.attention(x, x, attention_mask=attention_mask, training=training)
        x = residual + self.attention_dropout(x, training=training)
        if not self.normalize_first:
            x = self.attention_norm(x)

        residual = x
        if self.normalize_first:
            x = self.output_norm(x)
        intermediate = self.intermediate_dense(x)  # (batch, tokens, intermediate)
        if self.gate_dense is not None:
            intermediate = intermediate * self.gate_dense(x)
        x = self.output_dense(intermediate)  # (batch, tokens, hidden)
        x = residual + self.output_dropout(x, training=training)
        if not self.normalize_first:
            x = self.output_norm(x)
        return x

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "num_heads": self.num_heads,
                "intermediate_dim": self.intermediate_dim,
                "dropout": self.dropout,
                "activation": keras.activations.serialize(self.activation),
                "normalize_first": self.normalize_first,
                "layer_norm_epsilon": self.layer_norm_epsilon,
                "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
                "gated_feedforward": self.gated_feedforward,
                "use_bias": self.use_bias,
            }
        )
        return config
