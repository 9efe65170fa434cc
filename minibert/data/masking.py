"""BERT's 80/10/10 masking, as a batched tf.data transformation.

Per sequence, round(mask_rate x real tokens) positions are chosen among the
real words (never padding nor a special token), as in BERT's
`create_pretraining_data.py`. Of the chosen positions 80% become `[mask]`, 10%
a random word and 10% stay as they were: the model cannot rely on `[mask]`
being present to know where to predict, which is what fine-tuning text looks
like (Devlin et al. 2019, section 3.1).

Only the chosen positions carry a loss, so the batch carries them as
`mask_positions` and the masked-LM head computes logits there alone.

Shape legend: B batch, T tokens, P predictions per sequence.
"""

import math

import tensorflow as tf

from minibert.data.tokenizer import MASK_ID, NUM_SPECIAL_TOKENS


def max_predictions_for(sequence_length: int, mask_rate: float) -> int:
    """How many prediction slots a sequence of that length needs."""
    return max(1, min(sequence_length, math.ceil(sequence_length * mask_rate)))


def mask_tokens(
    token_ids,
    seed,
    *,
    vocabulary_size: int,
    mask_rate: float = 0.15,
    max_predictions: int | None = None,
    mask_token_rate: float = 0.8,
    random_token_rate: float = 0.1,
):
    """Masks a batch of token ids.

    Args:
        token_ids: int tensor (B, T).
        seed: int tensor of shape (2,); the same seed gives the same masks.
        vocabulary_size: random replacements are drawn from the real words,
            ids `NUM_SPECIAL_TOKENS` to `vocabulary_size - 1`.
        mask_rate: share of real words chosen for prediction.
        max_predictions: prediction slots per sequence, P (default: enough
            for `mask_rate` of T).

    Returns:
        `(inputs, labels, weights)`: inputs is a dict with the corrupted
        `token_ids` (B, T) and `mask_positions` (B, P); labels (B, P) are the
        original ids at those positions; weights (B, P) are 1.0 on chosen
        slots and 0.0 on unused ones.

    Example:
    >>> ids = tf.constant([[5, 6, 7, 8, 9, 10, 11, 12, 0, 0]])
    >>> inputs, labels, weights = mask_tokens(ids, tf.constant([1, 2]), vocabulary_size=20)
    >>> int(weights.numpy().sum())  # round(0.15 x 8 real words)
    1
    """
    token_ids = tf.convert_to_tensor(token_ids)
    seed = tf.cast(seed, tf.int64)
    shape = tf.shape(token_ids)
    batch_size, num_tokens = shape[0], shape[1]
    if max_predictions is None:
        max_predictions = tf.cast(
            tf.math.ceil(tf.cast(num_tokens, tf.float32) * mask_rate), tf.int32
        )
    num_slots = tf.maximum(tf.minimum(max_predictions, num_tokens), 1)
    selection_seed, decision_seed, replacement_seed = tf.unstack(
        tf.random.experimental.stateless_split(seed, num=3)
    )

    # Choose positions: a random score per real word, padding and special
    # tokens scored below every word; the top scores are the chosen ones.
    selectable = token_ids >= NUM_SPECIAL_TOKENS  # (B, T)
    scores = tf.random.stateless_uniform(shape, selection_seed)
    scores = tf.where(selectable, scores, -1.0)
    mask_positions = tf.math.top_k(scores, k=num_slots).indices  # (B, P)

    num_selectable = tf.reduce_sum(tf.cast(selectable, tf.float32), axis=1)
    num_chosen = tf.maximum(tf.round(num_selectable * mask_rate), 1.0)
    num_chosen = tf.minimum(num_chosen, tf.minimum(num_selectable, tf.cast(num_slots, tf.float32)))
    slot_index = tf.range(num_slots, dtype=tf.float32)[tf.newaxis, :]
    weights = tf.cast(slot_index < num_chosen[:, tf.newaxis], tf.float32)  # (B, P)

    labels = tf.gather(token_ids, mask_positions, batch_dims=1)  # (B, P)

    # 80% [mask], 10% random word, 10% unchanged.
    decision = tf.random.stateless_uniform(tf.shape(mask_positions), decision_seed)
    random_words = tf.random.stateless_uniform(
        tf.shape(mask_positions),
        replacement_seed,
        minval=NUM_SPECIAL_TOKENS,
        maxval=vocabulary_size,
        dtype=tf.int32,
    )
    replacement = tf.where(
        decision < mask_token_rate,
        tf.cast(MASK_ID, token_ids.dtype),
        tf.where(
            decision < mask_token_rate + random_token_rate,
            tf.cast(random_words, token_ids.dtype),
            labels,
        ),
    )
    # Unused slots write their original id back: top_k positions are distinct
    # within a row, so the scatter has no conflicting writes.
    replacement = tf.where(weights > 0, replacement, labels)
    batch_index = tf.broadcast_to(tf.range(batch_size)[:, tf.newaxis], tf.shape(mask_positions))
    scatter_index = tf.stack([batch_index, mask_positions], axis=-1)  # (B, P, 2)
    masked_ids = tf.tensor_scatter_nd_update(token_ids, scatter_index, replacement)

    inputs = {"token_ids": masked_ids, "mask_positions": mask_positions}
    return inputs, labels, weights


def masked_noise(rate: float, vocabulary_size: int, seed: int):
    """A map over `(token_ids, *rest)` batches that masks `rate` of each text's words 80/10/10.

    Noise for fine-tuning (a self-training student's, Xie et al. 2020): the
    text is corrupted as pretraining corrupts it, and the label stays. Fresh
    masks for every batch of every epoch, from a seeded generator.

    Example:
    >>> noise = masked_noise(0.5, vocabulary_size=20, seed=0)
    >>> ids, labels = noise(tf.constant([[5, 6, 7, 8, 0, 0]]), tf.constant([1]))
    >>> int(tf.reduce_sum(tf.cast(ids != [[5, 6, 7, 8, 0, 0]], tf.int32))) <= 2
    True
    """
    generator = tf.random.Generator.from_seed(seed)

    def corrupt(token_ids, *rest):
        batch_seed = generator.make_seeds(1)[:, 0]
        inputs, _, _ = mask_tokens(token_ids, batch_seed, vocabulary_size=vocabulary_size,
                                   mask_rate=rate)
        return (tf.cast(inputs["token_ids"], token_ids.dtype), *rest)

    return corrupt
