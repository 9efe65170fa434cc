"""Behaviours of `minibert.layers.SequencePooling`."""

import numpy as np
import pytest

from minibert.layers import SequencePooling
from tests.layer_testing import run_layer_test

# (batch=2, tokens=4, hidden=2); row 0 has 3 real tokens, row 1 has 2.
SEQUENCE = np.array(
    [
        [[1.0, -5.0], [3.0, -2.0], [2.0, -7.0], [100.0, 100.0]],
        [[-4.0, 6.0], [-8.0, 2.0], [90.0, 90.0], [80.0, 80.0]],
    ],
    "float32",
)
PADDING_MASK = np.array([[True, True, True, False], [True, True, False, False]])


@pytest.mark.parametrize("mode", ["max", "mean", "first"])
def test_pooling_keeps_the_layer_contract(mode):
    run_layer_test(
        SequencePooling,
        {"mode": mode},
        {"sequence": SEQUENCE, "padding_mask": PADDING_MASK},
        expected_output_shape=(2, 2),
    )


def test_padding_never_wins_the_max():
    pooled = np.array(SequencePooling("max")(SEQUENCE, PADDING_MASK))
    np.testing.assert_allclose(pooled, [[3.0, -2.0], [-4.0, 6.0]])


def test_padding_is_excluded_from_the_mean():
    pooled = np.array(SequencePooling("mean")(SEQUENCE, PADDING_MASK))
    np.testing.assert_allclose(pooled, [[2.0, -14.0 / 3.0], [-6.0, 4.0]], rtol=1e-6)


def test_first_takes_position_zero():
    pooled = np.array(SequencePooling("first")(SEQUENCE, PADDING_MASK))
    np.testing.assert_array_equal(pooled, SEQUENCE[:, 0])


def test_a_row_of_only_padding_pools_to_finite_values():
    no_real_token = np.zeros((1, 4), bool)
    max_pooled = np.array(SequencePooling("max")(SEQUENCE[:1], no_real_token))
    mean_pooled = np.array(SequencePooling("mean")(SEQUENCE[:1], no_real_token))
    np.testing.assert_allclose(max_pooled, [[-1e4, -1e4]])
    np.testing.assert_allclose(mean_pooled, [[0.0, 0.0]])


def test_unknown_mode_is_a_value_error_naming_it():
    with pytest.raises(ValueError, match="'median'"):
        SequencePooling("median")
