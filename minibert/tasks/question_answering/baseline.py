"""The baseline an answerer must beat: the sliding-window word-overlap answer.

Rajpurkar et al. (2016)'s, as `sliding_window_answers` describes it. Pure Python.
"""

import math
import re
from collections import Counter

from minibert.data.word_alignment import split_words

# The longest candidate answer of the sliding-window baseline, in words.
SLIDING_WINDOW_MAX_WORDS = 4
# Words a candidate answer neither starts nor ends with (a parser's constituents would not).
STOPWORDS = frozenset(
    "a an the of in on at to for from by with and or but as is are was were be been it its "
    "this that these those which who whom whose what when where why how he she they his her "
    "their there than then also not no".split())
SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def sliding_window_answers(questions, contexts) -> list[str]:
    """The sliding-window word-overlap answer to each question: Rajpurkar et al. (2016)'s baseline.

    SQuAD's paper keeps the sentence whose words overlap the question most
    (unigrams and bigrams), then picks the answer by the sliding window of
    Richardson et al. (2013). Here, with no parser to propose constituents,
    the candidates are the spans of 1 to `SLIDING_WINDOW_MAX_WORDS` words of
    that sentence that share no word with the question. Each is scored by the
    question words found in a window around it (as long as the question, on
    each side), each weighed by its inverse count in the context
    (`log(1 + 1 / count)`, Richardson's); ties go to the shorter span. Pure
    Python; the answer is sliced from the context as written.

    Example:
    >>> sliding_window_answers(["Who wrote the play?"],
    ...                        ["It rained. The play was written by Ada Lovelace in 1843."])
    ['written by Ada Lovelace']
    """
    return [_sliding_window_answer(question, context)
            for question, context in zip(questions, contexts)]


def _sliding_window_answer(question: str, context: str) -> str:
    question_words = [word.lower() for word, _, _ in split_words(question) if word[0].isalnum()]
    asked = set(question_words)
    asked_bigrams = set(zip(question_words, question_words[1:]))
    words = [(word.lower(), start, end) for word, start, end in split_words(context)
             if word[0].isalnum()]
    if not words:
        return ""
    counts = Counter(word for word, _, _ in words)
    weight = {word: math.log(1 + 1 / count) for word, count in counts.items()}
    # The sentence that shares the most with the question, its first word first.
    boundaries = [match.end() for match in SENTENCE_END.finditer(context)]
    sentence_of = [sum(start >= boundary for boundary in boundaries) for _, start, _ in words]
    overlap = Counter()
    for index, (word, _, _) in enumerate(words):
        if word in asked:
            overlap[sentence_of[index]] += weight[word]
        if index and sentence_of[index - 1] == sentence_of[index] and (
                words[index - 1][0], word) in asked_bigrams:
            overlap[sentence_of[index]] += 1
    sentence = max(sorted(set(sentence_of)), key=lambda number: overlap[number])
    chosen = [index for index, number in enumerate(sentence_of) if number == sentence]
    matched = [weight[words[index][0]] if words[index][0] in asked else 0.0 for index in chosen]
    window = max(1, len(question_words))
    best, best_score = None, -1.0
    for first in range(len(chosen)):
        for length in range(1, SLIDING_WINDOW_MAX_WORDS + 1):
            last = first + length
            span = [words[index][0] for index in chosen[first:last]]
            if last > len(chosen) or asked.intersection(span):
                break
            if span[0] in STOPWORDS or span[-1] in STOPWORDS:
                continue
            # Richardson's window holds the question's words and the candidate's own: a
            # rare word in the candidate counts as a rare word of the question does.
            score = (sum(matched[max(0, first - window):first]) + sum(matched[last:last + window])
                     + sum(weight[word] for word in span))
            if score > best_score:
                best, best_score = (chosen[first], chosen[last - 1]), score
    if best is None:
        return ""
    return context[words[best[0]][1]:words[best[1]][2]]
