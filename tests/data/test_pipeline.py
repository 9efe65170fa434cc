import numpy as np
import pytest

from minibert.data.pipeline import classification_dataset, mlm_dataset
from minibert.data.tokenizer import NUM_SPECIAL_TOKENS

VOCABULARY_SIZE = 100


def token_ids(num_sequences=64, num_tokens=20):
    rng = np.random.default_rng(0)
    ids = rng.integers(NUM_SPECIAL_TOKENS, VOCABULARY_SIZE, size=(num_sequences, num_tokens))
    ids[:, 15:] = 0
    return ids.astype("int32")


def epoch(dataset):
    """Each batch's masked ids, as one array (rows in the epoch's order)."""
    return np.concatenate([inputs["token_ids"].numpy() for inputs, _, _ in dataset])


def masks_by_row(dataset, ids):
    """The masked version of each original row, so orders do not matter."""
    inputs = epoch(dataset)
    originals = [tuple(row) for row in ids]
    rows = {}
    for row in inputs:
        # Unmasked tokens identify the original row (ids are random, so unique).
        match = max(range(len(ids)), key=lambda i: (ids[i] == row).sum())
        rows[originals[match]] = tuple(row)
    return rows


def make(ids, **kwargs):
    return mlm_dataset(ids, batch_size=16, vocabulary_size=VOCABULARY_SIZE, seed=1, **kwargs)


def test_dynamic_masking_draws_new_masks_every_epoch():
    ids = token_ids()
    dataset = make(ids)
    assert masks_by_row(dataset, ids) != masks_by_row(dataset, ids)


def test_static_masking_keeps_each_sequences_mask_across_epochs():
    ids = token_ids()
    dataset = make(ids, static_masking=True)
    first, second = epoch(dataset), epoch(dataset)
    assert masks_by_row(dataset, ids) == masks_by_row(dataset, ids)
    assert not (first == second).all()  # but the order is reshuffled


def test_same_seed_gives_the_same_batches():
    ids = token_ids()
    assert (epoch(make(ids)) == epoch(make(ids))).all()


def test_mlm_batches_carry_positions_labels_and_weights():
    inputs, labels, weights = next(iter(make(token_ids())))
    assert inputs["token_ids"].shape == (16, 20)
    assert inputs["mask_positions"].shape == (16, 3)  # ceil(0.15 x 20)
    assert labels.shape == weights.shape == (16, 3)


def test_empty_sequences_are_left_out_of_pretraining():
    ids = token_ids(32)
    ids[:8] = 0
    assert sum(len(labels) for _, labels, _ in make(ids)) == 24


def test_classification_batches_pair_ids_with_labels_in_order_without_shuffle():
    ids, labels = token_ids(10), np.arange(10)
    batches = list(classification_dataset(ids, labels, batch_size=4, shuffle=False))
    assert [len(b[1]) for b in batches] == [4, 4, 2]
    assert np.concatenate([b[1] for b in batches]).tolist() == list(range(10))
    assert (batches[0][0].numpy() == ids[:4]).all()


def varied_lengths(num_sequences=300, num_tokens=128):
    rng = np.random.default_rng(3)
    ids = rng.integers(NUM_SPECIAL_TOKENS, VOCABULARY_SIZE, size=(num_sequences, num_tokens))
    lengths = rng.integers(1, num_tokens + 1, size=num_sequences)
    ids[np.arange(num_tokens)[None, :] >= lengths[:, None]] = 0
    return ids.astype("int32")


def test_dynamic_padding_cuts_batches_to_their_longest_sequence_in_steps_of_32():
    ids = varied_lengths()
    batches = [inputs["token_ids"].numpy() for inputs, _, _ in make(ids, dynamic_padding=True)]
    widths = {batch.shape[1] for batch in batches}
    assert widths <= {32, 64, 96, 128} and len(widths) > 1
    for batch in batches:
        longest = (batch != 0).sum(axis=1).max()
        assert batch.shape[1] - 32 < longest <= batch.shape[1]
    padded = sum(batch.size for batch in batches)
    assert padded < 0.75 * ids.size  # the point: far fewer pads than padding to 128


def test_dynamic_padding_keeps_every_sequence_once_per_epoch():
    ids = varied_lengths()
    dataset = make(ids, dynamic_padding=True)
    assert dataset.cardinality().numpy() == len(list(dataset)) == 19  # ceil(300 / 16)
    restored = []
    for inputs, labels, _ in dataset:
        # Writing the labels back at their positions undoes the masking.
        batch = inputs["token_ids"].numpy().copy()
        np.put_along_axis(batch, inputs["mask_positions"].numpy(), labels.numpy(), axis=1)
        restored += [tuple(row[row != 0]) for row in batch]
    assert sorted(restored) == sorted(tuple(row[row != 0]) for row in ids)


def test_dynamic_padding_needs_dynamic_masking():
    with pytest.raises(ValueError, match="dynamic masking"):
        make(token_ids(), dynamic_padding=True, static_masking=True)


@pytest.mark.parametrize("shuffle", [False, True], ids=["in-order", "shuffled"])
def test_classification_dynamic_padding_keeps_each_review_with_its_label(shuffle):
    ids = varied_lengths()
    labels = np.arange(len(ids))  # a label that names its row
    dataset = classification_dataset(ids, labels, batch_size=16, shuffle=shuffle, dynamic_padding=True)
    assert dataset.cardinality().numpy() == 19
    seen = []
    for batch_ids, batch_labels in dataset:
        batch_ids, batch_labels = batch_ids.numpy(), batch_labels.numpy()
        assert batch_ids.shape[1] % 32 == 0 and batch_ids.shape[1] - 32 < (batch_ids != 0).sum(axis=1).max()
        for row, label in zip(batch_ids, batch_labels):
            np.testing.assert_array_equal(row, ids[label, : len(row)])
            assert not ids[label, len(row):].any()  # only padding was cut
        seen += batch_labels.tolist()
    assert sorted(seen) == list(range(len(ids)))
    if not shuffle:
        assert seen == list(range(len(ids)))


@pytest.mark.parametrize(
    "options",
    [{}, {"dynamic_padding": True}, {"static_masking": True}],
    ids=["shuffled", "length-grouped", "static"],
)
def test_row_labels_travel_with_their_rows(options):
    # Row i is made of one word, 10 + its label: masking changes ~15% of it,
    # so the row's commonest word still names the label it must carry.
    labels = np.tile([0, 1, 1], 22)[:64].astype("int32")
    ids = np.repeat((10 + labels)[:, None], 20, axis=1).astype("int32")
    dataset = make(ids, row_labels={"nsp": labels}, **options)
    rows = 0
    for inputs, batch_labels, weights in dataset:
        assert set(batch_labels) == set(weights) == {"mlm", "nsp"}
        assert batch_labels["mlm"].shape == weights["mlm"].shape
        for row, label in zip(inputs["token_ids"].numpy(), batch_labels["nsp"].numpy()):
            words, counts = np.unique(row[row >= NUM_SPECIAL_TOKENS], return_counts=True)
            assert words[counts.argmax()] == 10 + label
            rows += 1
    assert rows == 64


@pytest.mark.parametrize("shuffle", [False, True], ids=["in-order", "shuffled"])
def test_a_larger_pad_multiple_gives_fewer_batch_widths(shuffle):
    ids = varied_lengths(num_tokens=200)
    widths = {
        inputs["token_ids"].shape[1] for inputs, _, _ in make(ids, dynamic_padding=True,
                                                             pad_to_multiple=64)
    } | {
        batch.shape[1] for batch, _ in classification_dataset(
            ids, np.zeros(len(ids)), batch_size=16, shuffle=shuffle, dynamic_padding=True,
            pad_to_multiple=64,
        )
    }
    # Multiples of 64, and the full length (200) for the batches longer than 192.
    assert widths <= {64, 128, 192, 200} and 200 in widths and len(widths) > 1
