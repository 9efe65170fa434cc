"""A run's end-to-end model as a TensorFlow SavedModel for serving (`python -m minibert export`).

The SavedModel takes a batch of raw strings, with the vocabulary and
standardization inside: TF Serving and `tf.saved_model.load` run it without
minibert (or Keras) installed. Each end-to-end model owns its signature
(`serving_endpoint`), what it is in words (`served_inputs`,
`served_outputs`) and the files written beside it (`serving_files`): a
classifier returns one probability per class, a tagger each word with its
character offsets, tag and confidence, an answerer each question's best
span. A WordPiece run's tokenizer and the tagger's and answerer's word
splitting are TensorFlow Text's, so their server also needs `tensorflow-text`.

Example, in a process that never imports minibert:
>>> import tensorflow as tf  # doctest: +SKIP
>>> served = tf.saved_model.load("exported/imdb")  # doctest: +SKIP
>>> served.serve(tf.constant(["a wonderful film"]))  # doctest: +SKIP
"""

import os

import keras

from minibert.runs import files


def export_saved_model(model, directory) -> str:
    """Writes an end-to-end `model` as a SavedModel; returns its directory.

    Its endpoint `serve` (also `serving_default`, TF Serving's) is the
    model's `serving_endpoint()`: for a classifier `texts`, a string tensor
    of shape (batch,), or for a pair model `text` and `text_pair`, to
    `probabilities` (batch, classes); for a tagger `texts` to its words and
    tags; for an answerer `questions` and `contexts` to their answers.
    """
    if keras.backend.backend() != "tensorflow":
        raise ValueError(
            "export writes a TensorFlow SavedModel: run it with KERAS_BACKEND=tensorflow "
            f"(the default), not {keras.backend.backend()}"
        )
    if os.path.exists(directory) and os.listdir(directory):
        raise FileExistsError(f"{directory} already exists and is not empty; choose another --output")
    archive = keras.export.ExportArchive()
    archive.track(model)
    function, input_signature = model.serving_endpoint()
    archive.add_endpoint("serve", function, input_signature=input_signature)
    archive.write_out(directory, verbose=False)
    for name, text in model.serving_files().items():
        files.write_text(os.path.join(directory, name), text)
    return directory
