"""Classification metrics beyond accuracy: precision, recall, F1, confusion matrix.

Plain NumPy on predicted probabilities, so the same figures come out of a
training run (metrics.json) and of `python -m minibert evaluate`.
"""

import numpy as np


def predicted_labels(probabilities) -> np.ndarray:
    """Label ids from a classifier's output: one sigmoid column, or a softmax row."""
    probabilities = np.asarray(probabilities)
    if probabilities.ndim == 2 and probabilities.shape[-1] == 1:
        return (probabilities[:, 0] >= 0.5).astype("int64")
    return probabilities.argmax(axis=-1).astype("int64")


def classification_report(labels, probabilities, label_names) -> dict:
    """Accuracy, precision, recall, F1 and the confusion matrix, as JSON-ready values.

    Two classes report precision, recall and F1 of label 1 (the positive
    class); more classes report their macro average (every class counts the
    same) and weighted average (by support). `per_class` has all of them.
    A class never predicted has precision 0, as in scikit-learn.

    Args:
        labels: true label ids, shape (rows,).
        probabilities: the classifier's output, (rows, 1) or (rows, classes).
        label_names: the name of each label id.

    Example:
    >>> report = classification_report([0, 1, 1], [[0.2], [0.9], [0.4]], ["neg", "pos"])
    >>> report["accuracy"], report["precision"], report["recall"]
    (0.6666666666666666, 1.0, 0.5)
    >>> report["confusion_matrix"]
    [[1, 0], [1, 1]]
    """
    labels = np.asarray(labels, dtype="int64")
    predictions = predicted_labels(probabilities)
    num_classes = len(label_names)
    if len(labels) != len(predictions):
        raise ValueError(f"{len(labels)} labels for {len(predictions)} predictions")
    if len(labels) and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(f"labels must be ids 0..{num_classes - 1} of {list(label_names)}")
    confusion = np.zeros((num_classes, num_classes), dtype="int64")
    np.add.at(confusion, (labels, predictions), 1)  # rows: true label, columns: predicted
    true_positives = np.diag(confusion).astype("float64")
    support = confusion.sum(axis=1)
    precision = _safe_divide(true_positives, confusion.sum(axis=0))
    recall = _safe_divide(true_positives, support)
    f1 = _safe_divide(2 * precision * recall, precision + recall)
    report = {
        "accuracy": float(true_positives.sum() / max(len(labels), 1)),
        "label_names": list(label_names),
        "confusion_matrix": confusion.tolist(),
        "per_class": {
            name: {"precision": float(p), "recall": float(r), "f1": float(f), "support": int(s)}
            for name, p, r, f, s in zip(label_names, precision, recall, f1, support)
        },
    }
    if num_classes == 2:
        report.update(precision=float(precision[1]), recall=float(recall[1]), f1=float(f1[1]))
    else:
        weights = support / max(support.sum(), 1)
        for name, values in (("precision", precision), ("recall", recall), ("f1", f1)):
            report[f"macro_{name}"] = float(values.mean())
            report[f"weighted_{name}"] = float((values * weights).sum())
    return report


def _safe_divide(numerator, denominator) -> np.ndarray:
    denominator = np.asarray(denominator, dtype="float64")
    return np.divide(
        numerator, denominator, out=np.zeros_like(denominator), where=denominator > 0
    )


def format_report(report: dict) -> str:
    """The headline figures on one line, then the confusion matrix as a table."""
    figures = [
        f"{key} {report[key]:.4f}"
        for key in ("accuracy", "precision", "recall", "f1", "macro_f1", "weighted_f1")
        if key in report
    ]
    names = report["label_names"]
    corner = "true \\ predicted"
    width = max(len(name) for name in names + [corner])
    column = max(max(len(name) for name in names), 6)
    rows = [[corner] + names] + [
        [name] + [str(count) for count in counts]
        for name, counts in zip(names, report["confusion_matrix"])
    ]
    lines = [", ".join(figures)]
    for row in rows:
        lines.append(f"{row[0]:<{width}}  " + "  ".join(f"{cell:>{column}}" for cell in row[1:]))
    return "\n".join(lines)
