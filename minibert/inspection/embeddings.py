"""A run's sentence vectors in two dimensions, to see whether its labels separate.

The vector of a text is what the classifier's head sees: the backbone's
output pooled over the text's real tokens (`Classifier.pooling`). Projected
to 2-D by PCA (numpy's SVD: linear, deterministic, fast) or t-SNE
(scikit-learn, optional: nonlinear, keeps neighbours together, slower), the
labels' clusters show how far apart the classifier's input keeps them.
"""

import keras
import numpy as np
import pandas as pd

PROJECTIONS = ("pca", "tsne")


def sentence_vectors(end_to_end, texts, batch_size=256) -> np.ndarray:
    """(rows, hidden) float32: the pooled vector the classifier's head sees for each text.

    Args:
        end_to_end: a `minibert.models.EndToEndClassifier` of single texts,
            as a run saves it (`end_to_end.keras`).
        texts: a list, array or Series of strings.

    Example:
    >>> from minibert.data.tokenizer import build_vectorizer
    >>> from minibert.models import Backbone
    >>> from minibert.tasks.classification.classifier import Classifier
    >>> from minibert.tasks.classification.end_to_end_classifier import EndToEndClassifier
    >>> vectorizer = build_vectorizer(["a good film", "a bad film"], 10, 8)
    >>> backbone = Backbone(10, 8, 16, num_layers=1, num_heads=2, intermediate_dim=32)
    >>> model = EndToEndClassifier(vectorizer, Classifier(backbone), ["negative", "positive"])
    >>> sentence_vectors(model, ["a good film", "a bad film", "good"]).shape
    (3, 16)
    """
    if end_to_end.pairs:
        raise ValueError(
            "the run classifies text pairs; sentence vectors are drawn for single-text runs only"
        )
    classifier = end_to_end.classifier
    # The classifier's own graph, cut where its head begins: the hidden Dense
    # layer's input is the pooled sequence, whatever the pooling mode.
    pooled = keras.Model(classifier.input, classifier.hidden.input)
    vectors = pooled.predict(end_to_end.classifier_inputs(texts), batch_size=batch_size, verbose=0)
    return np.asarray(vectors, dtype="float32")  # float32 under mixed precision too


def pca_2d(vectors) -> tuple[np.ndarray, np.ndarray]:
    """(rows, 2) coordinates on the two principal axes, and the share of variance of each.

    Each axis's sign is chosen so that its largest loading is positive: SVD
    fixes a direction only up to its sign, and reruns should draw the same
    picture.

    Example:
    >>> points = np.array([[0.0, 0.0], [2.0, 2.0], [4.0, 4.0]])
    >>> coordinates, share = pca_2d(points)
    >>> np.round(coordinates[:, 0], 3).tolist(), np.round(share, 3).tolist()
    ([-2.828, 0.0, 2.828], [1.0, 0.0])
    """
    vectors = np.asarray(vectors, dtype="float64")
    if vectors.ndim != 2 or len(vectors) < 2:
        raise ValueError(f"PCA needs a (rows, features) matrix of 2 rows or more; got shape {vectors.shape}")
    centered = vectors - vectors.mean(axis=0)
    _, singular_values, directions = np.linalg.svd(centered, full_matrices=False)
    largest = np.abs(directions).argmax(axis=1)
    directions = directions * np.sign(directions[np.arange(len(directions)), largest])[:, None]
    coordinates = centered @ directions[:2].T
    variance = singular_values**2
    share = variance[:2] / variance.sum() if variance.sum() > 0 else np.zeros(len(variance[:2]))
    # A single feature gives one axis: the second is flat.
    missing = 2 - coordinates.shape[1]
    return np.pad(coordinates, ((0, 0), (0, missing))), np.pad(share, (0, missing))


def tsne_2d(vectors, seed=42) -> np.ndarray:
    """(rows, 2) t-SNE coordinates (scikit-learn's), seeded."""
    try:
        from sklearn.manifold import TSNE
    except ImportError:
        raise ValueError(
            "t-SNE needs scikit-learn: pip install scikit-learn, or project with pca"
        ) from None
    vectors = np.asarray(vectors, dtype="float32")
    # scikit-learn requires perplexity < rows; 30 (its default) for any real sample.
    perplexity = min(30.0, max(1.0, (len(vectors) - 1) / 3))
    return TSNE(n_components=2, perplexity=perplexity, init="pca", random_state=seed).fit_transform(vectors)


def project_2d(vectors, method="pca", seed=42) -> tuple[np.ndarray, tuple[str, str]]:
    """(rows, 2) coordinates by `method` ("pca" or "tsne"), and the names of their axes."""
    if method == "pca":
        coordinates, share = pca_2d(vectors)
        return coordinates, tuple(f"PC {axis + 1} ({share[axis]:.0%} of variance)" for axis in range(2))
    if method == "tsne":
        return tsne_2d(vectors, seed), ("t-SNE 1", "t-SNE 2")
    raise ValueError(f"projection {method!r} is not one of {PROJECTIONS}")


def embedding_table(end_to_end, frame, method="pca", max_rows=2000, seed=42):
    """Each row's 2-D sentence vector, label name and text; and the axes' names.

    Args:
        end_to_end: a single-text `EndToEndClassifier`.
        frame: a DataFrame with `text` and `label` (ids of
            `end_to_end.label_names`) columns.
        method: "pca" or "tsne".
        max_rows: a larger frame is sampled (seeded) down to this many rows.

    Returns:
        A DataFrame with columns `x`, `y`, `label` and `text`, and the names
        of the x and y axes.
    """
    if len(frame) > max_rows:
        frame = frame.sample(max_rows, random_state=seed)
    label_names = list(end_to_end.label_names)
    labels = frame["label"].to_numpy()
    if len(labels) and not 0 <= labels.min() <= labels.max() < len(label_names):
        raise ValueError(
            f"labels run from {labels.min()} to {labels.max()}, but the run knows {len(label_names)} "
            f"labels {label_names}; pass the data set the run was trained on"
        )
    coordinates, axis_names = project_2d(sentence_vectors(end_to_end, frame["text"]), method, seed)
    table = pd.DataFrame({
        "x": coordinates[:, 0],
        "y": coordinates[:, 1],
        "label": [label_names[label] for label in labels],
        "text": frame["text"].to_numpy(),
    })
    return table, axis_names
