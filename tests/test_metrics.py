"""Precision, recall, F1 and the confusion matrix, checked against hand counts."""

import numpy as np
import pytest

from minibert.tasks.classification.metrics import (
    classification_report,
    format_report,
    predicted_labels,
)


def test_binary_report_scores_the_positive_class():
    labels = [1, 1, 1, 0, 0, 0, 0]
    probabilities = np.array([[0.9], [0.8], [0.2], [0.7], [0.1], [0.3], [0.4]])
    report = classification_report(labels, probabilities, ["neg", "pos"])
    # pos: 2 true positives, 1 false positive, 1 false negative.
    assert report["confusion_matrix"] == [[3, 1], [1, 2]]
    assert report["accuracy"] == pytest.approx(5 / 7)
    assert report["precision"] == pytest.approx(2 / 3) and report["recall"] == pytest.approx(2 / 3)
    assert report["f1"] == pytest.approx(2 / 3)
    assert report["per_class"]["neg"] == pytest.approx(
        {"precision": 0.75, "recall": 0.75, "f1": 0.75, "support": 4}
    )


def test_four_class_report_averages_over_classes_and_over_rows():
    names = ["world", "sports", "business", "science"]
    labels = np.array([0, 0, 0, 0, 1, 1, 2, 3])
    predictions = np.array([0, 0, 0, 1, 1, 1, 0, 0])  # "business" and "science" never predicted
    report = classification_report(labels, np.eye(4)[predictions], names)
    per_class = report["per_class"]
    assert per_class["world"]["precision"] == pytest.approx(3 / 5)
    assert per_class["world"]["recall"] == pytest.approx(3 / 4)
    assert per_class["sports"]["precision"] == pytest.approx(2 / 3)
    assert per_class["business"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1}
    f1 = [2 * 0.6 * 0.75 / 1.35, 2 * (2 / 3) / (2 / 3 + 1), 0.0, 0.0]
    assert report["macro_f1"] == pytest.approx(np.mean(f1))
    assert report["weighted_f1"] == pytest.approx(np.dot(f1, [4, 2, 1, 1]) / 8)
    assert report["accuracy"] == pytest.approx(5 / 8)
    assert "precision" not in report  # one class's figure would mislead for four


def test_sigmoid_and_softmax_outputs_give_label_ids():
    assert predicted_labels([[0.49], [0.5]]).tolist() == [0, 1]
    assert predicted_labels([[0.1, 0.7, 0.2]]).tolist() == [1]


def test_labels_outside_the_classes_are_named():
    with pytest.raises(ValueError, match=r"ids 0..1 of \['neg', 'pos'\]"):
        classification_report([0, 2], [[0.1], [0.9]], ["neg", "pos"])
    with pytest.raises(ValueError, match="3 labels for 2 predictions"):
        classification_report([0, 1, 1], [[0.1], [0.9]], ["neg", "pos"])


def test_format_report_prints_figures_and_one_matrix_row_per_class():
    report = classification_report([0, 1, 1], [[0.2], [0.9], [0.4]], ["negative", "positive"])
    lines = format_report(report).splitlines()
    assert lines[0].startswith("accuracy 0.6667, precision 1.0000, recall 0.5000, f1 0.6667")
    assert lines[1].split()[-2:] == ["negative", "positive"]
    assert lines[2].split() == ["negative", "1", "0"] and lines[3].split() == ["positive", "1", "1"]
