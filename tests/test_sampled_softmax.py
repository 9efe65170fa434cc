"""The sampled softmax: draws, corrections and how close its gradient is to the full one."""

import keras
import numpy as np
import tensorflow as tf

from minibert.layers.sampled_softmax import (
    log_uniform_probability,
    sample_log_uniform,
    sampled_softmax_loss,
)

VOCABULARY, HIDDEN = 50, 8


def test_log_uniform_probabilities_sum_to_one_and_fall_with_the_id():
    probabilities = np.array(log_uniform_probability(np.arange(VOCABULARY), VOCABULARY))
    np.testing.assert_allclose(probabilities.sum(), 1.0, rtol=1e-5)
    assert np.all(np.diff(probabilities) < 0)


def test_draws_stay_in_the_vocabulary_and_follow_the_log_uniform_probabilities():
    draws = np.array(sample_log_uniform(200_000, VOCABULARY, seed=0))
    assert draws.min() >= 0 and draws.max() < VOCABULARY
    frequencies = np.bincount(draws, minlength=VOCABULARY) / len(draws)
    expected = np.array(log_uniform_probability(np.arange(VOCABULARY), VOCABULARY))
    np.testing.assert_allclose(frequencies, expected, atol=0.003)


def test_drawing_only_the_true_word_leaves_nothing_to_contrast():
    features = keras.random.normal((2, 3, HIDDEN), seed=1)
    labels = np.full((2, 3), 7, "int32")
    table = keras.random.normal((VOCABULARY, HIDDEN), seed=2)
    loss = sampled_softmax_loss(features, labels, table, np.zeros(VOCABULARY, "float32"), np.full(4, 7, "int32"))
    np.testing.assert_allclose(np.array(loss), 0.0, atol=1e-6)


def _gradient(loss_function, features):
    features = tf.Variable(features)
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(loss_function(features))
    return tape.gradient(loss, features).numpy().ravel()


def test_sampled_gradient_points_where_the_full_softmax_gradient_does():
    rng = np.random.default_rng(0)
    features = rng.normal(size=(4, 5, HIDDEN)).astype("float32")
    labels = rng.integers(5, VOCABULARY, size=(4, 5)).astype("int32")
    table = (0.3 * rng.normal(size=(VOCABULARY, HIDDEN))).astype("float32")
    bias = np.zeros(VOCABULARY, "float32")

    def full(x):
        logits = tf.matmul(x, table, transpose_b=True)
        return tf.keras.losses.sparse_categorical_crossentropy(labels, logits, from_logits=True)

    def sampled(x, num_sampled):
        return sampled_softmax_loss(x, labels, table, bias, sample_log_uniform(num_sampled, VOCABULARY, seed=3))

    reference = _gradient(full, features)

    def cosine(num_sampled):
        gradient = _gradient(lambda x: sampled(x, num_sampled), features)
        return gradient @ reference / np.linalg.norm(gradient) / np.linalg.norm(reference)

    # The draws estimate the softmax's normalizer: more draws, a closer gradient.
    assert cosine(20_000) > 0.98
    assert cosine(20_000) > cosine(10)
