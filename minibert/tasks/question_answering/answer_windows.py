"""Questions and contexts as `[cls] question [sep] context window [sep]` rows, and spans back.

A context longer than the row is cut into overlapping windows (BERT's
`doc_stride`): each window starts `stride` context tokens after the last,
and a question is answered from its best span over all its windows.

Answers map back to the user's own characters through words, not tokens.
The context is split into words with their character offsets
(`minibert.data.word_alignment.split_words`, as the tagger splits sentences:
runs of letters and digits, each other mark a word of its own), and each
word is vectorized alone, so every token knows its word. A span of tokens answers with the characters
from its first token's word's start to its last token's word's end. That
holds for both tokenizers: the word tokenizer lowercases and strips
punctuation, WordPiece also cuts words into pieces, and neither keeps
character offsets of its own; a word that standardizes to nothing (a comma
under the word tokenizer) has no token and can neither start nor end an
answer. An answer is therefore whole words, and "1990," answers "1990".
"""

import dataclasses

import numpy as np

from minibert.data.tokenizer import CLS_ID, PADDING_ID, SEP_ID, vectorize
from minibert.data.word_alignment import split_words

# [cls], [sep] after the question and [sep] after the context window.
SPECIAL_TOKENS_PER_ROW = 3
# Windows scored at a time for their best spans: (windows, tokens, answer lengths) floats.
SPAN_CHUNK_WINDOWS = 256


def max_question_tokens(sequence_length: int) -> int:
    """The most tokens a question keeps: a quarter of the row, so the context keeps the rest
    (BERT kept 64 of 384)."""
    return max(1, (sequence_length - SPECIAL_TOKENS_PER_ROW) // 4)


@dataclasses.dataclass(frozen=True, eq=False)
class ContextTokens:
    """A context's tokens and the character span each token's word covers."""

    token_ids: np.ndarray  # (tokens,)
    starts: np.ndarray  # (tokens,) the character where each token's word starts
    ends: np.ndarray  # (tokens,) the character after each token's word

    def token_span(self, start: int, end: int):
        """The first and last token of the words the characters [start, end) touch, or None."""
        touched = np.flatnonzero((self.ends > start) & (self.starts < end))
        if not len(touched):
            return None
        return int(touched[0]), int(touched[-1])


def context_tokens(vectorizer, contexts) -> list[ContextTokens]:
    """Each context's `ContextTokens`: its words vectorized alone, end to end, uncut."""
    words = [split_words(context) for context in contexts]
    distinct = list(dict.fromkeys(word for sentence in words for word, _, _ in sentence))
    rows = vectorize(vectorizer, distinct) if distinct else np.zeros((0, 1), "int32")
    tokens = {word: row[row != PADDING_ID] for word, row in zip(distinct, rows)}
    result = []
    for sentence in words:
        ids, starts, ends = [], [], []
        for word, start, end in sentence:
            ids.append(tokens[word])
            starts.append(np.full(len(tokens[word]), start))
            ends.append(np.full(len(tokens[word]), end))
        result.append(ContextTokens(
            *(np.concatenate(parts).astype(dtype) if parts else np.zeros(0, dtype)
              for parts, dtype in ((ids, "int32"), (starts, "int64"), (ends, "int64")))))
    return result


def question_tokens(vectorizer, questions, sequence_length: int) -> list[np.ndarray]:
    """Each question's token ids, cut to `max_question_tokens`."""
    kept = max_question_tokens(sequence_length)
    return [row[row != PADDING_ID][:kept] for row in vectorize(vectorizer, list(questions))]


def window_starts(num_tokens: int, room: int, stride: int) -> list[int]:
    """Where each window of `room` context tokens starts, `stride` apart, the last reaching the end.

    Example:
    >>> window_starts(10, room=4, stride=3)
    [0, 3, 6]
    >>> window_starts(4, room=4, stride=3)
    [0]
    """
    step = max(1, min(stride, room))
    starts = [0]
    while starts[-1] + room < num_tokens:
        starts.append(starts[-1] + step)
    return starts


@dataclasses.dataclass(frozen=True, eq=False)
class AnswerWindows:
    """One split's rows of `[cls] question [sep] window [sep]`, and how to read them back.

    `targets` are (windows, 2): the positions of the answer's first and last
    token in the row, or (0, 0), the `[cls]` token, where the window does not
    hold an answer. `question_index` names each window's question;
    `context_offset` is where its context tokens start in the row and
    `window_start` which context token that is.
    """

    token_ids: np.ndarray  # (windows, sequence_length)
    targets: np.ndarray  # (windows, 2)
    question_index: np.ndarray  # (windows,)
    context_offset: np.ndarray  # (windows,)
    window_start: np.ndarray  # (windows,)
    window_length: np.ndarray  # (windows,) context tokens in the window
    contexts: list  # per question, its ContextTokens
    num_questions: int

    def context_mask(self) -> np.ndarray:
        """(windows, sequence_length): True at the context tokens, where an answer may lie."""
        positions = np.arange(self.token_ids.shape[1])[np.newaxis, :]
        return ((positions >= self.context_offset[:, np.newaxis])
                & (positions < (self.context_offset + self.window_length)[:, np.newaxis]))

    def characters(self, window: int, start: int, end: int) -> tuple[int, int]:
        """The character span [start, end) of the context that row positions start..end cover."""
        tokens = self.contexts[self.question_index[window]]
        first = start - self.context_offset[window] + self.window_start[window]
        last = end - self.context_offset[window] + self.window_start[window]
        return int(tokens.starts[first]), int(tokens.ends[last])


def answer_windows(vectorizer, questions, contexts, answer_spans, sequence_length: int,
                   stride: int) -> AnswerWindows:
    """The windows of each question on its context.

    Args:
        vectorizer: the run's vectorizer.
        questions, contexts: one string each per question.
        answer_spans: per question, the character span `(start, end)` of its
            answer, or None (unanswerable, or not known: prediction).
        sequence_length: the row's length, special tokens included.
        stride: context tokens between the starts of two windows.

    Every window is made; training keeps some (`minibert.tasks.question_answering.
    training_windows`).

    Example:
    >>> from minibert.data.tokenizer import build_vectorizer
    >>> vectorizer = build_vectorizer(["who wrote it ada wrote it"], 20, 16)
    >>> windows = answer_windows(vectorizer, ["who wrote it"], ["Ada wrote it."], [(0, 3)], 16,
    ...                          stride=4)
    >>> windows.targets.tolist(), windows.characters(0, *windows.targets[0])
    ([[5, 5]], (0, 3))
    """
    question_ids = question_tokens(vectorizer, questions, sequence_length)
    distinct = list(dict.fromkeys(contexts))
    tokens_of = dict(zip(distinct, context_tokens(vectorizer, distinct)))
    rows, targets, indices, offsets, starts, lengths = [], [], [], [], [], []
    for index, (question, context, span) in enumerate(zip(question_ids, contexts, answer_spans)):
        tokens = tokens_of[context]
        answer = None if span is None else tokens.token_span(*span)
        offset = len(question) + 2
        room = sequence_length - SPECIAL_TOKENS_PER_ROW - len(question)
        for start in window_starts(len(tokens.token_ids), room, stride):
            window = tokens.token_ids[start:start + room]
            inside = (answer is not None and answer[0] >= start
                      and answer[1] < start + len(window))
            row = np.zeros(sequence_length, "int32")
            packed = np.concatenate([[CLS_ID], question, [SEP_ID], window, [SEP_ID]])
            row[: len(packed)] = packed
            rows.append(row)
            targets.append((answer[0] - start + offset, answer[1] - start + offset) if inside
                           else (0, 0))
            indices.append(index)
            offsets.append(offset)
            starts.append(start)
            lengths.append(len(window))
    return AnswerWindows(
        token_ids=np.asarray(rows, "int32").reshape(-1, sequence_length),
        targets=np.asarray(targets, "int32").reshape(-1, 2),
        question_index=np.asarray(indices, "int64"), context_offset=np.asarray(offsets, "int64"),
        window_start=np.asarray(starts, "int64"), window_length=np.asarray(lengths, "int64"),
        contexts=[tokens_of[context] for context in contexts], num_questions=len(question_ids),
    )


@dataclasses.dataclass(frozen=True)
class Span:
    """A span of a context: `text == context[start:end]`; `score` is its start and end logits' sum."""

    text: str
    start: int
    end: int
    score: float


def best_spans(windows: AnswerWindows, logits: np.ndarray, contexts, max_answer_tokens: int,
               top_k: int = 1):
    """Per question, its `top_k` spans over all its windows, best first, and its no-answer score.

    A span starts at or before its end, inside one window's context, at most
    `max_answer_tokens` long; its score is its start logit plus its end logit.
    The no-answer score is the `[cls]` token's, the lowest over the
    question's windows (BERT's SQuAD 2.0 rule: the window that most believes
    an answer is there speaks for the question).

    Args:
        logits: (windows, tokens, 2): start and end logits per row position.
        contexts: the questions' contexts, the text the spans are sliced from.
    """
    null_scores = np.full(windows.num_questions, np.inf)
    np.minimum.at(null_scores, windows.question_index, logits[:, 0, 0] + logits[:, 0, 1])
    candidates = [[] for _ in range(windows.num_questions)]
    mask = windows.context_mask()[:, : logits.shape[1]]
    for first in range(0, len(logits), SPAN_CHUNK_WINDOWS):
        chunk = slice(first, first + SPAN_CHUNK_WINDOWS)
        for window, score, start, end in _top_window_spans(
                logits[chunk], mask[chunk], max_answer_tokens, top_k):
            window += first
            characters = windows.characters(window, start, end)
            candidates[windows.question_index[window]].append((score, *characters))
    spans = []
    for question, found in enumerate(candidates):
        unique = {}
        for score, start, end in sorted(found, reverse=True):
            unique.setdefault((start, end), score)  # overlapping windows find a span twice
        spans.append([Span(contexts[question][start:end], start, end, score)
                      for (start, end), score in list(unique.items())[:top_k]])
    return spans, null_scores


def _top_window_spans(logits, mask, max_answer_tokens: int, top_k: int):
    """`(window, score, start, end)` of each window's `top_k` spans (row positions)."""
    start_logits = np.where(mask, logits[..., 0], -np.inf)
    end_logits = np.where(mask, logits[..., 1], -np.inf)
    width = logits.shape[1]
    lengths = min(max_answer_tokens, width)
    # Every (start, length)'s score, one length at a time: (windows, tokens, lengths).
    scores = np.full((len(logits), width, lengths), -np.inf)
    for length in range(lengths):
        scores[:, : width - length, length] = (start_logits[:, : width - length]
                                               + end_logits[:, length:])
    flat = scores.reshape(len(logits), -1)
    kept = min(top_k, flat.shape[1])
    best = np.argpartition(-flat, kept - 1, axis=1)[:, :kept]
    for window, positions in enumerate(best):
        for position in positions:
            score = flat[window, position]
            if np.isfinite(score):
                start, length = divmod(int(position), lengths)
                yield window, float(score), start, start + length
