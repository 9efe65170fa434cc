"""The encoder stack: token ids in, one vector per token out."""

import keras
from keras import ops

from minibert.data.tokenizer import PADDING_ID, SEP_ID
from minibert.layers import TokenAndPositionEmbedding, TransformerEncoder
from minibert.models.serialization import FunctionalModel


@keras.saving.register_keras_serializable(package="minibert")
class Backbone(FunctionalModel):
    """Embeddings and a stack of Transformer encoder blocks.

    A functional model built in `__init__` (KerasHub's pattern): it is built
    as soon as it exists, so heads can reuse its layers, and a saved model
    reloads from its config alone. Heads receive the backbone object; nothing
    looks layers up by generated names.

    Args:
        vocabulary_size: number of token ids (special tokens included).
        sequence_length: longest input, the size of the position table.
        hidden_dim: width of every token vector.
        num_layers: encoder blocks.
        num_heads: attention heads per block.
        intermediate_dim: feed-forward hidden width.
        dropout: dropout in the embeddings and the blocks.
        activation: feed-forward activation.
        normalize_first: pre-LN blocks (and a final LayerNormalization).
        layer_norm_epsilon: epsilon of every LayerNormalization.
        num_segments: 2 adds BERT's segment embedding for `[cls] a [sep] b
            [sep]` pairs (segments are read off the `[sep]` tokens, see
            `TokenAndPositionEmbedding`); 0, single texts only.
        initializer_range: when set, every embedding table and encoder kernel
            starts from a truncated normal of this stddev (BERT's 0.02) instead
            of Keras' glorot_uniform.
        embedding_layer_norm: BERT's LayerNormalization of the summed
            embeddings, before the first block.
        gated_feedforward: gated linear units in the blocks' feed-forward
            networks (`TransformerEncoder`).
        use_bias: biases in the blocks' attention and feed-forward layers.

    Call arguments:
        token_ids: int tensor (batch, tokens); id 0 is padding and is masked
            out of attention.

    Returns:
        float tensor (batch, tokens, hidden_dim).

    Example:
    >>> backbone = Backbone(vocabulary_size=50, sequence_length=8, hidden_dim=16,
    ...                     num_layers=2, num_heads=2, intermediate_dim=32)
    >>> tuple(backbone(keras.ops.ones((2, 8), "int32")).shape)
    (2, 8, 16)
    """

    def __init__(
        self,
        vocabulary_size,
        sequence_length,
        hidden_dim,
        num_layers,
        num_heads,
        intermediate_dim,
        dropout=0.1,
        activation="relu",
        normalize_first=False,
        layer_norm_epsilon=1e-6,
        num_segments=0,
        initializer_range=None,
        embedding_layer_norm=False,
        gated_feedforward=False,
        use_bias=True,
        **kwargs,
    ):
        # BERT draws every table and kernel from a truncated normal of stddev
        # 0.02; None keeps Keras' glorot_uniform (models saved before the option).
        def initializer():
            if initializer_range is None:
                return "glorot_uniform"
            return keras.initializers.TruncatedNormal(stddev=initializer_range)

        # === Layers ===
        self.embedding = TokenAndPositionEmbedding(
            vocabulary_size, sequence_length, hidden_dim, num_segments=num_segments,
            separator_id=SEP_ID if num_segments else None,
            embeddings_initializer=initializer(), name="embedding",
        )
        self.embedding_norm = (
            keras.layers.LayerNormalization(epsilon=layer_norm_epsilon, name="embedding_norm")
            if embedding_layer_norm
            else None
        )
        self.embedding_dropout = keras.layers.Dropout(dropout, name="embedding_dropout")
        self.encoder_layers = [
            TransformerEncoder(
                num_heads=num_heads,
                intermediate_dim=intermediate_dim,
                dropout=dropout,
                activation=activation,
                normalize_first=normalize_first,
                layer_norm_epsilon=layer_norm_epsilon,
                kernel_initializer=initializer(),
                gated_feedforward=gated_feedforward,
                use_bias=use_bias,
                name=f"encoder_{index}",
            )
            for index in range(num_layers)
        ]
        self.final_norm = (
            keras.layers.LayerNormalization(epsilon=layer_norm_epsilon, name="final_norm")
            if normalize_first
            else None
        )

        # === Functional model ===
        token_ids = keras.Input(shape=(None,), dtype="int32", name="token_ids")
        padding_mask = ops.not_equal(token_ids, PADDING_ID)  # (batch, tokens)
        x = self.embedding(token_ids)  # (batch, tokens, hidden)
        if self.embedding_norm is not None:
            x = self.embedding_norm(x)
        x = self.embedding_dropout(x)
        for encoder in self.encoder_layers:
            x = encoder(x, padding_mask=padding_mask)
        if self.final_norm is not None:
            x = self.final_norm(x)
        super().__init__(inputs=token_ids, outputs=x, **kwargs)

        # === Config ===
        self.vocabulary_size = vocabulary_size
        self.sequence_length = sequence_length
        self.hidden_dim = hidden_dim
        self.num_layers = num_layers
        self.num_heads = num_heads
        self.intermediate_dim = intermediate_dim
        self.dropout = dropout
        self.activation = activation
        self.normalize_first = normalize_first
        self.layer_norm_epsilon = layer_norm_epsilon
        self.num_segments = num_segments
        self.initializer_range = initializer_range
        self.embedding_layer_norm = embedding_layer_norm
        self.gated_feedforward = gated_feedforward
        self.use_bias = use_bias

    def set_trainable_layers(self, num_layers=None, embeddings=True):
        """Unfreezes the top `num_layers` encoder blocks and freezes the rest.

        Args:
            num_layers: None trains every block; N trains the top N blocks
                (and the final normalization) with the embeddings and the
                lower blocks frozen; 0 freezes the whole backbone.
            embeddings: with `num_layers=None`, whether the token and
                position embeddings train too.

        Recompile a model after changing what trains.

        Example:
        >>> backbone = Backbone(50, 8, 16, num_layers=2, num_heads=2, intermediate_dim=32)
        >>> backbone.set_trainable_layers(1)
        >>> [layer.trainable for layer in backbone.encoder_layers]
        [False, True]
        """
        if num_layers is None:
            self.trainable = True  # recursive: sets every sublayer
            self.embedding.trainable = embeddings
            return
        if not 0 <= num_layers <= self.num_layers:
            raise ValueError(
                f"trainable layers must be between 0 and the backbone's {self.num_layers} "
                f"encoder layers, got {num_layers}"
            )
        self.trainable = num_layers > 0
        self.embedding.trainable = False
        first_trainable = self.num_layers - num_layers
        for index, encoder in enumerate(self.encoder_layers):
            encoder.trainable = index >= first_trainable
        if self.final_norm is not None:
            self.final_norm.trainable = num_layers > 0

    def set_dropout(self, rate=None):
        """Sets the rate of every dropout in the backbone; None restores its `dropout`.

        Pretraining a small model on little compute loses more to dropout than
        it gains (Cramming, Geiping & Goldstein 2022): `pretrain` can turn it
        off and hand fine-tuning the configured rate. Recompile afterwards.

        Example:
        >>> backbone = Backbone(50, 8, 16, num_layers=1, num_heads=2, intermediate_dim=32)
        >>> backbone.set_dropout(0.0)
        >>> backbone.embedding_dropout.rate, backbone.encoder_layers[0].output_dropout.rate
        (0.0, 0.0)
        """
        rate = self.dropout if rate is None else rate
        for layer in self._flatten_layers(include_self=False):
            if isinstance(layer, keras.layers.Dropout):
                layer.rate = rate

    @property
    def token_embedding(self):
        """The token embedding layer, for heads that tie their output to it."""
        return self.embedding.token_embedding

    def get_config(self):
        return {
            "name": self.name,
            "trainable": self.trainable,
            "vocabulary_size": self.vocabulary_size,
            "sequence_length": self.sequence_length,
            "hidden_dim": self.hidden_dim,
            "num_layers": self.num_layers,
            "num_heads": self.num_heads,
            "intermediate_dim": self.intermediate_dim,
            "dropout": self.dropout,
            "activation": self.activation,
            "normalize_first": self.normalize_first,
            "layer_norm_epsilon": self.layer_norm_epsilon,
            "num_segments": self.num_segments,
            "initializer_range": self.initializer_range,
            "embedding_layer_norm": self.embedding_layer_norm,
            "gated_feedforward": self.gated_feedforward,
            "use_bias": self.use_bias,
        }

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def with_segment_embedding(backbone: Backbone, num_segments: int = 2) -> Backbone:
    """`backbone` with a segment embedding of `num_segments`, its other weights kept.

    A backbone pretrained on single texts has none; the new table starts at
    zero, so the grown backbone's vectors are the pretrained ones until
    fine-tuning teaches it the segments. A backbone that has one is returned
    as it is.

    Example:
    >>> backbone = Backbone(50, 8, 16, num_layers=1, num_heads=2, intermediate_dim=32)
    >>> ids = keras.ops.convert_to_tensor([[3, 7, 4, 9, 4]])
    >>> grown = with_segment_embedding(backbone)
    >>> grown.num_segments, bool(keras.ops.all(keras.ops.isclose(grown(ids), backbone(ids))))
    (2, True)
    """
    if backbone.num_segments >= num_segments:
        return backbone
    config = {**backbone.get_config(), "num_segments": num_segments}
    grown = Backbone.from_config(config)
    kept = {variable.path: variable for variable in backbone.weights}
    for variable in grown.weights:
        if variable.path in kept:
            variable.assign(kept[variable.path])
        else:  # the segment table: zeros add nothing to the pretrained vectors
            variable.assign(ops.zeros(variable.shape, variable.dtype))
    return grown
