"""A classifier of text pairs, each text encoded alone by one shared backbone."""

import keras
from keras import ops

from minibert.tasks.classification.classifier import Classifier


@keras.saving.register_keras_serializable(package="minibert")
class PairClassifier(Classifier):
    """Both texts through the same backbone, then [h1, h2, cos(h1, h2), |h1 - h2|].

    The siamese pattern of Sentence-BERT and InferSent: each text is pooled
    to one vector by the shared backbone, and the head sees both vectors,
    their cosine similarity and their element-wise distance, so it can learn
    similarity, paraphrase or entailment-style labels. The other way to feed
    a pair, `[cls] a [sep] b [sep]` through one pass, is a plain
    `Classifier` on `minibert.layers.PairPacker` output.

    Args:
        backbone, num_classes, pooling, hidden_units, dropout: as
            `minibert.models.Classifier`.

    Call arguments:
        inputs: dict of int tensors `token_ids_a` and `token_ids_b`, each
            (batch, tokens).

    Returns:
        probabilities (batch, 1) for two classes, else (batch, num_classes).

    Example:
    >>> from minibert.models import Backbone
    >>> backbone = Backbone(50, 8, 16, num_layers=1, num_heads=2, intermediate_dim=32)
    >>> model = PairClassifier(backbone, num_classes=3, pooling="mean")
    >>> ids = keras.ops.ones((4, 8), "int32")
    >>> tuple(model({"token_ids_a": ids, "token_ids_b": ids}).shape)
    (4, 3)
    """

    def _features(self):
        inputs = {
            name: keras.Input(shape=(None,), dtype="int32", name=name)
            for name in ("token_ids_a", "token_ids_b")
        }
        first = self._encode(inputs["token_ids_a"])  # (batch, hidden)
        second = self._encode(inputs["token_ids_b"])
        features = ops.concatenate(
            [first, second, cosine_similarity(first, second), ops.abs(first - second)], axis=-1
        )  # (batch, 3 * hidden + 1)
        return inputs, features


def cosine_similarity(first, second, epsilon=1e-6):
    """(batch, 1) cosine of the angle between rows; 0 for a zero vector."""
    dot = ops.sum(first * second, axis=-1, keepdims=True)
    # Not ops.norm: under JAX its symbolic op passes axis as an unhashable list.
    norms = ops.sqrt(
        ops.sum(ops.square(first), axis=-1, keepdims=True)
        * ops.sum(ops.square(second), axis=-1, keepdims=True)
    )
    return dot / ops.maximum(norms, epsilon)
