"""Predicting many rows of token ids in batches of similar length, each cut to its width.

A raw-text model pads every text to `sequence_length`; sorting the rows by
length and cutting each batch to its longest row (rounded up as training
batches are) spares the padding of short texts. `predict --input` and the
tagger's `tag_word_lists` both predict this way.
"""

import weakref

import keras
import numpy as np

from minibert.data.pipeline import padded_width
from minibert.data.tokenizer import PADDING_ID


def length_batched_predict(classifier, token_ids, batch_size=128, per_token=False) -> np.ndarray:
    """`classifier`'s outputs for `token_ids` (an array, or a dict of them), in their order.

    Rows are sorted by length and batched; each batch keeps only the columns
    up to its longest row, rounded up as training batches are
    (`minibert.data.pipeline.padded_width`), so few distinct shapes reach the
    compiled step. `per_token`: the outputs have a token axis (a tagger's),
    returned as wide as `token_ids`, 0 past each batch's width.

    Example:
    >>> from minibert.models import Backbone
    >>> from minibert.tasks.classification.classifier import Classifier
    >>> classifier = Classifier(Backbone(20, 8, 16, num_layers=1, num_heads=2, intermediate_dim=16))
    >>> length_batched_predict(classifier, np.array([[5, 6, 0, 0], [7, 0, 0, 0]])).shape
    (2, 1)
    """
    arrays = token_ids if isinstance(token_ids, dict) else {None: token_ids}
    lengths = sum(_present(ids).sum(axis=1) for ids in arrays.values())
    order = np.argsort(lengths, kind="stable")
    predict_batch = _batch_predictor(classifier)
    outputs = None
    for start in range(0, len(order), batch_size):
        rows = order[start:start + batch_size]
        batch = {}
        for name, ids in arrays.items():
            batch[name] = ids[rows, :padded_width(_present(ids[rows]).sum(axis=1), ids.shape[1])]
        predicted = keras.ops.convert_to_numpy(predict_batch(batch.get(None, batch)))
        if outputs is None:
            shape = ((next(iter(arrays.values())).shape[1], *predicted.shape[2:]) if per_token
                     else predicted.shape[1:])
            outputs = np.zeros((len(order), *shape), dtype=predicted.dtype)
        if per_token:
            outputs[rows, : predicted.shape[1]] = predicted
        else:
            outputs[rows] = predicted
    return outputs


def _present(ids) -> np.ndarray:
    """(rows, tokens): whether each token is there; a token of several ids (a word's
    characters, rows x tokens x characters) is there if any of its ids is."""
    present = ids != PADDING_ID
    return present if present.ndim == 2 else present.any(axis=tuple(range(2, present.ndim)))


# One compiled predictor per model, kept while the model lives: a new
# tf.function per call would trace again (and warn) on every call.
_PREDICTORS = weakref.WeakKeyDictionary()


def _batch_predictor(classifier):
    """A function of one batch of token ids to the classifier's outputs, compiled once per model.

    Under TensorFlow, one `tf.function` whose traces generalize to any batch
    shape (`reduce_retracing`), so the widths do not each trace a new step;
    elsewhere `predict_on_batch`, which compiles each width (at most
    sequence_length / PAD_TO_MULTIPLE of them).
    """
    if keras.backend.backend() != "tensorflow":
        return classifier.predict_on_batch
    if classifier not in _PREDICTORS:
        import tensorflow as tf

        # A weak reference: the function must not keep its own key alive.
        model = weakref.ref(classifier)
        _PREDICTORS[classifier] = tf.function(lambda ids: model()(ids, training=False),
                                              reduce_retracing=True)
    return _PREDICTORS[classifier]
