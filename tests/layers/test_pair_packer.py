"""Behaviours of `minibert.layers.PairPacker`: `[cls] a [sep] b [sep]`, cut longest first."""

import numpy as np
import pytest

from minibert.data.tokenizer import CLS_ID, SEP_ID, UNKNOWN_ID
from minibert.layers import PairPacker
from tests.layer_testing import run_layer_test

CLS, SEP = CLS_ID, SEP_ID


def _padded(rows, width):
    return np.array([row + [0] * (width - len(row)) for row in rows], "int32")


def _pack(first, second, sequence_length, width=None):
    width = width or max(len(first), len(second), 1)
    packed = PairPacker(sequence_length)(_padded([first], width), _padded([second], width))
    return np.array(packed)[0].tolist()


def test_packer_keeps_the_layer_contract():
    first = _padded([[7, 8, 9], [10]], 6)
    second = _padded([[11, 12], [13, 14, 15, 16, 17, 18]], 6)
    run_layer_test(
        PairPacker, {"sequence_length": 10}, {"token_ids_a": first, "token_ids_b": second},
        expected_output_shape=(2, 10),
    )


def test_a_short_pair_is_packed_whole_and_padded():
    assert _pack([7, 8, 9], [11, 12], 10) == [CLS, 7, 8, 9, SEP, 11, 12, SEP, 0, 0]


def test_a_long_pair_is_cut_longest_first():
    long, short = list(range(10, 30)), [5, 6]
    # 12 - 3 = 9 words fit: the short side keeps its 2, the long side the other 7.
    assert _pack(long, short, 12) == [CLS, *long[:7], SEP, 5, 6, SEP]
    assert _pack(short, long, 12) == [CLS, 5, 6, SEP, *long[:7], SEP]
    # Two long sides share the room: the first gets the odd word.
    assert _pack(long, list(range(40, 60)), 12) == [CLS, *long[:5], SEP, 40, 41, 42, 43, SEP]


def test_an_empty_side_still_gets_its_separator():
    assert _pack([], [5, 6], 6, width=3) == [CLS, SEP, 5, 6, SEP, 0]
    assert _pack([5, 6], [], 6, width=3) == [CLS, 5, 6, SEP, SEP, 0]


def test_a_separator_inside_a_text_becomes_unknown():
    assert _pack([7, SEP, 8], [9], 8) == [CLS, 7, UNKNOWN_ID, 8, SEP, 9, SEP, 0]


def test_too_short_a_sequence_length_is_refused():
    with pytest.raises(ValueError, match="sequence_length=2"):
        PairPacker(2)
