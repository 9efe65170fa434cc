import numpy as np
import pytest
import tensorflow as tf

from minibert.data.masking import mask_tokens, max_predictions_for
from minibert.data.tokenizer import MASK_ID, NUM_SPECIAL_TOKENS

VOCABULARY_SIZE = 1000


def random_batch(num_sequences=400, num_tokens=256, seed=0):
    """Real words with padded tails of random length and a few special tokens."""
    rng = np.random.default_rng(seed)
    ids = rng.integers(NUM_SPECIAL_TOKENS, VOCABULARY_SIZE, size=(num_sequences, num_tokens))
    lengths = rng.integers(10, num_tokens + 1, size=num_sequences)
    ids[np.arange(num_tokens)[None, :] >= lengths[:, None]] = 0
    ids[:, 0] = 3  # [cls]
    ids[::7, 5] = 1  # [UNK]
    return ids.astype("int32")


def masked(ids, seed=(1, 2), **kwargs):
    inputs, labels, weights = mask_tokens(
        ids, tf.constant(seed), vocabulary_size=VOCABULARY_SIZE, **kwargs
    )
    return (
        inputs["token_ids"].numpy(),
        inputs["mask_positions"].numpy(),
        labels.numpy(),
        weights.numpy(),
    )


def test_special_tokens_and_padding_are_never_masked():
    ids = random_batch()
    masked_ids, positions, labels, weights = masked(ids)
    chosen_originals = labels[weights > 0]
    assert (chosen_originals >= NUM_SPECIAL_TOKENS).all()
    special = ids < NUM_SPECIAL_TOKENS
    assert (masked_ids[special] == ids[special]).all()


def test_fifteen_percent_of_real_words_are_chosen():
    ids = random_batch()
    _, _, _, weights = masked(ids)
    real_words = (ids >= NUM_SPECIAL_TOKENS).sum()
    assert weights.sum() / real_words == pytest.approx(0.15, abs=0.005)


def test_chosen_tokens_split_80_10_10_within_one_and_a_half_points():
    ids = random_batch()  # ~53k real words, ~8k chosen per call; 13 calls pass 100k
    outcomes = np.zeros(3)
    for seed in range(13):
        masked_ids, positions, labels, weights = masked(ids, seed=(seed, 7))
        now = np.take_along_axis(masked_ids, positions, axis=1)[weights > 0]
        before = labels[weights > 0]
        outcomes += [
            (now == MASK_ID).sum(),
            ((now != MASK_ID) & (now != before)).sum(),
            (now == before).sum(),
        ]
    assert outcomes.sum() > 100_000
    shares = outcomes / outcomes.sum()
    # A random replacement can draw the original word (1 in ~1000): it then counts as kept.
    assert shares == pytest.approx([0.8, 0.1, 0.1], abs=0.015)


def test_only_chosen_positions_change():
    ids = random_batch()
    masked_ids, positions, _, weights = masked(ids)
    chosen = np.zeros_like(ids, dtype=bool)
    rows = np.repeat(np.arange(len(ids)), positions.shape[1]).reshape(positions.shape)
    chosen[rows[weights > 0], positions[weights > 0]] = True
    assert (masked_ids[~chosen] == ids[~chosen]).all()


def test_labels_are_the_original_ids_at_the_positions():
    ids = random_batch()
    _, positions, labels, _ = masked(ids)
    assert (labels == np.take_along_axis(ids, positions, axis=1)).all()


def test_same_seed_gives_the_same_masks_and_another_seed_does_not():
    ids = random_batch(50)
    first, second = masked(ids, seed=(3, 4)), masked(ids, seed=(3, 4))
    other = masked(ids, seed=(5, 4))
    assert all((a == b).all() for a, b in zip(first, second))
    assert not (first[0] == other[0]).all()


def test_a_sequence_without_real_words_gets_no_prediction():
    ids = np.array([[3, 1, 0, 0], [3, 10, 11, 0]], "int32")
    _, _, _, weights = masked(ids, max_predictions=2)
    assert weights[0].sum() == 0
    assert weights[1].sum() == 1  # at least one prediction when there is a word


def test_prediction_slots_cover_the_mask_rate():
    assert max_predictions_for(256, 0.15) == 39
    assert max_predictions_for(4, 0.15) == 1
