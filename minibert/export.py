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

from minibert.models import EndToEndAnswerer, EndToEndTagger
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
    if isinstance(model, EndToEndAnswerer):
        archive.add_endpoint("serve", serve_answerer(model), input_signature=[
            tf.TensorSpec([None], tf.string, name="questions"),
            tf.TensorSpec([None], tf.string, name="contexts")])
        archive.write_out(directory, verbose=False)
        return directory
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


def served_inputs(model) -> str:
    """The names `serve` takes for `model`, for the line `export` prints."""
    if isinstance(model, EndToEndAnswerer):
        return "questions, contexts"
    return "text, text_pair" if getattr(model, "pairs", False) else "texts"


def served_outputs(model) -> str:
    """What `serve(texts)` returns for `model`, in words: the line `export` prints."""
    if isinstance(model, EndToEndAnswerer):
        return "the best answer to each question from its context: answers, starts, ends, scores"
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

    from minibert.data.tokenizer import PADDING_ID, UNKNOWN_ID
    from minibert.data.word_shapes import word_shape_ids
    from minibert.models.end_to_end_tagger import sequence_length

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


def served_words(texts):
    """In TensorFlow ops, `split_words` of a string tensor (batch,): the words, ragged
    (batch, words), and their character starts and ends, (batch, words) padded to the longest
    text. Words are split by `SERVED_WORD_PATTERN` (RE2's spelling of `WORD_PATTERN`)."""
    import tensorflow as tf
    import tensorflow_text

    from minibert.models.end_to_end_tagger import SERVED_WORD_PATTERN

    pieces, byte_starts, byte_ends = tensorflow_text.regex_split_with_offsets(
        texts, SERVED_WORD_PATTERN, SERVED_WORD_PATTERN)
    # The split keeps the whitespace between words as pieces of its own.
    is_word = pieces.with_flat_values(
        tf.logical_not(tf.strings.regex_full_match(pieces.flat_values, r"\s+")))
    words = tf.ragged.boolean_mask(pieces, is_word)
    byte_starts = tf.ragged.boolean_mask(byte_starts, is_word)
    byte_ends = tf.ragged.boolean_mask(byte_ends, is_word)
    # Byte offsets to character offsets: how many characters start before each.
    _, char_bytes = tf.strings.unicode_decode_with_offsets(texts, "UTF-8")
    char_bytes = char_bytes.to_tensor(default_value=tf.int64.max)
    starts = tf.searchsorted(char_bytes, byte_starts.to_tensor(), side="left")
    ends = tf.searchsorted(char_bytes, byte_ends.to_tensor(), side="left")
    return words, starts, ends


def serve_answerer(model):
    """A function of questions and contexts, string tensors (batch,), to each one's best
    answer, in the graph.

    What `EndToEndAnswerer.answer` does for a context that fits one row: the
    context's words are split (`served_words`) and vectorized alone (a word
    that leaves no token is dropped), the question is cut to
    `max_question_tokens`, the row is `[cls] question [sep] context [sep]`;
    the best span starts at or before its end, inside the context, at most
    `max_answer_tokens` long. Only the row's first window is read: a longer
    context is cut there (`EndToEndAnswerer.answer` reads every window).
    Returns `answers` (the context's own characters; "" for no answer),
    `starts` and `ends` (character offsets; -1 for no answer) and `scores`.
    """
    import tensorflow as tf

    from minibert.data.answer_windows import SPECIAL_TOKENS_PER_ROW, max_question_tokens
    from minibert.data.tokenizer import CLS_ID, PADDING_ID, SEP_ID
    from minibert.models.end_to_end_tagger import sequence_length

    length = sequence_length(model.vectorizer)

    def serve(questions, contexts):
        words, starts, ends = served_words(contexts)
        ids = tf.reshape(tf.cast(model.vectorizer(words.flat_values), tf.int32), [-1, length])
        word_tokens = tf.ragged.boolean_mask(ids, ids != PADDING_ID)
        per_word = word_tokens.row_lengths()
        # Each token's word, numbered within its context.
        word_number = words.with_flat_values(
            tf.range(tf.size(words.flat_values, out_type=tf.int64))
            - tf.gather(words.row_starts(), words.value_rowids()))
        tokens_per_context = tf.reduce_sum(words.with_flat_values(per_word), axis=1)
        context_ids = tf.RaggedTensor.from_row_lengths(word_tokens.flat_values, tokens_per_context)
        token_word = tf.RaggedTensor.from_row_lengths(
            tf.repeat(word_number.flat_values, per_word), tokens_per_context)

        question_ids = tf.cast(model.vectorizer(questions), tf.int32)
        question_ids = tf.ragged.boolean_mask(question_ids, question_ids != PADDING_ID)
        question_ids = question_ids[:, :max_question_tokens(length)]
        room = length - SPECIAL_TOKENS_PER_ROW - question_ids.row_lengths()
        fits = tf.ragged.range(context_ids.row_lengths()) < room[:, tf.newaxis]
        context_ids = tf.ragged.boolean_mask(context_ids, fits)
        token_word = tf.ragged.boolean_mask(token_word, fits)
        batch = tf.shape(questions, out_type=tf.int64)[0]
        column = tf.ones([batch, 1], tf.int32)
        rows = tf.concat([column * CLS_ID, question_ids, column * SEP_ID, context_ids,
                          column * SEP_ID], axis=1)
        token_ids = rows.to_tensor(default_value=PADDING_ID, shape=[None, length])

        logits = tf.cast(model.answerer(token_ids, training=False), tf.float32)
        offset = question_ids.row_lengths() + 2  # where each row's context starts
        positions = tf.range(length, dtype=tf.int64)[tf.newaxis, :]
        inside = ((positions >= offset[:, tf.newaxis])
                  & (positions < (offset + context_ids.row_lengths())[:, tf.newaxis]))
        start_logits = tf.where(inside, logits[..., 0], -1e30)
        end_logits = tf.where(inside, logits[..., 1], -1e30)
        # (batch, start, end): a span starts at or before its end, at most max_answer_tokens.
        span = tf.range(length)[tf.newaxis, :] - tf.range(length)[:, tf.newaxis]
        allowed = (span >= 0) & (span < model.max_answer_tokens)
        scores = tf.where(allowed[tf.newaxis], start_logits[:, :, tf.newaxis]
                          + end_logits[:, tf.newaxis, :], -1e30)
        best = tf.argmax(tf.reshape(scores, [batch, -1]), axis=1)
        score = tf.reduce_max(tf.reshape(scores, [batch, -1]), axis=1)
        first_token, last_token = best // length - offset, best % length - offset
        word_of = token_word.to_tensor(default_value=0)
        has_span = tf.logical_and(score > -1e29, context_ids.row_lengths() > 0)
        first_word = tf.gather(word_of, tf.maximum(first_token, 0), batch_dims=1)
        last_word = tf.gather(word_of, tf.maximum(last_token, 0), batch_dims=1)
        answer_start = tf.gather(starts, first_word, batch_dims=1)
        answer_end = tf.gather(ends, last_word, batch_dims=1)
        if model.no_answer_threshold is not None:
            null = logits[:, 0, 0] + logits[:, 0, 1]
            has_span &= null - score <= model.no_answer_threshold
        answer_start = tf.where(has_span, answer_start, -1)
        answer_end = tf.where(has_span, answer_end, -1)
        answers = tf.strings.substr(contexts, tf.maximum(answer_start, 0),
                                    tf.maximum(answer_end - answer_start, 0), unit="UTF8_CHAR")
        return {"answers": tf.where(has_span, answers, ""), "starts": answer_start,
                "ends": answer_end, "scores": score}

    return serve
