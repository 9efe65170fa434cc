"""Exact match and F1 of predicted answers, as the official SQuAD scripts count them.

Both compare normalized answers (lowercased, punctuation and the articles
a/an/the removed, whitespace collapsed) and take the best over a question's
gold answers. F1 is over the words both share, counted as bags. A question
without gold answers (SQuAD 2.0) scores 1 when the prediction is empty (no
answer), 0 otherwise; the report then also splits the figures into the
answerable questions (`has_answer_*`) and the others (`no_answer_*`).
All figures are percentages, as the field reports them.
"""

import collections
import re
import string

ARTICLES = re.compile(r"\b(a|an|the)\b")
PUNCTUATION = set(string.punctuation)


def normalize_answer(text: str) -> str:
    """SQuAD's normalization: lowercase, no punctuation, no articles, single spaces.

    Example:
    >>> normalize_answer("The  Eiffel-Tower!")
    'eiffeltower'
    """
    text = "".join(character for character in text.lower() if character not in PUNCTUATION)
    return " ".join(ARTICLES.sub(" ", text).split())


def exact_match(prediction: str, gold: str) -> float:
    return float(normalize_answer(prediction) == normalize_answer(gold))


def f1_score(prediction: str, gold: str) -> float:
    """The harmonic mean of word precision and recall between the normalized answers.

    Example:
    >>> round(f1_score("in the city of Paris", "Paris"), 2)  # 1 of 4 words, the only one
    0.4
    """
    predicted, true = normalize_answer(prediction).split(), normalize_answer(gold).split()
    if not predicted or not true:
        return float(predicted == true)
    common = sum((collections.Counter(predicted) & collections.Counter(true)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(predicted), common / len(true)
    return 2 * precision * recall / (precision + recall)


def question_scores(prediction: str, golds) -> tuple[float, float]:
    """(exact match, F1) of one question: the best over its gold answers; none: abstaining is right."""
    golds = [gold for gold in golds if normalize_answer(gold)] or [""]
    return (max(exact_match(prediction, gold) for gold in golds),
            max(f1_score(prediction, gold) for gold in golds))


def answer_report(predictions, gold_answers) -> dict:
    """EM and F1 (percentages) of `predictions` (one string per question, "" for no answer)
    against `gold_answers` (per question, a list of answer texts, empty when unanswerable).

    Example:
    >>> answer_report(["Paris", "in 1990"], [["Paris"], ["1990", "in 1990"]])
    {'exact_match': 100.0, 'f1': 100.0, 'questions': 2}
    """
    scores = [question_scores(prediction, golds)
              for prediction, golds in zip(predictions, gold_answers)]
    report = {**_means(scores), "questions": len(scores)}
    answerable = [bool(golds) for golds in gold_answers]
    if not all(answerable):
        for name, wanted in (("has_answer", True), ("no_answer", False)):
            chosen = [score for score, has in zip(scores, answerable) if has == wanted]
            report.update({f"{name}_{key}": value for key, value in _means(chosen).items()})
            report[f"{name}_questions"] = len(chosen)
    return report


def _means(scores) -> dict:
    if not scores:
        return {"exact_match": 0.0, "f1": 0.0}
    return {"exact_match": 100 * sum(em for em, _ in scores) / len(scores),
            "f1": 100 * sum(f1 for _, f1 in scores) / len(scores)}


def format_answer_report(report: dict) -> str:
    """The report's line: EM and F1, and for SQuAD 2.0 the answerable and unanswerable splits.

    Example:
    >>> format_answer_report({"exact_match": 50.0, "f1": 62.5, "questions": 4})
    'exact match 50.00, F1 62.50 (4 questions)'
    """
    line = (f"exact match {report['exact_match']:.2f}, F1 {report['f1']:.2f} "
            f"({report['questions']} questions)")
    if "has_answer_f1" in report:
        line += (f"; answerable: EM {report['has_answer_exact_match']:.2f}, F1 "
                 f"{report['has_answer_f1']:.2f}; unanswerable: EM "
                 f"{report['no_answer_exact_match']:.2f}")
    if report.get("no_answer_threshold") is not None:
        line += f"; no-answer threshold {report['no_answer_threshold']:.2f}"
    return line
