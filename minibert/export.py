"""A run's end-to-end model as a TensorFlow SavedModel for serving (`python -m minibert export`).

The SavedModel takes a batch of raw strings, with the vocabulary and
standardization inside: TF Serving and `tf.saved_model.load` run it without
minibert (or Keras) installed. A classifier returns one probability per
class. A tagger returns each word with its character offsets, its tag and
the tag's probability (`serve_tagger`): the words are split, vectorized and
read at their first token in the graph, as `EndToEndTagger.tag_words` does
in Python; grouping the tags into entities is left to the client. A WordPiece
run's tokenizer and a tagger's word splitting are TensorFlow Text's, so
their server also needs `tensorflow-text`.

Example, in a process that never imports minibert:
>>> import tensorflow as tf  # doctest: +SKIP
>>> served = tf.saved_model.load("exported/imdb")  # doctest: +SKIP
>>> served.serve(tf.constant(["a wonderful film"]))  # doctest: +SKIP
"""

import os

import keras

from minibert.models import EndToEndTagger
from minibert.runs import files

# Beside saved_model.pb: label i's name on line i + 1.
LABEL_NAMES_FILE = "label_names.txt"
# A tagger's: tag i's name on line i + 1, then `# SCHEME`.
TAG_NAMES_FILE = "tag_names.txt"


def export_saved_model(model, directory) -> str:
    """Writes `model` (an `EndToEndClassifier` or `EndToEndTagger`) as a SavedModel; returns it.

    Its endpoint `serve` (also `serving_default`, TF Serving's) takes
    `texts`, a string tensor of shape (batch,), or for a pair model `text`
    and `text_pair`. A classifier's returns `probabilities`, shape (batch,
    classes): a single-sigmoid model's P(label 1) becomes the two columns
    [1 - p, p]. A tagger's returns `serve_tagger`'s words and tags.
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
    if isinstance(model, EndToEndTagger):
        archive.add_endpoint("serve", serve_tagger(model),
                             input_signature=[tf.TensorSpec([None], tf.string, name="texts")])
        archive.write_out(directory, verbose=False)
        files.write_text(os.path.join(directory, TAG_NAMES_FILE),
                         "".join(f"{name}\n" for name in model.tag_names) + f"# {model.scheme}\n")
        return directory
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


def served_outputs(model) -> str:
    """What `serve(texts)` returns for `model`, in words: the line `export` prints."""
    if isinstance(model, EndToEndTagger):
        return (f"words, starts, ends, tags ({model.scheme}: {', '.join(model.tag_names)}), "
                "confidences, num_words")
    return f"probabilities of {', '.join(model.label_names)}"


def serve_tagger(model):
    """A function of a string tensor (batch,) to each text's words and their tags, in the graph.

    What `EndToEndTagger.tag_words` does, in TensorFlow ops: words are split
    by `SERVED_WORD_PATTERN` (RE2's spelling of `WORD_PATTERN`), each word is
    vectorized alone (a word that standardizes to nothing is `[UNK]`), the
    words' tokens are laid end to end and cut to the model's length, and each
    word is read at its first token; a word past the cut is `O` with
    confidence 0. Returns, each (batch, words) padded to the longest text:
    `words` (""), `starts` and `ends` (character offsets, -1), `tags` (""),
    `confidences` (0); and `num_words` (batch,).
    """
    import tensorflow as tf
    import tensorflow_text

    from minibert.data.tokenizer import PADDING_ID, UNKNOWN_ID
    from minibert.data.word_shapes import word_shape_ids
    from minibert.models.end_to_end_tagger import SERVED_WORD_PATTERN, sequence_length

    length = sequence_length(model.vectorizer)
    tag_names = tf.constant(model.tag_names)
    outside = model.tag_names.index("O")

    def serve(texts):
        pieces, byte_starts, byte_ends = tensorflow_text.regex_split_with_offsets(
            texts, SERVED_WORD_PATTERN, SERVED_WORD_PATTERN)
        # The split keeps the whitespace between words as pieces of its own.
        is_word = tf.logical_not(tf.strings.regex_full_match(pieces.flat_values, r"\s+"))
        words = tf.ragged.boolean_mask(pieces, pieces.with_flat_values(is_word))
        byte_starts = tf.ragged.boolean_mask(byte_starts, pieces.with_flat_values(is_word))
        byte_ends = tf.ragged.boolean_mask(byte_ends, pieces.with_flat_values(is_word))
        # Byte offsets to character offsets: how many characters start before each.
        _, char_bytes = tf.strings.unicode_decode_with_offsets(texts, "UTF-8")
        char_bytes = char_bytes.to_tensor(default_value=tf.int64.max)
        starts = tf.searchsorted(char_bytes, byte_starts.to_tensor(), side="left")
        ends = tf.searchsorted(char_bytes, byte_ends.to_tensor(), side="left")

        # Each word alone through the vectorizer; one that leaves no token is [UNK].
        ids = tf.cast(model.vectorizer(words.flat_values), tf.int32)
        ids = tf.reshape(ids, [-1, length])
        counts = tf.reduce_sum(tf.cast(ids != PADDING_ID, tf.int32), axis=1)
        first = tf.range(length)[tf.newaxis, :] == 0
        empty = (counts == 0)[:, tf.newaxis]
        ids = tf.where(empty & first, UNKNOWN_ID, ids)
        word_tokens = tf.ragged.boolean_mask(ids, (ids != PADDING_ID))
        counts = word_tokens.row_lengths()

        # The words' tokens end to end per text, and where each word's first token lies.
        per_text = words.with_flat_values(counts)
        token_ids = tf.RaggedTensor.from_row_lengths(
            word_tokens.flat_values, tf.reduce_sum(per_text, axis=1))
        token_ids = token_ids.to_tensor(default_value=PADDING_ID, shape=[None, length])
        inputs = token_ids
        if model.tagger.num_shapes:
            shape_ids = tf.RaggedTensor.from_row_lengths(
                tf.repeat(word_shape_ids(words.flat_values), counts),
                tf.reduce_sum(per_text, axis=1))
            inputs = {"token_ids": token_ids,
                      "shape_ids": shape_ids.to_tensor(default_value=0, shape=[None, length])}
        offsets = tf.cumsum(counts, exclusive=True)
        text_first = tf.gather(tf.concat([offsets, [tf.reduce_sum(counts)]], 0), words.row_starts())
        word_starts = words.with_flat_values(offsets - tf.gather(text_first, words.value_rowids()))
        word_starts = word_starts.to_tensor(default_value=length)

        probabilities = model.tagger(inputs, training=False)
        read = word_starts < length
        at_start = tf.gather(probabilities, tf.minimum(word_starts, length - 1), batch_dims=1)
        # O weighed as the model's outside_weight says, before the argmax.
        weighed = at_start * tf.one_hot(outside, len(model.tag_names), model.outside_weight, 1.0,
                                        dtype=at_start.dtype)
        chosen = tf.argmax(weighed, axis=-1, output_type=tf.int32)
        tag_ids = tf.where(read, chosen, outside)
        confidences = tf.where(read, tf.cast(tf.gather(at_start, chosen, batch_dims=2),
                                             tf.float32), 0.0)
        present = tf.sequence_mask(words.row_lengths(), tf.shape(tag_ids)[1])
        return {
            "words": words.to_tensor(default_value=""),
            "starts": tf.where(present, starts, -1),
            "ends": tf.where(present, ends, -1),
            "tags": tf.where(present, tf.gather(tag_names, tag_ids), ""),
            "confidences": tf.where(present, confidences, 0.0),
            "num_words": words.row_lengths(),
        }

    return serve
