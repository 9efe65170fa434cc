"""Raw strings in, class probabilities out: the vectorizer inside the model."""

import keras
import numpy as np
import pandas as pd

from minibert.models.serialization import with_deserialized


def as_text_array(texts) -> np.ndarray:
    """A 1-D object array of str from a list, Series, array or single string.

    Bytes (as tensorflow-datasets yields) are decoded as UTF-8, not passed to
    `str()`, which would turn b"good" into the text "b'good'".
    """
    if isinstance(texts, (str, bytes)):
        texts = [texts]
    return np.asarray(
        [
            text.decode("utf-8", errors="replace") if isinstance(text, bytes) else str(text)
            for text in texts
        ],
        dtype=object,
    )


@keras.saving.register_keras_serializable(package="minibert")
class EndToEndClassifier(keras.Model):
    """A classifier that takes raw review text.

    Saved as `end_to_end.keras`, it reloads with plain
    `keras.models.load_model(path)` once `minibert` is imported: the
    vectorizer's vocabulary and standardization travel inside the file.

    Args:
        vectorizer: the run's `TextVectorization` layer.
        classifier: a `minibert.models.Classifier`.
        label_names: names of labels 0..K-1, used by `predict_labels`.

    Call arguments:
        texts: string tensor (batch,).

    Example:
    >>> from minibert.data.tokenizer import build_vectorizer
    >>> from minibert.models import Backbone, Classifier
    >>> vectorizer = build_vectorizer(["a good film", "a bad film"], 10, 8)
    >>> backbone = Backbone(10, 8, 16, num_layers=1, num_heads=2, intermediate_dim=32)
    >>> model = EndToEndClassifier(vectorizer, Classifier(backbone), ["negative", "positive"])
    >>> model.predict(["a good film"], verbose=0).shape
    (1, 1)
    """

    def __init__(self, vectorizer, classifier, label_names, **kwargs):
        # === Layers ===
        self.vectorizer = vectorizer
        self.classifier = classifier

        # === Functional model ===
        texts = keras.Input(shape=(), dtype="string", name="texts")
        probabilities = classifier(vectorizer(texts))
        super().__init__(inputs=texts, outputs=probabilities, **kwargs)

        # === Config ===
        self.label_names = list(label_names)
        if len(self.label_names) != classifier.num_classes:
            raise ValueError(
                f"{len(self.label_names)} label names for a {classifier.num_classes}-class classifier"
            )

    def loss_name(self) -> str:
        """The classifier's loss, so the end-to-end model compiles the same way."""
        return self.classifier.loss_name()

    def predict(self, x, *args, **kwargs):
        """Probabilities for raw texts: a list, a Series, an array or one string."""
        return super().predict(as_text_array(x), *args, **kwargs)

    def evaluate(self, x=None, y=None, *args, text_column="text", label_column="label", **kwargs):
        """Evaluates on texts and labels, or on a DataFrame with both columns.

        An uncompiled model (as saved by `minibert.training.run`) compiles
        itself with the classifier's loss and accuracy first.
        """
        if isinstance(x, pd.DataFrame):
            missing = [c for c in (text_column, label_column) if c not in x.columns]
            if missing:
                raise ValueError(
                    f"column(s) {missing} not found; columns are {list(x.columns)}; "
                    "pass text_column= and label_column="
                )
            x, y = x[text_column], x[label_column]
        if not self.compiled:
            # Saved for inference, without an optimizer: evaluation needs only
            # the loss and the metric.
            self.compile(loss=self.loss_name(), metrics=["accuracy"])
        return super().evaluate(as_text_array(x), np.asarray(y), *args, **kwargs)

    def predict_labels(self, texts, batch_size=256) -> list[tuple[str, float]]:
        """(label name, confidence) for each text."""
        probabilities = self.predict(texts, batch_size=batch_size, verbose=0)
        if probabilities.shape[-1] == 1:  # one sigmoid: P(label 1)
            probabilities = np.concatenate([1 - probabilities, probabilities], axis=-1)
        best = probabilities.argmax(axis=-1)
        return [
            (self.label_names[index], float(row[index]))
            for index, row in zip(best, probabilities)
        ]

    def get_config(self):
        return {
            "name": self.name,
            "trainable": self.trainable,
            "vectorizer": keras.saving.serialize_keras_object(self.vectorizer),
            "classifier": keras.saving.serialize_keras_object(self.classifier),
            "label_names": self.label_names,
        }

    @classmethod
    def from_config(cls, config):
        return cls(**with_deserialized(config, "vectorizer", "classifier"))
