"""A classifier of raw strings: texts (or pairs) in, class probabilities out, the vectorizer
inside the model; and its serving signature."""

import keras
import numpy as np
import pandas as pd

from minibert.data.tokenizer import vectorize
from minibert.models.batched_predict import length_batched_predict
from minibert.models.serialization import FunctionalModel, with_deserialized
from minibert.models.text_inputs import as_text_array
from minibert.tasks.classification.pair_classifier import PairClassifier

# Beside an exported model's saved_model.pb: label i's name on line i + 1.
LABEL_NAMES_FILE = "label_names.txt"
# The input names of a pair model, as a DataFrame's columns or a dict's keys
# (Hugging Face tokenizers' `text` / `text_pair`).
PAIR_INPUTS = ("text", "text_pair")


def as_pair_texts(pairs) -> dict:
    """`{"text": array, "text_pair": array}` from a dict or DataFrame with those keys, or (a, b) tuples."""
    if isinstance(pairs, (pd.DataFrame, dict)):
        missing = [name for name in PAIR_INPUTS if name not in pairs]
        if missing:
            found = list(pairs.columns if isinstance(pairs, pd.DataFrame) else pairs)
            raise ValueError(f"a pair model needs {list(PAIR_INPUTS)}; {missing} missing from {found}")
        firsts, seconds = pairs["text"], pairs["text_pair"]
    else:
        pairs = list(pairs)
        if not all(isinstance(pair, (tuple, list)) and len(pair) == 2 for pair in pairs):
            raise ValueError(
                "a pair model takes (text, text_pair) tuples, or a dict or DataFrame with "
                f"{list(PAIR_INPUTS)}"
            )
        firsts, seconds = [pair[0] for pair in pairs], [pair[1] for pair in pairs]
    firsts, seconds = as_text_array(firsts), as_text_array(seconds)
    if len(firsts) != len(seconds):
        raise ValueError(f"{len(firsts)} texts but {len(seconds)} text pairs")
    return {"text": firsts, "text_pair": seconds}


def classifier_token_ids(vectorizer, texts, pair_packer=None):
    """The token ids a classifier takes for `texts`, vectorized outside any model.

    One text per row (a list, array or Series): an array (rows, tokens).
    Pairs (a dict or DataFrame with `text` and `text_pair`): a dict of both
    texts' ids for a `PairClassifier`, or with a `PairPacker` one array of
    `[cls] text [sep] text_pair [sep]`.
    """
    if not (isinstance(texts, (dict, pd.DataFrame)) and PAIR_INPUTS[1] in texts):
        return vectorize(vectorizer, texts)
    first, second = (vectorize(vectorizer, texts[name]) for name in PAIR_INPUTS)
    if pair_packer is not None:
        return keras.ops.convert_to_numpy(pair_packer(first, second))
    return {"token_ids_a": first, "token_ids_b": second}


def class_probabilities(outputs) -> np.ndarray:
    """One column per class: a single sigmoid's P(label 1) becomes [1 - p, p].

    Example:
    >>> class_probabilities([[0.8]]).tolist()
    [[0.19999998807907104, 0.800000011920929]]
    """
    outputs = np.asarray(outputs, dtype="float32")
    return np.concatenate([1 - outputs, outputs], axis=-1) if outputs.shape[-1] == 1 else outputs


def _traces_strings() -> bool:
    """Whether the backend can run the vectorizer inside the model's compiled step.

    Only TensorFlow has string tensors. Under JAX and PyTorch, `predict` and
    `evaluate` vectorize the texts first, eagerly, and run the classifier
    on the token ids.
    """
    return keras.backend.backend() == "tensorflow"


@keras.saving.register_keras_serializable(package="minibert")
class EndToEndClassifier(FunctionalModel):
    """A classifier that takes raw review text.

    Saved as `end_to_end.keras`, it reloads with plain
    `keras.models.load_model(path)` once `minibert` is imported: the
    vectorizer's vocabulary and standardization travel inside the file.

    Text pairs: with a `PairClassifier`, or a `Classifier` and a
    `pair_packer`, the model takes two strings per row, as a dict or
    DataFrame with `text` and `text_pair`, or a list of (text, text_pair).

    Args:
        vectorizer: the run's `TextVectorization` layer.
        classifier: a `minibert.models.Classifier` or `PairClassifier`.
        label_names: names of labels 0..K-1, used by `predict_labels`.
        pair_packer: a `minibert.layers.PairPacker` that feeds the
            classifier `[cls] text [sep] text_pair [sep]`; None otherwise.

    Call arguments:
        texts: string tensor (batch,), or for pairs a dict of two.

    Example:
    >>> from minibert.data.tokenizer import build_vectorizer
    >>> from minibert.models import Backbone
    >>> from minibert.tasks.classification.classifier import Classifier
    >>> vectorizer = build_vectorizer(["a good film", "a bad film"], 10, 8)
    >>> backbone = Backbone(10, 8, 16, num_layers=1, num_heads=2, intermediate_dim=32)
    >>> model = EndToEndClassifier(vectorizer, Classifier(backbone), ["negative", "positive"])
    >>> model.predict(["a good film"], verbose=0).shape
    (1, 1)
    """

    def __init__(self, vectorizer, classifier, label_names, pair_packer=None, **kwargs):
        # === Layers ===
        self.vectorizer = vectorizer
        self.classifier = classifier
        self.pair_packer = pair_packer

        # === Functional model ===
        self.pairs = pair_packer is not None or isinstance(classifier, PairClassifier)
        if self.pairs:
            texts = {name: keras.Input(shape=(), dtype="string", name=name) for name in PAIR_INPUTS}
            first, second = vectorizer(texts["text"]), vectorizer(texts["text_pair"])
            if pair_packer is not None:
                classifier_inputs = pair_packer(first, second)
            else:
                classifier_inputs = {"token_ids_a": first, "token_ids_b": second}
        else:
            texts = keras.Input(shape=(), dtype="string", name="texts")
            classifier_inputs = vectorizer(texts)
        probabilities = classifier(classifier_inputs)
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

    def as_inputs(self, texts):
        """What the model takes, from texts as `predict` accepts them."""
        return as_pair_texts(texts) if self.pairs else as_text_array(texts)

    def classifier_inputs(self, texts):
        """Token ids for texts as `predict` accepts them: what `classifier` takes."""
        return classifier_token_ids(self.vectorizer, self.as_inputs(texts), self.pair_packer)

    def predict(self, x, *args, **kwargs):
        """Probabilities for raw texts: a list, a Series, an array or one string (pairs: above).

        No texts give no rows, shape (0, outputs).
        """
        inputs = self.as_inputs(x)
        if len(inputs["text"] if self.pairs else inputs) == 0:
            # Keras' predict fails on an empty data set.
            return np.zeros((0, self.outputs[0].shape[-1]), dtype="float32")
        if _traces_strings():
            return super().predict(inputs, *args, **kwargs)
        return self.classifier.predict(
            classifier_token_ids(self.vectorizer, inputs, self.pair_packer), *args, **kwargs
        )

    def evaluate(self, x=None, y=None, *args, text_column="text", label_column="label", **kwargs):
        """Evaluates on texts and labels, or on a DataFrame with both columns.

        An uncompiled model (as saved by `minibert.training.run`) compiles
        itself with the classifier's loss and accuracy first.
        """
        if isinstance(x, pd.DataFrame):
            if label_column not in x.columns:
                raise ValueError(
                    f"label column {label_column!r} not found; columns are {list(x.columns)}; "
                    "pass label_column="
                )
            y = x[label_column]
            if not self.pairs:
                if text_column not in x.columns:
                    raise ValueError(
                        f"text column {text_column!r} not found; columns are {list(x.columns)}; "
                        "pass text_column="
                    )
                x = x[text_column]
        model = self if _traces_strings() else self.classifier
        if not model.compiled:
            # Saved for inference, without an optimizer: evaluation needs only
            # the loss and the metric.
            model.compile(loss=self.loss_name(), metrics=["accuracy"])
        if model is self:
            return super().evaluate(self.as_inputs(x), np.asarray(y), *args, **kwargs)
        return model.evaluate(self.classifier_inputs(x), np.asarray(y), *args, **kwargs)

    def predict_labels(self, texts, batch_size=256) -> list[tuple[str, float]]:
        """(label name, confidence) for each text."""
        probabilities = class_probabilities(self.predict(texts, batch_size=batch_size, verbose=0))
        best = probabilities.argmax(axis=-1)
        return [
            (self.label_names[index], float(row[index]))
            for index, row in zip(best, probabilities)
        ]

    def prediction_columns(self, texts, batch_size=128) -> dict:
        """The columns `predict --input` adds for `texts` (as `predict` takes them, maybe none).

        `predicted_label`, `predicted_probability` and one `probability_<label>` per class,
        each a value per text; texts are batched by length (`length_batched_predict`).
        """
        inputs = self.as_inputs(texts)
        if len(inputs["text"] if self.pairs else inputs):
            probabilities = class_probabilities(length_batched_predict(
                self.classifier, self.classifier_inputs(inputs), batch_size))
        else:
            probabilities = np.zeros((0, len(self.label_names)), "float32")
        best = probabilities.argmax(axis=-1)
        columns = {
            "predicted_label": np.asarray(self.label_names, object)[best],
            "predicted_probability": probabilities[np.arange(len(best)), best],
        }
        for index, name in enumerate(self.label_names):
            columns[f"probability_{name}"] = probabilities[:, index]
        return columns

    # Serving (`minibert.export.export_saved_model`).

    @property
    def served_inputs(self) -> str:
        return "text, text_pair" if self.pairs else "texts"

    @property
    def served_outputs(self) -> str:
        return f"probabilities of {', '.join(self.label_names)}"

    def serving_endpoint(self):
        """`(function, input_signature)` of the SavedModel's `serve`: string tensors (batch,)
        in, `probabilities` (batch, classes) out; a single sigmoid's P(label 1) becomes the two
        columns [1 - p, p]."""
        import tensorflow as tf

        def probabilities(outputs):
            if outputs.shape[-1] == 1:
                outputs = tf.concat([1 - outputs, outputs], axis=-1)
            return {"probabilities": tf.cast(outputs, tf.float32)}

        if self.pairs:
            return (lambda text, text_pair: probabilities(self({"text": text,
                                                                 "text_pair": text_pair})),
                    [tf.TensorSpec([None], tf.string, name="text"),
                     tf.TensorSpec([None], tf.string, name="text_pair")])
        return (lambda texts: probabilities(self(texts)),
                [tf.TensorSpec([None], tf.string, name="texts")])

    def serving_files(self) -> dict:
        """label_names.txt beside saved_model.pb: label i's name on line i + 1."""
        return {LABEL_NAMES_FILE: "".join(f"{name}\n" for name in self.label_names)}

    def get_config(self):
        return {
            "name": self.name,
            "trainable": self.trainable,
            "vectorizer": keras.saving.serialize_keras_object(self.vectorizer),
            "classifier": keras.saving.serialize_keras_object(self.classifier),
            "label_names": self.label_names,
            "pair_packer": (
                None if self.pair_packer is None
                else keras.saving.serialize_keras_object(self.pair_packer)
            ),
        }

    @classmethod
    def from_config(cls, config):
        return cls(**with_deserialized(config, "vectorizer", "classifier", "pair_packer"))
