"""The baseline a tagger must beat: each word's most frequent training tag.

The floor every tagging paper starts from. Pure Python.
"""

from collections import Counter, defaultdict


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
