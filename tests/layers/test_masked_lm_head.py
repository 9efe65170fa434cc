"""Behaviours of `minibert.layers.MaskedLMHead`."""

import keras
import numpy as np
import pytest

from minibert.layers import MaskedLMHead
from tests.layer_testing import run_layer_test

BATCH, TOKENS, HIDDEN, VOCABULARY = 2, 8, 16, 50
MASK_POSITIONS = np.array([[1, 3, 6], [0, 2, 2]], "int32")  # (batch, predictions)


def _sequence(seed=0):
    return np.random.default_rng(seed).normal(size=(BATCH, TOKENS, HIDDEN)).astype("float32")


def _gathered(sequence):
    """(batch, predictions, hidden): the vectors at MASK_POSITIONS."""
    return np.take_along_axis(sequence, MASK_POSITIONS[..., None], axis=1)


@pytest.fixture
def mixed_bfloat16():
    previous = keras.mixed_precision.global_policy().name
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    try:
        yield
    finally:
        keras.mixed_precision.set_global_policy(previous)


@pytest.mark.parametrize("transform", [False, True], ids=["plain", "transform"])
def test_head_keeps_the_layer_contract(transform):
    run_layer_test(
        MaskedLMHead,
        {
            "vocabulary_size": VOCABULARY,
            "transform": transform,
            "activation": "relu",
            "layer_norm_epsilon": 1e-5,
        },
        {"sequence": _sequence(), "mask_positions": MASK_POSITIONS},
        expected_output_shape=(BATCH, 3, VOCABULARY),
    )


def test_logits_are_float32_under_mixed_bfloat16(mixed_bfloat16):
    head = MaskedLMHead(vocabulary_size=VOCABULARY, transform=True)
    logits = head(_sequence(), MASK_POSITIONS)
    assert head.compute_dtype == "bfloat16"  # the policy did apply
    assert tuple(logits.shape) == (BATCH, 3, VOCABULARY)
    assert keras.backend.standardize_dtype(logits.dtype) == "float32"


def test_logits_depend_only_on_the_gathered_positions():
    keras.utils.set_random_seed(0)
    head = MaskedLMHead(vocabulary_size=VOCABULARY, transform=True)
    sequence = _sequence()
    logits = np.array(head(sequence, MASK_POSITIONS))

    elsewhere = sequence.copy()
    elsewhere[0, [0, 2, 4, 5, 7]] = 50.0  # row 0 gathers 1, 3, 6 only
    elsewhere[1, [1, 3, 7]] = -50.0  # row 1 gathers 0, 2 only
    np.testing.assert_array_equal(np.array(head(elsewhere, MASK_POSITIONS)), logits)

    gathered_changed = sequence.copy()
    gathered_changed[0, 3] += 1.0
    changed_logits = np.array(head(gathered_changed, MASK_POSITIONS))
    assert np.abs(changed_logits[0, 1] - logits[0, 1]).max() > 1e-3
    np.testing.assert_array_equal(changed_logits[1], logits[1])


def test_tied_head_projects_with_the_embedding_table_and_owns_no_kernel():
    keras.utils.set_random_seed(0)
    embedding = keras.layers.Embedding(VOCABULARY, HIDDEN)
    embedding.build((None, None))
    head = MaskedLMHead(vocabulary_size=VOCABULARY, token_embedding=embedding)
    sequence = _sequence()
    logits = np.array(head(sequence, MASK_POSITIONS))

    assert not hasattr(head, "output_kernel")
    assert not [w.path for w in head.weights if "output_kernel" in w.path]
    table = np.array(embedding.embeddings)  # (vocabulary, hidden)
    np.testing.assert_allclose(logits, _gathered(sequence) @ table.T, atol=1e-5)

    # The head reads the table at call time: a new table gives new logits.
    embedding.embeddings.assign(2.0 * table)
    np.testing.assert_allclose(
        np.array(head(sequence, MASK_POSITIONS)), 2.0 * (_gathered(sequence) @ table.T), atol=1e-5
    )
