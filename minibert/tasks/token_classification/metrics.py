"""Entity-level scores of per-word tags, as CoNLL's `conlleval` script computes them.

A tagger is scored on whole entities, not on words: a predicted entity counts
only if its type, its first word and its last word all match a true entity.
Precision is correct / predicted entities, recall correct / true entities, and
the overall figures are micro-averaged (every entity counts the same), as
conlleval prints them and as CoNLL-2003 and WNUT-17 papers quote them.

Which tags make an entity is `minibert.data.tag_spans.entities` (conlleval's
chunking), shared with the end-to-end tagger that returns them.

Pure Python: a training run, `evaluate` and a baseline get the same figures.
"""

from collections import Counter

from minibert.tasks.token_classification.tag_spans import entities


def tagging_report(true_tags, predicted_tags, scheme="IOB2") -> dict:
    """Entity precision, recall and F1 per type and overall, and token accuracy, JSON-ready.

    `precision`, `recall` and `f1` are micro-averaged over all entities
    (conlleval's overall figures). `per_type` holds each type's figures, for
    every type that is true or predicted somewhere, with `support` (true
    entities), `predicted` and `correct` counts. A figure whose denominator is 0
    is 0, as in conlleval. `token_accuracy` is the share of words whose
    predicted tag equals the true tag, `O` included.

    Args:
        true_tags: one list of tags per sentence.
        predicted_tags: the same shape: one predicted tag per true tag.
        scheme: `"IOB1"`, `"IOB2"` (BIO) or `"IOBES"`.

    Example:
    >>> true = [["B-person", "I-person", "O", "B-location"], ["B-group", "O"]]
    >>> predicted = [["B-person", "I-person", "O", "B-group"], ["B-group", "I-group"]]
    >>> report = tagging_report(true, predicted)
    >>> report["precision"], report["recall"], report["f1"], report["token_accuracy"]
    (0.3333333333333333, 0.3333333333333333, 0.3333333333333333, 0.6666666666666666)
    >>> report["per_type"]["person"]
    {'precision': 1.0, 'recall': 1.0, 'f1': 1.0, 'support': 1, 'predicted': 1, 'correct': 1}
    """
    _check_shapes(true_tags, predicted_tags)
    true_counts, predicted_counts, correct_counts = Counter(), Counter(), Counter()
    words = matching_words = 0
    for index, (true_sentence, predicted_sentence) in enumerate(zip(true_tags, predicted_tags)):
        true_entities = set(_sentence_entities(true_sentence, scheme, "true_tags", index))
        predicted_entities = set(
            _sentence_entities(predicted_sentence, scheme, "predicted_tags", index)
        )
        true_counts.update(entity_type for entity_type, _, _ in true_entities)
        predicted_counts.update(entity_type for entity_type, _, _ in predicted_entities)
        correct_counts.update(
            entity_type for entity_type, _, _ in true_entities & predicted_entities
        )
        words += len(true_sentence)
        matching_words += sum(
            true == predicted for true, predicted in zip(true_sentence, predicted_sentence)
        )
    per_type = {
        entity_type: _scores(
            correct_counts[entity_type], true_counts[entity_type], predicted_counts[entity_type]
        )
        for entity_type in sorted(true_counts.keys() | predicted_counts.keys())
    }
    overall = _scores(
        sum(correct_counts.values()), sum(true_counts.values()), sum(predicted_counts.values())
    )
    return {
        "scheme": scheme,
        **overall,
        "token_accuracy": matching_words / words if words else 0.0,
        "sentences": len(true_tags),
        "words": words,
        "per_type": per_type,
    }


def _check_shapes(true_tags, predicted_tags) -> None:
    """Refuse, in one line, tags that cannot be paired word by word."""
    for name, sentences in (("true_tags", true_tags), ("predicted_tags", predicted_tags)):
        for index, sentence in enumerate(sentences):
            if isinstance(sentence, str):
                raise ValueError(
                    f"{name}[{index}] is the string {sentence!r}, not a list of tags; pass one "
                    "list of tags per sentence (wrap a single sentence in a list)"
                )
    if len(true_tags) != len(predicted_tags):
        raise ValueError(
            f"true_tags has {len(true_tags)} sentences but predicted_tags has "
            f"{len(predicted_tags)}; pass one predicted sentence per true sentence, in order"
        )
    for index, (true_sentence, predicted_sentence) in enumerate(zip(true_tags, predicted_tags)):
        if len(true_sentence) != len(predicted_sentence):
            raise ValueError(
                f"sentence {index} has {len(true_sentence)} true tags but "
                f"{len(predicted_sentence)} predicted tags; predict one tag per word"
            )


def _sentence_entities(tags, scheme, name, index) -> list:
    try:
        return entities(tags, scheme)
    except ValueError as error:
        raise ValueError(f"{name}[{index}]: {error}") from None


def _scores(correct, support, predicted) -> dict:
    precision = correct / predicted if predicted else 0.0
    recall = correct / support if support else 0.0
    # 2PR / (P + R), written with counts so that no entities at all gives 0, not 0 / 0.
    f1 = 2 * correct / (support + predicted) if support + predicted else 0.0
    return {
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "support": support,
        "predicted": predicted,
        "correct": correct,
    }


def format_tagging_report(report: dict) -> str:
    """The run's validation line: entity F1, its precision and recall, token accuracy.

    Example:
    >>> report = tagging_report([["B-person", "O", "B-location"]], [["B-person", "O", "O"]])
    >>> format_tagging_report(report)
    'entity F1 0.6667 (precision 1.0000, recall 0.5000), token accuracy 0.6667'
    """
    line = (
        f"entity F1 {report['f1']:.4f} (precision {report['precision']:.4f}, "
        f"recall {report['recall']:.4f}), token accuracy {report['token_accuracy']:.4f}"
    )
    if report.get("outside_weight", 1.0) != 1.0:
        line += (f"; O weighed {report['outside_weight']:g}, chosen on this split (the plain "
                 f"argmax: F1 {report['argmax_f1']:.4f})")
    return line


def format_per_type(report: dict) -> list[str]:
    """One indented line per entity type: its F1, precision, recall and true entities.

    Example:
    >>> report = tagging_report([["B-person", "O", "B-location"]], [["B-person", "O", "O"]])
    >>> format_per_type(report)[0]
    '  location: F1 0.0000 (precision 0.0000, recall 0.0000; 1 entities)'
    """
    return [
        f"  {entity_type}: F1 {figures['f1']:.4f} (precision {figures['precision']:.4f}, "
        f"recall {figures['recall']:.4f}; {figures['support']} entities)"
        for entity_type, figures in report["per_type"].items()
    ]
