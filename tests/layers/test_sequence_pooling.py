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


@pytest.mark.parametrize("mode", ["max", "mean"])
def test_a_row_of_only_padding_pools_to_zeros_beside_a_real_row(mode):
    # An empty text: the head must not see -1e4 stand-ins (a certain answer).
    padding_mask = PADDING_MASK.copy()
    padding_mask[0] = False
    pooled = np.array(SequencePooling(mode)(SEQUENCE, padding_mask))
    np.testing.assert_array_equal(pooled[0], [0.0, 0.0])
    np.testing.assert_array_equal(pooled[1], np.array(SequencePooling(mode)(SEQUENCE, PADDING_MASK))[1])


def test_unknown_mode_is_a_value_error_naming_it():
    with pytest.raises(ValueError, match="'median'"):
        SequencePooling("median")
