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


def mlm_dataset(
    token_ids: np.ndarray,
    *,
    batch_size: int,
    vocabulary_size: int,
    mask_rate: float = 0.15,
    static_masking: bool = False,
    seed: int = 42,
) -> tf.data.Dataset:
    """Batches of `({"token_ids", "mask_positions"}, labels, weights)`.

    Dynamic masking (the default) draws new masks every epoch; static masking
    draws them once and reshuffles the masked sequences each epoch, as the
    notebook did. Both are deterministic for a seed.
    """
    token_ids = token_ids[(token_ids != 0).any(axis=1)]  # nothing to predict in empty rows
    max_predictions = max_predictions_for(token_ids.shape[1], mask_rate)

    def mask(ids, random_seed):
        return mask_tokens(
            ids,
            tf.stack([random_seed, tf.constant(seed, tf.int64)]),
            vocabulary_size=vocabulary_size,
            mask_rate=mask_rate,
            max_predictions=max_predictions,
        )

    dataset = tf.data.Dataset.from_tensor_slices(token_ids)
    shuffle = dict(buffer_size=len(token_ids), seed=seed, reshuffle_each_iteration=True)
    if static_masking:
        random_seeds = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=False)
        dataset = tf.data.Dataset.zip(dataset.batch(_STATIC_MASKING_CHUNK), random_seeds)
        dataset = dataset.map(mask).unbatch().cache().shuffle(**shuffle)
        # unbatch() forgets the length; restating it gives progress bars an end.
        dataset = dataset.apply(tf.data.experimental.assert_cardinality(len(token_ids)))
        dataset = dataset.batch(batch_size)
    else:
        random_seeds = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True)
        dataset = tf.data.Dataset.zip(dataset.shuffle(**shuffle).batch(batch_size), random_seeds)
        dataset = dataset.map(mask, num_parallel_calls=tf.data.AUTOTUNE)
    return dataset.prefetch(tf.data.AUTOTUNE)


def classification_dataset(
    token_ids: np.ndarray,
    labels: np.ndarray,
    *,
    batch_size: int,
    shuffle: bool,
    seed: int = 42,
) -> tf.data.Dataset:
    """Batches of `(token_ids, labels)`, reshuffled every epoch when `shuffle`."""
    dataset = tf.data.Dataset.from_tensor_slices((token_ids, np.asarray(labels)))
    if shuffle:
        dataset = dataset.shuffle(len(token_ids), seed=seed, reshuffle_each_iteration=True)
    return dataset.batch(batch_size).prefetch(tf.data.AUTOTUNE)
