"""The baselines a user would pick instead, which a from-scratch BERT must beat.

Classification: TF-IDF features and logistic regression. A from-scratch BERT
earns its keep only above this line, on the same split: `python -m minibert
baseline` takes the same data flags as `train` (the same `--seed` and
`--group-column` carve the same validation rows), and the bench prints it beside
its timings. Needs scikit-learn (`pip install "minibert[bench]"`).

Tagging (named entities): each word's most frequent training tag, the floor
every tagging paper starts from. Pure Python.

Question answering: the sliding-window word-overlap answer (`sliding_window_answers`).
"""

import math
import re
import time
from collections import Counter, defaultdict

from minibert.data.word_alignment import split_words


def tfidf_baseline(data) -> dict:
    """TF-IDF (uni+bigrams) + logistic regression trained on `data.train`, scored on
    `data.validation`: `{"validation_accuracy", "seconds"}`."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    start = time.perf_counter()
    model = make_pipeline(
        TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True),
        LogisticRegression(C=4.0, max_iter=1000),
    )
    model.fit(data.train["text"], data.train["label"])
    accuracy = float((model.predict(data.validation["text"]) == data.validation["label"]).mean())
    return {"validation_accuracy": accuracy, "seconds": time.perf_counter() - start}


def most_frequent_tag_baseline(train_words, train_tags, validation_words) -> list:
    """Each validation word tagged with the tag it carried most often in training.

    A word is looked up as written first (case-sensitive). A word seen only in
    another case ("paris" for "Paris") gets the most frequent tag of all its
    training forms, lowercased; a word never seen gets `O`. Why the fallback:
    user text is inconsistent in case, and on WNUT-17's dev split the fallback
    nearly doubled entity recall (0.056 to 0.097) for little precision (0.338 to
    0.318), F1 0.096 to 0.149. Without it this baseline scores the figure usually
    quoted for WNUT-17's test split, F1 0.060 (benchmarks/README.md has both).

    Ties go to the tag the word carried first in training, so that the same
    training sentences always give the same tags. Words are tagged one at a time,
    so an `I-` may follow `O`; `tagging_report` scores that as conlleval does.

    Args:
        train_words: one list of words per training sentence.
        train_tags: one list of tags per training sentence, one tag per word.
        validation_words: one list of words per sentence to tag.

    Returns:
        One list of tags per sentence of `validation_words`.

    Example:
    >>> train_words = [["Paris", "is", "nice"], ["Paris", "Hilton", "sings"], ["I", "saw", "Paris"]]
    >>> train_tags = [
    ...     ["B-location", "O", "O"], ["B-person", "I-person", "O"], ["O", "O", "B-location"]
    ... ]
    >>> most_frequent_tag_baseline(train_words, train_tags, [["paris", "Hilton", "rocks"]])
    [['B-location', 'I-person', 'O']]
    """
    if len(train_words) != len(train_tags):
        raise ValueError(
            f"train_words has {len(train_words)} sentences but train_tags has "
            f"{len(train_tags)}; pass one tag sequence per training sentence, in order"
        )
    exact_counts, lowercase_counts = defaultdict(Counter), defaultdict(Counter)
    for index, (words, tags) in enumerate(zip(train_words, train_tags)):
        if len(words) != len(tags):
            raise ValueError(
                f"training sentence {index} has {len(words)} words but {len(tags)} tags; "
                "pass one tag per word"
            )
        for word, tag in zip(words, tags):
            exact_counts[word][tag] += 1
            lowercase_counts[word.lower()][tag] += 1
    exact = _most_frequent_tags(exact_counts)
    lowercase = _most_frequent_tags(lowercase_counts)
    return [
        [exact[word] if word in exact else lowercase.get(word.lower(), "O") for word in words]
        for words in validation_words
    ]


def _most_frequent_tags(counts_by_word) -> dict:
    # A Counter keeps its tags in the order first seen, and max() returns the first
    # of equal counts: ties go to the tag seen first.
    return {word: max(counts, key=counts.__getitem__) for word, counts in counts_by_word.items()}


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
