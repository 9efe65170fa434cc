"""Sampled softmax: the masked-LM loss over a few thousand candidate words.

Even at the masked positions alone, a softmax over a 30,000-word vocabulary
is most of a pretraining step on a CPU: a (predictions x hidden x vocabulary)
product forward and two backward, and several passes over the logits. The
sampled softmax (Jean et al. 2015, "On Using Very Large Target Vocabulary for
Neural Machine Translation"; `tf.nn.sampled_softmax_loss`) scores each
prediction against its true word and `num_sampled` words drawn once per step
for the whole batch, and corrects every logit by the log of how often its word
is expected to be drawn, so the loss still estimates the full softmax's.

Words are drawn from a log-uniform (Zipf) distribution over ids: the
tokenizer numbers its vocabulary by frequency, so low ids, the frequent words,
are drawn most, as in word2vec and `tf.random.log_uniform_candidate_sampler`.
The sampled loss is for training only: evaluation, fill-mask and saved models
use the full softmax.

Shape legend: B batch, P predictions per sequence, H hidden, K sampled words.
"""

import math

import keras
from keras import ops


def log_uniform_probability(ids, vocabulary_size):
    """P(id) under the log-uniform distribution over `[0, vocabulary_size)`."""
    ids = ops.cast(ids, "float32")
    return (ops.log(ids + 2.0) - ops.log(ids + 1.0)) / math.log(vocabulary_size + 1)


def sample_log_uniform(num_sampled, vocabulary_size, seed):
    """`num_sampled` ids drawn with replacement, low (frequent) ids most often."""
    uniform = keras.random.uniform((num_sampled,), seed=seed)
    ids = ops.floor(ops.exp(uniform * math.log(vocabulary_size + 1))) - 1.0
    return ops.clip(ops.cast(ids, "int32"), 0, vocabulary_size - 1)


def sampled_softmax_loss(features, labels, output_embeddings, output_bias, sampled_ids):
    """Cross-entropy of the true words against the sampled ones, per prediction.

    Args:
        features: (B, P, H) what the head projects, already gathered at the
            masked positions.
        labels: int (B, P), the true words.
        output_embeddings: (vocabulary, H) the output projection, one row per
            word (the token embedding table when weights are tied).
        output_bias: (vocabulary,).
        sampled_ids: int (K,) from `sample_log_uniform`.

    Returns:
        float32 (B, P) losses.

    Example:
    >>> table = keras.random.normal((50, 8), seed=1)
    >>> loss = sampled_softmax_loss(keras.random.normal((2, 3, 8), seed=2),
    ...     keras.ops.ones((2, 3), "int32"), table, keras.ops.zeros((50,)),
    ...     sample_log_uniform(10, 50, seed=3))
    >>> tuple(loss.shape)
    (2, 3)
    """
    logits = sampled_logits(features, labels, output_embeddings, output_bias, sampled_ids)
    return ops.logsumexp(logits, axis=-1) - logits[..., 0]


def sampled_logits(features, labels, output_embeddings, output_bias, sampled_ids):
    """(B, P, 1 + K) corrected logits of each prediction's true word (first) and the sampled ones.

    Their softmax estimates the full softmax over the vocabulary restricted to
    those candidates: the loss above, and the replacements ELECTRA's generator
    draws (`minibert.models.ReplacedTokenDetector`), both read it. Arguments as
    `sampled_softmax_loss`.
    """
    vocabulary_size = ops.shape(output_embeddings)[0]
    num_sampled = ops.shape(sampled_ids)[0]
    features = ops.cast(features, "float32")
    output_embeddings = ops.cast(output_embeddings, "float32")
    output_bias = ops.cast(output_bias, "float32")
    labels = ops.cast(labels, "int32")

    # Each logit minus log(expected times its word is drawn): with it, the
    # sampled softmax's gradient is an unbiased estimate of the full one.
    def log_expected_count(ids):
        return ops.log(num_sampled * log_uniform_probability(ids, vocabulary_size))

    true_logits = ops.sum(features * ops.take(output_embeddings, labels, axis=0), axis=-1)
    true_logits += ops.take(output_bias, labels) - log_expected_count(labels)  # (B, P)

    sampled = ops.matmul(features, ops.transpose(ops.take(output_embeddings, sampled_ids, axis=0)))
    sampled += ops.take(output_bias, sampled_ids) - log_expected_count(sampled_ids)  # (B, P, K)
    # A draw of the true word itself is not a negative: leave it out.
    accidental_hits = ops.expand_dims(labels, -1) == sampled_ids
    sampled = ops.where(accidental_hits, -1e9, sampled)
    return ops.concatenate([ops.expand_dims(true_logits, -1), sampled], axis=-1)
