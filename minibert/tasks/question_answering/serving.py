"""An answerer's serving signature: questions and contexts in, each one's best answer, in
TensorFlow ops.

What `EndToEndAnswerer.answer` does in Python for a context that fits one
row, for a SavedModel that runs without minibert
(`EndToEndAnswerer.serving_endpoint`, `python -m minibert export`). The
word splitting is TensorFlow Text's, so the server also needs `tensorflow-text`.
"""

from minibert.data.tokenizer import CLS_ID, PADDING_ID, SEP_ID
from minibert.data.word_alignment import served_words
from minibert.models.text_inputs import sequence_length
from minibert.tasks.question_answering.answer_windows import (
    SPECIAL_TOKENS_PER_ROW,
    max_question_tokens,
)


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
