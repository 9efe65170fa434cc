"""tf.data pipelines from token ids: masked-LM batches and classifier batches.

Texts are vectorized once (`minibert.data.tokenizer.vectorize`) and the ids
are kept in memory, so no epoch repeats the string work. Masking runs per
batch inside tf.data, in parallel with the training step.
"""

import numpy as np
import tensorflow as tf

from minibert.data.masking import mask_tokens, max_predictions_for

# Static masking masks this many sequences at a time before caching them.
_STATIC_MASKING_CHUNK = 1024
# Dynamic padding: batches are cut to a multiple of this many tokens by
# default, so a jit-compiled step sees at most sequence_length / 32 widths.
# Where each width costs a long XLA compile (a GPU), a run passes a larger
# multiple (RunConfig.pad_to_multiple).
PAD_TO_MULTIPLE = 32
# ... and sequences of similar length are batched together within groups of
# this many batches, which keeps the epoch's order random at a coarse grain.
_LENGTH_GROUP_BATCHES = 64


def batch_width(longest, sequence_length, pad_to_multiple=PAD_TO_MULTIPLE):
    """A batch's width: its longest row rounded up to `pad_to_multiple`, at most `sequence_length`.

    The one rule every batch cut to its length follows (classifier batches,
    length-grouped batches, a streamed corpus's buckets), so that a
    jit-compiled step sees at most sequence_length / pad_to_multiple widths.
    Takes Python or NumPy ints, or tensors inside tf.data; a batch of empty
    texts still has one column.

    Example:
    >>> int(batch_width(33, sequence_length=512, pad_to_multiple=32))
    64
    >>> int(batch_width(500, sequence_length=256, pad_to_multiple=128))
    256
    """
    longest = tf.maximum(longest, 1)
    return tf.minimum(-(-longest // pad_to_multiple) * pad_to_multiple, sequence_length)


def padded_width(lengths, sequence_length, pad_to_multiple=PAD_TO_MULTIPLE) -> int:
    """`batch_width` of a batch whose rows have `lengths` (a NumPy array)."""
    return int(batch_width(int(lengths.max()), sequence_length, pad_to_multiple))


def to_batch_width(token_ids, sequence_length, pad_to_multiple=PAD_TO_MULTIPLE):
    """A batch of ids (rows, tokens) cut or zero-padded to its `batch_width`, inside tf.data."""
    longest = tf.reduce_max(tf.reduce_sum(tf.cast(token_ids != 0, tf.int32), axis=1))
    width = batch_width(longest, sequence_length, pad_to_multiple)
    token_ids = token_ids[:, :width]
    return tf.pad(token_ids, [[0, 0], [0, width - tf.shape(token_ids)[1]]])


def length_grouped_batches(token_ids: np.ndarray, batch_size: int, seed: int, labels=None,
                           pad_to_multiple: int = PAD_TO_MULTIPLE):
    """A callable that yields one epoch of batches cut to their longest sequence.

    Most reviews are shorter than the maximum length, yet a batch padded to
    the maximum pays attention and feed-forward work for every pad. Each
    epoch shuffles the sequences, sorts them by length within groups of
    `_LENGTH_GROUP_BATCHES` batches, cuts the batches to their longest member
    (rounded up to `pad_to_multiple`) and shuffles the batch order (the
    "group by length" sampler of fairseq and Hugging Face). Epoch e of a seed
    is always the same. With `labels`, one value per row (an array, or a dict
    of arrays), it yields `(token_ids, labels of those rows)` pairs.
    """
    lengths = (token_ids != 0).sum(axis=1)
    epochs = iter(range(1 << 62))

    def epoch():
        rng = np.random.default_rng([seed, next(epochs)])
        order = rng.permutation(len(token_ids))
        group = batch_size * _LENGTH_GROUP_BATCHES
        batches = []
        for start in range(0, len(order), group):
            members = order[start : start + group]
            members = members[np.argsort(lengths[members], kind="stable")]
            batches += [members[i : i + batch_size] for i in range(0, len(members), batch_size)]
        for index in rng.permutation(len(batches)):
            rows = np.sort(batches[index])
            ids = token_ids[rows, : padded_width(lengths[rows], token_ids.shape[1], pad_to_multiple)]
            if labels is None:
                yield ids
            else:
                yield ids, tf.nest.map_structure(lambda values: values[rows], labels)

    return epoch


def _length_grouped_dataset(token_ids, batch_size, seed, labels, pad_to_multiple) -> tf.data.Dataset:
    """`length_grouped_batches` as a tf.data.Dataset of known length."""
    ids_spec = tf.TensorSpec((None, None), tf.int32)
    if labels is not None:
        labels_spec = tf.nest.map_structure(
            lambda values: tf.TensorSpec((None, *values.shape[1:]), values.dtype), labels
        )
    dataset = tf.data.Dataset.from_generator(
        length_grouped_batches(token_ids, batch_size, seed, labels, pad_to_multiple),
        output_signature=ids_spec if labels is None else (ids_spec, labels_spec),
    )
    num_batches = -(-len(token_ids) // batch_size)  # ceil: the last group's remainder
    # From a generator the length is unknown; stating it gives progress bars an end.
    return dataset.apply(tf.data.experimental.assert_cardinality(num_batches))


def mask_batch(token_ids, random_seed, seed, vocabulary_size, mask_rate, max_predictions=None):
    """`mask_tokens` on one batch, seeded by the run's seed and the batch's own."""
    return mask_tokens(
        token_ids,
        tf.stack([random_seed, tf.constant(seed, tf.int64)]),
        vocabulary_size=vocabulary_size,
        mask_rate=mask_rate,
        max_predictions=max_predictions,
    )


def mlm_dataset(
    token_ids: np.ndarray,
    *,
    batch_size: int,
    vocabulary_size: int,
    mask_rate: float = 0.15,
    static_masking: bool = False,
    dynamic_padding: bool = False,
    seed: int = 42,
    row_labels: dict | None = None,
    rows_multiple: int = 1,
    pad_to_multiple: int = PAD_TO_MULTIPLE,
    process_rows: tuple[int, int] = (0, 1),
) -> tf.data.Dataset:
    """Batches of `({"token_ids", "mask_positions"}, labels, weights)`.

    Dynamic masking (the default) draws new masks every epoch; static masking
    draws them once and reshuffles the masked sequences each epoch, as the
    notebook did. Both are deterministic for a seed. `dynamic_padding` groups
    sequences by length and cuts each batch to its longest one (see
    `length_grouped_batches`, widths a multiple of `pad_to_multiple`); it
    needs dynamic masking. `row_labels` maps an
    output's name to one label per row of `token_ids` (an objective's own
    targets, e.g. `{"nsp": is-next}` from `minibert.data.next_sentence`):
    labels and weights are then dicts of `"mlm"` and those names. `rows_multiple`
    > 1 pads each batch with zero-weight rows to a multiple of that many
    (`pad_batches`), and `process_rows` (index, count) keeps the share of each
    batch that one process of a multi-host job feeds (`process_share`).
    """
    if static_masking and dynamic_padding:
        raise ValueError("dynamic_padding needs dynamic masking; drop static_masking")
    has_text = (token_ids != 0).any(axis=1)  # nothing to predict in empty rows
    token_ids = token_ids[has_text]
    if row_labels is not None:
        row_labels = {name: np.asarray(values)[has_text] for name, values in row_labels.items()}
    # Fixed padding: P slots for the full length. Dynamic padding: P follows
    # each batch's length (mask_tokens' default).
    max_predictions = None if dynamic_padding else max_predictions_for(token_ids.shape[1], mask_rate)

    def mask(rows, random_seed):
        ids, batch_row_labels = rows if row_labels is not None else (rows, None)
        inputs, labels, weights = mask_batch(
            ids, random_seed, seed, vocabulary_size, mask_rate, max_predictions
        )
        if batch_row_labels is not None:
            # Keras wants one weight structure per label structure.
            labels = {"mlm": labels, **batch_row_labels}
            weights = {"mlm": weights, **{
                name: tf.ones(tf.shape(values), tf.float32) for name, values in batch_row_labels.items()
            }}
        return inputs, labels, weights

    rows = token_ids if row_labels is None else (token_ids, row_labels)
    dataset = tf.data.Dataset.from_tensor_slices(rows)
    shuffle = dict(buffer_size=len(token_ids), seed=seed, reshuffle_each_iteration=True)
    if static_masking:
        random_seeds = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=False)
        dataset = tf.data.Dataset.zip(dataset.batch(_STATIC_MASKING_CHUNK), random_seeds)
        dataset = dataset.map(mask).unbatch().cache().shuffle(**shuffle)
        # unbatch() forgets the length; restating it gives progress bars an end.
        dataset = dataset.apply(tf.data.experimental.assert_cardinality(len(token_ids)))
        dataset = dataset.batch(batch_size)
    else:
        if dynamic_padding:
            batches = _length_grouped_dataset(
                token_ids, batch_size, seed, row_labels, pad_to_multiple
            )
        else:
            batches = dataset.shuffle(**shuffle).batch(batch_size)
        random_seeds = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True)
        dataset = tf.data.Dataset.zip(batches, random_seeds)
        dataset = dataset.map(mask, num_parallel_calls=tf.data.AUTOTUNE)
    return process_share(pad_batches(dataset, rows_multiple), process_rows).prefetch(tf.data.AUTOTUNE)


def classification_dataset(
    token_ids: np.ndarray,
    labels: np.ndarray,
    *,
    batch_size: int,
    shuffle: bool,
    dynamic_padding: bool = False,
    seed: int = 42,
    rows_multiple: int = 1,
    pad_to_multiple: int = PAD_TO_MULTIPLE,
    process_rows: tuple[int, int] = (0, 1),
) -> tf.data.Dataset:
    """Batches of `(token_ids, labels)`, reshuffled every epoch when `shuffle`.

    `token_ids` is one array, or a dict of arrays for a model of several
    inputs (a `PairClassifier`'s two texts). `dynamic_padding` cuts each
    batch to its longest review (each input to its own), rounded up to a
    multiple of `pad_to_multiple`; shuffled, one array
    is also grouped by length (`length_grouped_batches`). `rows_multiple` > 1
    pads each batch to a multiple of that many rows, and the batches become
    `(token_ids, labels, weights)` with weight 0 on the added rows
    (`pad_batches`); predictions then end with those rows. `process_rows`,
    as `mlm_dataset`'s.
    """
    labels = np.asarray(labels)
    if dynamic_padding and shuffle and not isinstance(token_ids, dict):
        dataset = _length_grouped_dataset(token_ids, batch_size, seed, labels, pad_to_multiple)
    else:
        dataset = tf.data.Dataset.from_tensor_slices((token_ids, labels))
        if shuffle:
            dataset = dataset.shuffle(len(labels), seed=seed, reshuffle_each_iteration=True)
        dataset = dataset.batch(batch_size)
        if dynamic_padding:
            dataset = dataset.map(
                lambda ids, batch_labels: (tf.nest.map_structure(
                    lambda tensor: to_batch_width(tensor, tf.shape(tensor)[1], pad_to_multiple), ids
                ), batch_labels)
            )
    if rows_multiple > 1:
        dataset = dataset.map(lambda ids, batch_labels: (
            ids, batch_labels, tf.ones(tf.shape(batch_labels)[:1], tf.float32)
        ))
        dataset = process_share(pad_batches(dataset, rows_multiple), process_rows)
    return dataset.prefetch(tf.data.AUTOTUNE)


def process_share(dataset: tf.data.Dataset, process_rows: tuple[int, int]) -> tf.data.Dataset:
    """Each batch's rows that process `index` of `count` feeds its devices (all with one process).

    The batches must already be padded to a multiple of every process's
    devices (`pad_batches`): each process then takes an equal, contiguous share.
    """
    index, count = process_rows
    if count == 1:
        return dataset

    def share(*element):
        rows = tf.shape(tf.nest.flatten(element)[0])[0] // count
        return tf.nest.map_structure(lambda tensor: tensor[index * rows : (index + 1) * rows], element)

    return dataset.map(share)


def pad_batches(dataset: tf.data.Dataset, multiple: int) -> tf.data.Dataset:
    """Pads every tensor of each batch with zero rows up to a multiple of `multiple` rows.

    For data-parallel training, where each batch is split evenly across
    devices. The zero rows weigh nothing: an all-padding row has no masked
    slot (zero MLM weights), and a classifier's batches carry a weight of 1
    per real row and 0 per added one.
    """
    if multiple == 1:
        return dataset

    def pad(*element):
        rows = tf.shape(tf.nest.flatten(element)[0])[0]
        extra = tf.math.floormod(-rows, multiple)

        def pad_tensor(tensor):
            paddings = tf.concat([[[0, extra]], tf.zeros([tf.rank(tensor) - 1, 2], tf.int32)], axis=0)
            return tf.pad(tensor, paddings)

        return tf.nest.map_structure(pad_tensor, element)

    return dataset.map(pad)
