"""A run's classifier as a TensorFlow SavedModel for serving (`python -m minibert export`).

The SavedModel takes a batch of raw strings and returns one probability per
class, with the vocabulary and standardization inside: TF Serving and
`tf.saved_model.load` run it without minibert (or Keras) installed. A
WordPiece run's tokenizer is TensorFlow Text's, so its server also needs
`tensorflow-text`.

Example, in a process that never imports minibert:
>>> import tensorflow as tf  # doctest: +SKIP
>>> served = tf.saved_model.load("exported/imdb")  # doctest: +SKIP
>>> served.serve(tf.constant(["a wonderful film"]))  # doctest: +SKIP
"""

import os

import keras

from minibert.runs import files

# Beside saved_model.pb: label i's name on line i + 1.
LABEL_NAMES_FILE = "label_names.txt"


def export_saved_model(model, directory) -> str:
    """Writes `model` (an `EndToEndClassifier`) as a SavedModel in `directory`; returns it.

    Its endpoint `serve` (also `serving_default`, TF Serving's) takes
    `texts`, a string tensor of shape (batch,), or for a pair model `text`
    and `text_pair`, and returns `probabilities`, shape (batch, classes):
    a single-sigmoid model's P(label 1) becomes the two columns [1 - p, p].
    """
    if keras.backend.backend() != "tensorflow":
        raise ValueError(
            "export writes a TensorFlow SavedModel: run it with KERAS_BACKEND=tensorflow "
            f"(the default), not {keras.backend.backend()}"
        )
    import tensorflow as tf

    if os.path.exists(directory) and os.listdir(directory):
        raise FileExistsError(f"{directory} already exists and is not empty; choose another --output")

    def probabilities(outputs):
        if outputs.shape[-1] == 1:
            outputs = tf.concat([1 - outputs, outputs], axis=-1)
        return {"probabilities": tf.cast(outputs, tf.float32)}

    archive = keras.export.ExportArchive()
    archive.track(model)
    if model.pairs:
        archive.add_endpoint(
            "serve", lambda text, text_pair: probabilities(model({"text": text, "text_pair": text_pair})),
            input_signature=[tf.TensorSpec([None], tf.string, name="text"),
                             tf.TensorSpec([None], tf.string, name="text_pair")],
        )
    else:
        archive.add_endpoint(
            "serve", lambda texts: probabilities(model(texts)),
            input_signature=[tf.TensorSpec([None], tf.string, name="texts")],
        )
    archive.write_out(directory, verbose=False)
    files.write_text(os.path.join(directory, LABEL_NAMES_FILE), "".join(
        f"{name}\n" for name in model.label_names
    ))
    return directory
