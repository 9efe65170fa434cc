"""Raw questions and contexts in, answers sliced from the contexts out: the answerer with its
vectorizer and how it reads spans."""

import keras
import numpy as np

from minibert.models.batched_predict import length_batched_predict
from minibert.models.serialization import FunctionalModel, with_deserialized
from minibert.models.text_inputs import as_text_array, sequence_length
from minibert.tasks.question_answering.answer_windows import (
    Span,
    answer_windows,
    best_spans,
)
from minibert.tasks.question_answering.serving import serve_answerer

# The span a question answered "no answer" (SQuAD 2.0) reads as.
NO_ANSWER = ""


@keras.saving.register_keras_serializable(package="minibert")
class EndToEndAnswerer(FunctionalModel):
    """A question answerer that takes questions and contexts as strings and answers with spans.

    Saved as `end_to_end.keras`, it reloads with plain
    `keras.models.load_model(path)` once `minibert` is imported: the
    vectorizer's vocabulary and the decoding settings travel inside it.

    `answer` packs each question with windows of its context
    (`minibert.tasks.question_answering.answer_windows`: a context longer than the model's length
    is read in windows `window_stride` tokens apart), predicts start and end
    logits and returns the best spans over all windows, each at most
    `max_answer_tokens` tokens, as characters of the context as written.
    With a `no_answer_threshold` (chosen on validation for SQuAD 2.0 data),
    a question whose `[cls]` score beats its best span's by more than the
    threshold is answered with no span. The Keras graph itself takes token
    ids (the answerer's inputs); `minibert.export` serves strings.

    Args:
        vectorizer: the run's vectorizer (`TextVectorization` or `WordPieceVectorizer`).
        answerer: a `minibert.models.QuestionAnswerer`.
        window_stride: context tokens between the starts of two windows.
        max_answer_tokens: the longest span answered, in tokens.
        no_answer_threshold: None: always a span (SQuAD 1.1); else the margin
            by which the no-answer score must beat the best span's.

    Call arguments:
        token_ids: int tensor (batch, tokens) of `[cls] question [sep] context [sep]` rows.

    Example:
    >>> from minibert.data.tokenizer import build_vectorizer
    >>> from minibert.models import Backbone
    >>> from minibert.tasks.question_answering.question_answerer import QuestionAnswerer
    >>> vectorizer = build_vectorizer(["who wrote it ada wrote it"], 20, 16)
    >>> backbone = Backbone(20, 16, 16, num_layers=1, num_heads=2, intermediate_dim=32)
    >>> model = EndToEndAnswerer(vectorizer, QuestionAnswerer(backbone))
    >>> context = "Ada wrote it."
    >>> span = model.answer(["Who wrote it?"], [context])[0][0]
    >>> span.text == context[span.start:span.end]
    True
    """

    # It reads two texts per row: `predict --input` takes a question and a context column.
    pairs = True

    def __init__(self, vectorizer, answerer, window_stride=128, max_answer_tokens=30,
                 no_answer_threshold=None, **kwargs):
        # === Layers ===
        self.vectorizer = vectorizer
        self.answerer = answerer

        # === Functional model ===
        token_ids = keras.Input(shape=(None,), dtype="int32", name="token_ids")
        super().__init__(inputs=token_ids, outputs=answerer(token_ids), **kwargs)

        # === Config ===
        self.window_stride = int(window_stride)
        self.max_answer_tokens = int(max_answer_tokens)
        self.no_answer_threshold = (None if no_answer_threshold is None
                                    else float(no_answer_threshold))

    def answer(self, questions, contexts, top_k=5, batch_size=64) -> list[list[Span]]:
        """Per question (a string, or a list, array or Series of them) on its context, its
        `top_k` spans, best first; a question the model abstains on (SQuAD 2.0) has a first
        span of `NO_ANSWER`, offsets -1, scored by its no-answer score."""
        questions, contexts = as_text_array(questions), as_text_array(contexts)
        if len(questions) != len(contexts):
            raise ValueError(f"{len(questions)} questions and {len(contexts)} contexts; "
                             "give one context per question")
        windows = answer_windows(self.vectorizer, questions, contexts, [None] * len(questions),
                                 sequence_length(self.vectorizer), self.window_stride)
        if not len(windows.token_ids):
            return [[] for _ in questions]
        logits = length_batched_predict(self.answerer, windows.token_ids, batch_size,
                                        per_token=True)
        spans, null_scores = best_spans(windows, logits, contexts, self.max_answer_tokens, top_k)
        return [abstained(found, null, self.no_answer_threshold)[:top_k]
                for found, null in zip(spans, null_scores)]

    def prediction_columns(self, inputs, batch_size=64) -> dict:
        """The columns `predict --input` adds for `{"text": questions, "text_pair": contexts}`:
        `answer`, `answer_start`, `answer_end` (characters; -1 for no answer) and `answer_score`."""
        answers = [found[0] if found else Span(NO_ANSWER, -1, -1, float("nan"))
                   for found in self.answer(inputs["text"], inputs["text_pair"], 1, batch_size)]
        return {"answer": np.asarray([span.text for span in answers], object),
                "answer_start": np.asarray([span.start for span in answers], "int64"),
                "answer_end": np.asarray([span.end for span in answers], "int64"),
                "answer_score": np.asarray([span.score for span in answers], "float32")}

    # Serving (`minibert.export.export_saved_model`).

    served_inputs = "questions, contexts"
    served_outputs = ("the best answer to each question from its context: answers, starts, ends, "
                      "scores")

    def serving_endpoint(self):
        """`(function, input_signature)` of the SavedModel's `serve`: questions and contexts
        (batch,) in, each one's best answer out (`serving.serve_answerer`: a context's first
        window only)."""
        import tensorflow as tf

        return serve_answerer(self), [tf.TensorSpec([None], tf.string, name="questions"),
                                      tf.TensorSpec([None], tf.string, name="contexts")]

    def serving_files(self) -> dict:
        return {}

    def get_config(self):
        return {
            "name": self.name,
            "trainable": self.trainable,
            "vectorizer": keras.saving.serialize_keras_object(self.vectorizer),
            "answerer": keras.saving.serialize_keras_object(self.answerer),
            "window_stride": self.window_stride,
            "max_answer_tokens": self.max_answer_tokens,
            "no_answer_threshold": self.no_answer_threshold,
        }

    @classmethod
    def from_config(cls, config):
        return cls(**with_deserialized(config, "vectorizer", "answerer"))


def best_texts(answers) -> list[str]:
    """Each question's best answer text, from per-question lists of spans (`NO_ANSWER` for none)."""
    return [spans[0].text if spans else NO_ANSWER for spans in answers]


def abstained(spans: list, null_score: float, threshold) -> list:
    """`spans` with `NO_ANSWER` first when the no-answer score beats the best span's by more
    than `threshold` (None: never)."""
    best = spans[0].score if spans else -np.inf
    if threshold is not None and null_score - best > threshold:
        return [Span(NO_ANSWER, -1, -1, float(null_score)), *spans]
    return spans
