"""The masked language model: a backbone and a masked-LM head."""

import keras
from keras import ops

from minibert.layers import MaskedLMHead
from minibert.models.serialization import with_deserialized
from minibert.sampled_softmax import sample_log_uniform, sampled_softmax_loss


@keras.saving.register_keras_serializable(package="minibert")
class MaskedLanguageModel(keras.Model):
    """Predicts the original words at the masked positions.

    Args:
        backbone: a `minibert.models.Backbone`; its weights are shared, so the
            pretrained backbone is then handed to a classifier.
        tie_weights: reuse the token embedding as the output projection.
        transform: BERT's Dense + LayerNorm before the projection.
        num_sampled: when > 0, training scores each prediction against its
            true word and this many sampled ones (`minibert.sampled_softmax`)
            instead of the whole vocabulary; evaluation and prediction keep
            the full softmax. 0 trains on the full softmax.
        seed: seed of the sampled words.

    Call arguments:
        inputs: dict with `token_ids` (batch, tokens) and `mask_positions`
            (batch, predictions), as made by `minibert.data.masking.mask_tokens`.

    Returns:
        float32 logits (batch, predictions, vocabulary).

    Example:
    >>> from minibert.models import Backbone
    >>> backbone = Backbone(50, 8, 16, num_layers=1, num_heads=2, intermediate_dim=32)
    >>> model = MaskedLanguageModel(backbone)
    >>> tuple(model({"token_ids": keras.ops.ones((2, 8), "int32"),
    ...              "mask_positions": keras.ops.zeros((2, 3), "int32")}).shape)
    (2, 3, 50)
    """

    def __init__(
        self, backbone, tie_weights=False, transform=False, num_sampled=0, seed=None, **kwargs
    ):
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
        self.num_sampled = num_sampled
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        # Weighted: unused prediction slots (weight 0) count for nothing.
        self.accuracy_metric = keras.metrics.SparseCategoricalAccuracy(name="accuracy")

    def _samples(self, training):
        return bool(training) and 0 < self.num_sampled < self.head.vocabulary_size

    def call(self, inputs, training=None, mask=None):
        if not self._samples(training):
            return super().call(inputs, training=training, mask=mask)
        # Sampled training: hand the loss the features, not 30k logits.
        sequence = self.backbone(inputs["token_ids"], training=training)
        return {"features": self.head.features(sequence, inputs["mask_positions"])}

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        if not isinstance(y_pred, dict):
            return super().compute_loss(x, y, y_pred, sample_weight, training=training)
        sampled_ids = sample_log_uniform(
            self.num_sampled, self.head.vocabulary_size, self.seed_generator
        )
        losses = sampled_softmax_loss(
            y_pred["features"], y, self.head.output_embeddings(), self.head.output_bias, sampled_ids
        )  # (batch, predictions)
        # Mean over the chosen slots, as the full-softmax loss is compiled.
        weights = ops.ones_like(losses) if sample_weight is None else ops.cast(sample_weight, "float32")
        loss = ops.sum(losses * weights) / ops.maximum(ops.sum(weights), 1.0)
        if self.losses:
            loss += ops.sum(self.losses)
        return loss

    def compute_metrics(self, x, y, y_pred, sample_weight=None):
        results = super().compute_metrics(x, y, y_pred, sample_weight)
        if isinstance(y_pred, dict):
            # Full-vocabulary accuracy needs the logits sampling avoids:
            # sampled training logs the loss; validation reports accuracy.
            results.pop(self.accuracy_metric.name)
        else:
            self.accuracy_metric.update_state(y, y_pred, sample_weight)
            results[self.accuracy_metric.name] = self.accuracy_metric.result()
        return results

    def get_config(self):
        return {
            "name": self.name,
            "trainable": self.trainable,
            "backbone": keras.saving.serialize_keras_object(self.backbone),
            "tie_weights": self.tie_weights,
            "transform": self.transform,
            "num_sampled": self.num_sampled,
            "seed": self.seed,
        }

    @classmethod
    def from_config(cls, config):
        return cls(**with_deserialized(config, "backbone"))
