"""The next-sentence-prediction head: does segment b follow segment a?"""

import keras


@keras.saving.register_keras_serializable(package="minibert")
class NextSentenceHead(keras.layers.Layer):
    """BERT's pooler and NSP classifier on the first (`[cls]`) token.

    `Dense(hidden, tanh)` on the `[cls]` vector (BERT's pooler), then one
    logit: positive when segment b follows segment a in its document.

    Call arguments:
        sequence: float tensor (batch, tokens, hidden) of `[cls] a [sep] b [sep]` inputs.

    Returns:
        float32 logits (batch, 1).

    Example:
    >>> head = NextSentenceHead()
    >>> tuple(head(keras.ops.zeros((2, 8, 16))).shape)
    (2, 1)
    """

    def build(self, sequence_shape):
        hidden_dim = sequence_shape[-1]
        self.pooler = keras.layers.Dense(
            hidden_dim, activation="tanh", dtype=self.dtype_policy, name="pooler"
        )
        self.pooler.build((None, hidden_dim))
        # float32: the logit feeds a float32 loss under mixed precision.
        self.logit = keras.layers.Dense(1, dtype="float32", name="logit")
        self.logit.build((None, hidden_dim))
        self.built = True

    def call(self, sequence):
        return self.logit(self.pooler(sequence[:, 0, :]))

    def compute_output_shape(self, sequence_shape):
        return (sequence_shape[0], 1)
