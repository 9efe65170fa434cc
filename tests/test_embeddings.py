"""A run's sentence vectors and their 2-D projections."""

import sys

import keras
import numpy as np
import pandas as pd
import pytest

from minibert.data.tokenizer import build_vectorizer
from minibert.inspection.embeddings import (
    embedding_table,
    pca_2d,
    project_2d,
    sentence_vectors,
)
from minibert.models import Backbone
from minibert.tasks.classification.classifier import Classifier
from minibert.tasks.classification.end_to_end_classifier import EndToEndClassifier
from minibert.tasks.classification.pair_classifier import PairClassifier

TEXTS = ["a good film", "a bad film", "great acting and a great story", "awful and boring", "good"]


def _end_to_end(classifier_class=Classifier, pooling="mean"):
    keras.utils.set_random_seed(0)
    vectorizer = build_vectorizer(TEXTS, 30, 8)
    backbone = Backbone(30, 8, 16, num_layers=1, num_heads=2, intermediate_dim=32)
    classifier = classifier_class(backbone, num_classes=3, pooling=pooling)
    return EndToEndClassifier(vectorizer, classifier, ["negative", "neutral", "positive"])


def test_pca_projects_onto_the_direction_of_largest_spread():
    # Rows spread 2 units along (0.6, 0.8) and 0.1 across it, on orthogonal
    # row patterns: the principal axes are exactly those two directions.
    along = np.array([-2.0, -1.0, 0.0, 1.0, 2.0])
    across = np.array([1.0, -1.0, 0.0, -1.0, 1.0])
    points = np.outer(along, [0.6, 0.8]) + 0.1 * np.outer(across, [-0.8, 0.6]) + [5.0, -3.0]
    coordinates, share = pca_2d(points)
    np.testing.assert_allclose(coordinates[:, 0], along, atol=1e-9)
    # The second axis points at (0.8, -0.6): its largest loading is made positive.
    np.testing.assert_allclose(coordinates[:, 1], -0.1 * across, atol=1e-9)
    np.testing.assert_allclose(share, [10.0 / 10.04, 0.04 / 10.04])


def test_pca_draws_the_same_picture_whatever_the_row_order():
    points = np.random.default_rng(0).normal(size=(30, 5))
    order = np.random.default_rng(1).permutation(30)
    np.testing.assert_allclose(pca_2d(points[order])[0], pca_2d(points)[0][order], atol=1e-9)


def test_pca_of_one_row_says_what_it_needs():
    with pytest.raises(ValueError, match=r"2 rows or more; got shape \(1, 3\)"):
        pca_2d(np.ones((1, 3)))


def test_sentence_vectors_are_the_pooled_backbone_output_the_head_sees():
    model = _end_to_end(pooling="mean")
    token_ids = model.classifier_inputs(TEXTS)
    sequence = keras.ops.convert_to_numpy(model.classifier.backbone(token_ids))  # (rows, tokens, hidden)
    real = (token_ids != 0)[..., None]
    expected = (sequence * real).sum(axis=1) / real.sum(axis=1)
    np.testing.assert_allclose(sentence_vectors(model, TEXTS), expected, rtol=1e-5, atol=1e-5)


def test_a_pair_model_is_refused_in_one_line():
    with pytest.raises(ValueError, match="classifies text pairs; .* single-text runs only"):
        sentence_vectors(_end_to_end(PairClassifier), TEXTS)


def test_embedding_table_samples_rows_and_names_their_labels():
    frame = pd.DataFrame({"text": TEXTS * 4, "label": [0, 1, 2, 0, 1] * 4})
    table, axis_names = embedding_table(_end_to_end(), frame, max_rows=12)
    assert list(table.columns) == ["x", "y", "label", "text"] and len(table) == 12
    assert set(table["label"]) <= {"negative", "neutral", "positive"}
    assert axis_names[0].startswith("PC 1 (") and axis_names[0].endswith("% of variance)")
    with pytest.raises(ValueError, match="labels run from 0 to 5, but the run knows 3 labels"):
        embedding_table(_end_to_end(), frame.assign(label=[0, 1, 2, 5, 1] * 4))


def test_tsne_gives_two_coordinates_per_row():
    pytest.importorskip("sklearn")
    coordinates, axis_names = project_2d(np.random.default_rng(0).normal(size=(20, 4)), "tsne")
    assert coordinates.shape == (20, 2) and axis_names == ("t-SNE 1", "t-SNE 2")


def test_tsne_without_scikit_learn_says_how_to_get_it(monkeypatch):
    # None in sys.modules makes the import fail, as if scikit-learn were not installed.
    monkeypatch.setitem(sys.modules, "sklearn", None)
    monkeypatch.setitem(sys.modules, "sklearn.manifold", None)
    with pytest.raises(ValueError, match="t-SNE needs scikit-learn: pip install scikit-learn"):
        project_2d(np.zeros((5, 2)), "tsne")
