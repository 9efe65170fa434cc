"""Behaviours of `minibert.layers.TransformerEncoder`."""

import keras
import numpy as np
import pytest

from minibert.layers import TransformerEncoder
from tests.layer_testing import run_layer_test

BATCH, TOKENS, HIDDEN = 2, 6, 16


def _sequence(seed=0):
    return np.random.default_rng(seed).normal(size=(BATCH, TOKENS, HIDDEN)).astype("float32")


def _padding_mask(real_tokens=(4, 2)):
    """True on the first `real_tokens[row]` positions of each row."""
    return np.arange(TOKENS)[None, :] < np.array(real_tokens)[:, None]


def _encoder(**kwargs):
    keras.utils.set_random_seed(0)
    kwargs = {"num_heads": 2, "intermediate_dim": 32, "dropout": 0.0, **kwargs}
    encoder = TransformerEncoder(**kwargs)
    encoder.build((None, None, HIDDEN))
    return encoder


@pytest.mark.parametrize("normalize_first", [False, True], ids=["post_ln", "pre_ln"])
def test_encoder_keeps_the_layer_contract(normalize_first):
    run_layer_test(
        TransformerEncoder,
        {
            "num_heads": 2,
            "intermediate_dim": 32,
            "dropout": 0.2,
            "activation": "gelu",
            "normalize_first": normalize_first,
            "layer_norm_epsilon": 1e-5,
        },
        {"inputs": _sequence(), "padding_mask": _padding_mask()},
        expected_output_shape=(BATCH, TOKENS, HIDDEN),
    )


def test_padded_tail_does_not_change_real_tokens_when_masked():
    encoder = _encoder()
    mask = _padding_mask()
    sequence = _sequence()
    # Arbitrary, large vectors wherever the mask says padding.
    changed = np.where(mask[..., None], sequence, 100.0 * _sequence(seed=1))

    masked = np.array(encoder(sequence, padding_mask=mask))
    masked_changed = np.array(encoder(changed, padding_mask=mask))
    np.testing.assert_allclose(masked_changed[mask], masked[mask], atol=1e-5)

    # Without the mask, real tokens attend to the padding, so they move.
    unmasked = np.array(encoder(sequence))
    unmasked_changed = np.array(encoder(changed))
    assert np.abs(unmasked_changed[mask] - unmasked[mask]).max() > 1e-2


def test_pre_ln_and_post_ln_give_different_outputs_with_the_same_weights():
    post_ln = _encoder(normalize_first=False)
    pre_ln = _encoder(normalize_first=True)
    pre_ln.set_weights(post_ln.get_weights())
    sequence = _sequence()
    assert np.abs(np.array(pre_ln(sequence)) - np.array(post_ln(sequence))).max() > 1e-2


def test_dropout_is_inactive_at_inference_and_active_in_training():
    encoder = _encoder(dropout=0.5)
    sequence = _sequence()
    np.testing.assert_array_equal(np.array(encoder(sequence)), np.array(encoder(sequence)))
    np.testing.assert_array_equal(
        np.array(encoder(sequence, training=False)), np.array(encoder(sequence))
    )
    assert not np.allclose(
        np.array(encoder(sequence, training=True)), np.array(encoder(sequence, training=False))
    )


def test_hidden_size_not_divisible_by_num_heads_names_num_heads():
    encoder = TransformerEncoder(num_heads=3, intermediate_dim=32)
    with pytest.raises(ValueError, match="num_heads=3"):
        encoder(_sequence())
