"""A tagger's serving signature: raw texts in, each word with its tag, in TensorFlow ops.

What `EndToEndTagger.tag_words` does in Python, for a SavedModel that runs
without minibert (`EndToEndTagger.serving_endpoint`, `python -m minibert
export`). Grouping the tags into entities is left to the client. The word
splitting is TensorFlow Text's, so the server also needs `tensorflow-text`.
"""

from minibert.data.tokenizer import PADDING_ID, UNKNOWN_ID
from minibert.data.word_alignment import served_words
from minibert.data.word_characters import served_character_ids
from minibert.data.word_shapes import word_shape_ids
from minibert.models.text_inputs import sequence_length
from minibert.tasks.token_classification.tag_decoding import served_decode_tags


def serve_tagger(model):
    """A function of a string tensor (batch,) to each text's words and their tags, in the graph.

    What `EndToEndTagger.tag_words` does, in TensorFlow ops: words are split
    by `SERVED_WORD_PATTERN` (RE2's spelling of `WORD_PATTERN`), each word is
    vectorized alone (a word that standardizes to nothing is `[UNK]`), the
    words' tokens are laid end to end and cut to the model's length, and each
    word is read at its first token and the tags decoded as the model's
    `decoding` says; a word past the cut is `O` with confidence 0. Returns,
    each (batch, words) padded to the longest text: `words` (""), `starts`
    and `ends` (character offsets, -1), `tags` (""), `confidences` (0); and
    `num_words` (batch,).
    """
    import tensorflow as tf

    length = sequence_length(model.vectorizer)
    tag_names = tf.constant(model.tag_names)
    outside = model.tag_names.index("O")

    def serve(texts):
        words, starts, ends = served_words(texts)

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
        tagger = model.tagger
        if tagger.num_shapes or tagger.characters_per_word:
            inputs = {"token_ids": token_ids}

            def per_token(word_values, padded_shape):
                """A value per word, repeated at each of its tokens, padded like the token ids."""
                values = tf.RaggedTensor.from_row_lengths(
                    tf.repeat(word_values, counts, axis=0), tf.reduce_sum(per_text, axis=1))
                return values.to_tensor(default_value=0, shape=padded_shape)

            if tagger.num_shapes:
                inputs["shape_ids"] = per_token(word_shape_ids(words.flat_values), [None, length])
            if tagger.characters_per_word:
                inputs["character_ids"] = per_token(
                    served_character_ids(words.flat_values, tagger.characters_per_word),
                    [None, length, tagger.characters_per_word])
        offsets = tf.cumsum(counts, exclusive=True)
        text_first = tf.gather(tf.concat([offsets, [tf.reduce_sum(counts)]], 0), words.row_starts())
        word_starts = words.with_flat_values(offsets - tf.gather(text_first, words.value_rowids()))
        word_starts = word_starts.to_tensor(default_value=length)

        probabilities = tagger(inputs, training=False)
        read = word_starts < length
        at_start = tf.gather(probabilities, tf.minimum(word_starts, length - 1), batch_dims=1)
        # O weighed as the model's outside_weight says, before decoding.
        weighed = at_start * tf.one_hot(outside, len(model.tag_names), model.outside_weight, 1.0,
                                        dtype=at_start.dtype)
        # The words read: those whose first token is within the model's length.
        num_read = tf.reduce_sum(tf.cast(read, tf.int32), axis=1)
        chosen = served_decode_tags(weighed, num_read, model.decoding, model.tag_names,
                                    model.scheme)
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
