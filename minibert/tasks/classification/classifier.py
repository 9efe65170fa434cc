"""A sequence classifier on top of a (pretrained) backbone."""

import keras
from keras import ops

from minibert.data.tokenizer import PADDING_ID
from minibert.layers import SequencePooling
from minibert.models.serialization import FunctionalModel, with_deserialized


@keras.saving.register_keras_serializable(package="minibert")
class Classifier(FunctionalModel):
    """backbone -> pooling -> Dense(hidden_units, relu) -> class probabilities.

    Two classes give one sigmoid output (the notebook's), more give a softmax.
    Freeze the backbone with `classifier.backbone.trainable = False` (stage
    1) and unfreeze it for stage 2; recompile after either.

    Args:
        backbone: a `minibert.models.Backbone`.
        num_classes: number of labels, at least 2.
        pooling: "max", "mean" or "first".
        hidden_units: width of the hidden Dense layer.
        dropout: dropout before the output layer.

    Call arguments:
        token_ids: int tensor (batch, tokens).

    Returns:
        probabilities (batch, 1) for two classes, else (batch, num_classes).

    Example:
    >>> from minibert.models import Backbone
    >>> backbone = Backbone(50, 8, 16, num_layers=1, num_heads=2, intermediate_dim=32)
    >>> tuple(Classifier(backbone, num_classes=2)(keras.ops.ones((3, 8), "int32")).shape)
    (3, 1)
    """

    def __init__(self, backbone, num_classes=2, pooling="max", hidden_units=64, dropout=0.0, **kwargs):
        if num_classes < 2:
            raise ValueError(f"a classifier needs at least 2 classes, got num_classes={num_classes}")
        # === Layers ===
        self.backbone = backbone
        self.pooling = SequencePooling(pooling, name="pooling")
        self.hidden = keras.layers.Dense(hidden_units, activation="relu", name="hidden")
        self.output_dropout = keras.layers.Dropout(dropout, name="output_dropout")
        binary = num_classes == 2
        self.output_dense = keras.layers.Dense(
            1 if binary else num_classes,
            activation="sigmoid" if binary else "softmax",
            dtype="float32",  # probabilities in float32 under mixed precision
            name="probabilities",
        )

        # === Functional model ===
        inputs, features = self._features()
        probabilities = self.output_dense(self.output_dropout(self.hidden(features)))
        super().__init__(inputs=inputs, outputs=probabilities, **kwargs)

        # === Config ===
        self.num_classes = num_classes
        self.pooling_mode = pooling
        self.hidden_units = hidden_units
        self.dropout = dropout

    def _features(self):
        """The model's inputs and what the hidden layer sees: the pooled sequence."""
        token_ids = keras.Input(shape=(None,), dtype="int32", name="token_ids")
        return token_ids, self._encode(token_ids)

    def _encode(self, token_ids):
        """(batch, hidden): the backbone's output pooled over the real tokens."""
        sequence = self.backbone(token_ids)  # (batch, tokens, hidden)
        return self.pooling(sequence, ops.not_equal(token_ids, PADDING_ID))

    def loss_name(self) -> str:
        """The loss matching the output layer."""
        return "binary_crossentropy" if self.num_classes == 2 else "sparse_categorical_crossentropy"

    def get_config(self):
        return {
            "name": self.name,
            "trainable": self.trainable,
            "backbone": keras.saving.serialize_keras_object(self.backbone),
            "num_classes": self.num_classes,
            "pooling": self.pooling_mode,
            "hidden_units": self.hidden_units,
            "dropout": self.dropout,
        }

    @classmethod
    def from_config(cls, config):
        return cls(**with_deserialized(config, "backbone"))
