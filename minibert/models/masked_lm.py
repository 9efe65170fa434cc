"""The masked language model: a backbone, a masked-LM head, optionally a next-sentence head."""

import keras
from keras import ops

from minibert.layers import MaskedLMHead, NextSentenceHead
from minibert.layers.sampled_softmax import sample_log_uniform, sampled_softmax_loss
from minibert.models.replicas import num_replicas_in_step, weighted_mean
from minibert.models.serialization import FunctionalModel, with_deserialized


def masked_word_metrics(model, x, y, y_pred, sample_weight=None):
    """`compute_metrics` of a model whose output is masked-word logits (B, P, V), or in
    sampled training `{"features": ...}`: its masked-word accuracy is tracked where there
    are logits.

    Full-vocabulary accuracy needs the logits sampling avoids: sampled training
    logs the loss, and validation (full softmax) reports the accuracy.
    """
    sampled = isinstance(y_pred, dict)
    if not sampled:
        model.accuracy_metric.update_state(y, y_pred, sample_weight)
    results = keras.Model.compute_metrics(model, x, y, y_pred, sample_weight)
    if sampled:
        results.pop(model.accuracy_metric.name)
    return results


@keras.saving.register_keras_serializable(package="minibert")
class MaskedLanguageModel(FunctionalModel):
    """Predicts the original words at the masked positions.

    Args:
        backbone: a `minibert.models.Backbone`; its weights are shared, so the
            pretrained backbone is then handed to a classifier.
        tie_weights: reuse the token embedding as the output projection.
        transform: BERT's Dense + LayerNorm before the projection.
        num_sampled: when > 0, training scores each prediction against its
            true word and this many sampled ones (`minibert.layers.sampled_softmax`)
            instead of the whole vocabulary; evaluation and prediction keep
            the full softmax. 0 trains on the full softmax.
        seed: seed of the sampled words.
        next_sentence: add BERT's next-sentence-prediction head on the first
            token, trained jointly (`--objective mlm+nsp`): inputs are then
            `[cls] a [sep] b [sep]` pairs (`minibert.data.next_sentence`),
            labels and sample weights `{"mlm": ..., "nsp": ...}`, and the loss
            the sum of both.

    Call arguments:
        inputs: dict with `token_ids` (batch, tokens) and `mask_positions`
            (batch, predictions), as made by `minibert.data.masking.mask_tokens`.

    Returns:
        float32 logits (batch, predictions, vocabulary); with `next_sentence`,
        `{"mlm": those logits, "nsp": float32 logits (batch, 1)}`.

    Example:
    >>> from minibert.models import Backbone
    >>> backbone = Backbone(50, 8, 16, num_layers=1, num_heads=2, intermediate_dim=32)
    >>> model = MaskedLanguageModel(backbone)
    >>> tuple(model({"token_ids": keras.ops.ones((2, 8), "int32"),
    ...              "mask_positions": keras.ops.zeros((2, 3), "int32")}).shape)
    (2, 3, 50)
    """

    def __init__(
        self,
        backbone,
        tie_weights=False,
        transform=False,
        num_sampled=0,
        seed=None,
        next_sentence=False,
        **kwargs,
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
        self.next_sentence_head = NextSentenceHead(name="next_sentence_head") if next_sentence else None

        # === Functional model ===
        inputs = {
            "token_ids": keras.Input(shape=(None,), dtype="int32", name="token_ids"),
            "mask_positions": keras.Input(shape=(None,), dtype="int32", name="mask_positions"),
        }
        sequence = backbone(inputs["token_ids"])  # (batch, tokens, hidden)
        outputs = self.head(sequence, inputs["mask_positions"])
        if next_sentence:
            outputs = {"mlm": outputs, "nsp": self.next_sentence_head(sequence)}
        super().__init__(inputs=inputs, outputs=outputs, **kwargs)

        # === Config ===
        self.tie_weights = tie_weights
        self.transform = transform
        self.num_sampled = num_sampled
        self.seed = seed
        self.next_sentence = next_sentence
        self.seed_generator = keras.random.SeedGenerator(seed)
        # Weighted: unused prediction slots (weight 0) count for nothing.
        self.accuracy_metric = keras.metrics.SparseCategoricalAccuracy(name="accuracy")
        if next_sentence:
            self.next_sentence_loss = keras.metrics.Mean(name="nsp_loss")
            self.next_sentence_accuracy = keras.metrics.BinaryAccuracy(
                name="nsp_accuracy", threshold=0.0  # on logits
            )

    def _samples(self, training):
        return bool(training) and 0 < self.num_sampled < self.head.vocabulary_size

    def call(self, inputs, training=None, mask=None):
        if not self._samples(training):
            return super().call(inputs, training=training, mask=mask)
        # Sampled training: hand the loss the features, not 30k logits.
        sequence = self.backbone(inputs["token_ids"], training=training)
        outputs = {"features": self.head.features(sequence, inputs["mask_positions"])}
        if self.next_sentence:
            outputs["nsp"] = self.next_sentence_head(sequence, training=training)
        return outputs

    def _split(self, y, y_pred, sample_weight):
        """The masked-LM labels, output and weights, and the next-sentence labels, logits and weights.

        The masked-LM output is the logits, or `{"features": ...}` in sampled
        training. Without a next-sentence head the last three are None; the
        next-sentence weights are None (every pair counts) or 0 on the rows
        data-parallel batches are padded with.
        """
        if not self.next_sentence:
            return y, y_pred, sample_weight, None, None, None
        masked_lm_output = (
            {"features": y_pred["features"]} if "features" in y_pred else y_pred["mlm"]
        )
        next_weights = None
        if isinstance(sample_weight, dict):
            sample_weight, next_weights = sample_weight["mlm"], sample_weight.get("nsp")
        return y["mlm"], masked_lm_output, sample_weight, y["nsp"], y_pred["nsp"], next_weights

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """Masked-LM cross-entropy, mean over the chosen slots (+ the next-sentence loss).

        The model computes its own loss: the compiled `loss`, if any, is not used.
        """
        y, y_pred, sample_weight, next_labels, next_logits, next_weights = self._split(
            y, y_pred, sample_weight
        )
        if isinstance(y_pred, dict):  # sampled training: features, not logits
            sampled_ids = sample_log_uniform(
                self.num_sampled, self.head.vocabulary_size, self.seed_generator
            )
            losses = sampled_softmax_loss(
                y_pred["features"], y, self.head.output_embeddings(), self.head.output_bias,
                sampled_ids,
            )  # (batch, predictions)
        else:
            losses = keras.losses.sparse_categorical_crossentropy(y, y_pred, from_logits=True)
        # Unused prediction slots (weight 0) count for nothing: the mean is
        # over the chosen slots, not all of them.
        loss = weighted_mean(losses, sample_weight)
        if self.next_sentence:
            next_labels = ops.reshape(ops.cast(next_labels, "float32"), (-1, 1))
            next_loss = weighted_mean(
                keras.losses.binary_crossentropy(next_labels, next_logits, from_logits=True),
                next_weights,
            )
            # A replica's next_loss is its share of the mean; the metric
            # averages the replicas' values.
            self.next_sentence_loss.update_state(next_loss * num_replicas_in_step())
            loss = loss + next_loss
        if self.losses:
            loss += ops.sum(self.losses) / num_replicas_in_step()
        return loss

    def compute_metrics(self, x, y, y_pred, sample_weight=None):
        y, y_pred, sample_weight, next_labels, next_logits, next_weights = self._split(
            y, y_pred, sample_weight
        )
        if self.next_sentence:
            self.next_sentence_accuracy.update_state(
                ops.reshape(next_labels, (-1, 1)), next_logits, next_weights
            )
        return masked_word_metrics(self, x, y, y_pred, sample_weight)

    def get_config(self):
        return {
            "name": self.name,
            "trainable": self.trainable,
            "backbone": keras.saving.serialize_keras_object(self.backbone),
            "tie_weights": self.tie_weights,
            "transform": self.transform,
            "num_sampled": self.num_sampled,
            "seed": self.seed,
            "next_sentence": self.next_sentence,
        }

    @classmethod
    def from_config(cls, config):
        return cls(**with_deserialized(config, "backbone"))
