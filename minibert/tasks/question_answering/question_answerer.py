"""Extractive question answering's head: a start and an end logit at every token."""

import keras
from keras import ops

from minibert.data.tokenizer import PADDING_ID
from minibert.models.serialization import FunctionalModel, with_deserialized

# What padding positions' logits become: no span starts or ends there.
PADDING_LOGIT = -1e9


@keras.saving.register_keras_serializable(package="minibert")
class QuestionAnswerer(FunctionalModel):
    """backbone -> dropout -> Dense(2) at every token: the logits of a span starting and ending there.

    BERT's SQuAD head (Devlin et al. 2019, section 4.2): the model does not
    write an answer, it points at the span of the context that is one. It
    reads `[cls] question [sep] context [sep]` rows
    (`minibert.tasks.question_answering.answer_windows`); the `[cls]` token's logits stand for
    "no answer in this window". Padding positions get `PADDING_LOGIT`.
    Freeze the backbone with `answerer.backbone.trainable = False`, unfreeze
    it for the second stage; recompile after either.

    Args:
        backbone: a `minibert.models.Backbone` (with `num_segments=2`, the
            question and context tell their segments apart by embedding too).
        dropout: dropout on the token vectors before the output layer.

    Call arguments:
        token_ids: int tensor (batch, tokens).

    Returns:
        float32 logits (batch, tokens, 2): [..., 0] the start's, [..., 1] the end's.

    Example:
    >>> from minibert.models import Backbone
    >>> backbone = Backbone(50, 8, 16, num_layers=1, num_heads=2, intermediate_dim=32)
    >>> tuple(QuestionAnswerer(backbone)(keras.ops.ones((3, 8), "int32")).shape)
    (3, 8, 2)
    """

    def __init__(self, backbone, dropout=0.0, **kwargs):
        # === Layers ===
        self.backbone = backbone
        self.output_dropout = keras.layers.Dropout(dropout, name="output_dropout")
        self.span_dense = keras.layers.Dense(2, dtype="float32", name="span_logits")

        # === Functional model ===
        token_ids = keras.Input(shape=(None,), dtype="int32", name="token_ids")
        sequence = self.backbone(token_ids)  # (batch, tokens, hidden)
        logits = self.span_dense(self.output_dropout(sequence))  # (batch, tokens, 2)
        padding = ops.expand_dims(ops.equal(token_ids, PADDING_ID), axis=-1)  # (batch, tokens, 1)
        logits = ops.where(padding, PADDING_LOGIT, logits)
        super().__init__(inputs=token_ids, outputs=logits, **kwargs)

        # === Config ===
        self.dropout = dropout

    def get_config(self):
        return {
            "name": self.name,
            "trainable": self.trainable,
            "backbone": keras.saving.serialize_keras_object(self.backbone),
            "dropout": self.dropout,
        }

    @classmethod
    def from_config(cls, config):
        return cls(**with_deserialized(config, "backbone"))


@keras.saving.register_keras_serializable(package="minibert")
def span_loss(targets, logits):
    """The mean of the start's and the end's cross-entropy: (batch,) from targets (batch, 2)
    of positions and logits (batch, tokens, 2), BERT's SQuAD loss.

    Example:
    >>> logits = keras.ops.convert_to_tensor([[[9.0, -9.0], [-9.0, 9.0]]])
    >>> float(span_loss(keras.ops.convert_to_tensor([[0, 1]]), logits)[0]) < 1e-6
    True
    """
    targets = ops.cast(targets, "int32")
    start = keras.losses.sparse_categorical_crossentropy(targets[:, 0], logits[..., 0],
                                                         from_logits=True)
    end = keras.losses.sparse_categorical_crossentropy(targets[:, 1], logits[..., 1],
                                                       from_logits=True)
    return (start + end) / 2


@keras.saving.register_keras_serializable(package="minibert")
def span_accuracy(targets, logits):
    """1 where both the start and the end are the most likely positions, per row: (batch,)."""
    targets = ops.cast(targets, "int32")
    predicted = ops.cast(ops.argmax(logits, axis=1), "int32")  # (batch, 2)
    return ops.cast(ops.all(ops.equal(predicted, targets), axis=-1), "float32")
