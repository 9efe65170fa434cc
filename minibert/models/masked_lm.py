"""The masked language model: a backbone and a masked-LM head."""

import keras

from minibert.layers import MaskedLMHead
from minibert.models.serialization import with_deserialized


@keras.saving.register_keras_serializable(package="minibert")
class MaskedLanguageModel(keras.Model):
    """Predicts the original words at the masked positions.

    Args:
        backbone: a `minibert.models.Backbone`; its weights are shared, so the
            pretrained backbone is then handed to a classifier.
        tie_weights: reuse the token embedding as the output projection.
        transform: BERT's Dense + LayerNorm before the projection.

    Call arguments:
        inputs: dict with `token_ids` (batch, tokens) and `mask_positions`
            (batch, predictions), as made by `minibert.data.masking.mask_tokens`.

    Returns:
        float32 logits (batch, predictions, vocabulary).

    Example:
    >>> from minibert.models import Backbone
    >>> backbone = Backbone(50, 8, 16, num_layers=1, num_heads=2, intermediate_dim=32)
    >>> model = MaskedLanguageModel(backbone)
    >>> model({"token_ids": keras.ops.ones((2, 8), "int32"),
    ...        "mask_positions": keras.ops.zeros((2, 3), "int32")}).shape
    (2, 3, 50)
    """

    def __init__(self, backbone, tie_weights=False, transform=False, **kwargs):
        # === Layers ===
        self.backbone = backbone
        self.head = MaskedLMHead(
            backbone.vocabulary_size,
            token_embedding=backbone.token_embedding if tie_weights else None,
            transform=transform,
            layer_norm_epsilon=backbone.layer_norm_epsilon,
            name="masked_lm_head",
        )

        # === Functional model ===
        inputs = {
            "token_ids": keras.Input(shape=(None,), dtype="int32", name="token_ids"),
            "mask_positions": keras.Input(shape=(None,), dtype="int32", name="mask_positions"),
        }
        sequence = backbone(inputs["token_ids"])  # (batch, tokens, hidden)
        logits = self.head(sequence, inputs["mask_positions"])
        super().__init__(inputs=inputs, outputs=logits, **kwargs)

        # === Config ===
        self.tie_weights = tie_weights
        self.transform = transform

    def get_config(self):
        return {
            "name": self.name,
            "trainable": self.trainable,
            "backbone": keras.saving.serialize_keras_object(self.backbone),
            "tie_weights": self.tie_weights,
            "transform": self.transform,
        }

    @classmethod
    def from_config(cls, config):
        return cls(**with_deserialized(config, "backbone"))
