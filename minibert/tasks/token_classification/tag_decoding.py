"""Per-word tag probabilities to one tag per word: alone (argmax), or as a sequence the scheme allows.

A tagger scores each word's tags on its own; nothing stops it from
predicting `O I-PER` or `B-ORG I-LOC`, which the scheme never writes and
conlleval reads as entities cut short or of two types. Constrained decoding
(Viterbi over the words' log-probabilities, each step allowed only the
transitions the scheme allows) picks the most probable whole sequence of
well-formed tags instead: the decoding step of a BiLSTM-CRF (Lample et al.
2016), with the transitions fixed by the scheme rather than learnt.

Which transitions each scheme allows (X, Y entity types):
- IOB2 (BIO): `I-X` only after `B-X` or `I-X`; the first word is not `I-`.
- IOB1: `B-X` only after `B-X` or `I-X` (it separates two touching
  entities of one type); the first word is not `B-`.
- IOBES: `I-X` and `E-X` only after `B-X` or `I-X`; `B-`, `S-` and `O` only
  after `O`, `E-` or `S-`; the first word is not `I-` or `E-`, the last not
  `B-` or `I-`.

`decode_tags` does it in NumPy (fine-tuning's validation, `EndToEndTagger`);
`served_decode_tags` in TensorFlow ops, for an exported model.
"""

import numpy as np

DECODINGS = ("argmax", "viterbi")
# Log-probability of a transition the scheme forbids: never chosen over an allowed one.
FORBIDDEN = -1e9


def _parts(tag: str) -> tuple:
    prefix, _, entity_type = tag.partition("-")
    return ("O", "") if tag == "O" else (prefix, entity_type)


def transition_scores(tag_names, scheme: str) -> tuple:
    """`(start, transitions, end)`: 0 where the scheme allows a tag, `FORBIDDEN` where not.

    `start` (tags,): as a sentence's first tag; `transitions` (tags, tags):
    row the previous tag, column the next; `end` (tags,): as its last.

    Example:
    >>> start, transitions, end = transition_scores(["O", "B-PER", "I-PER"], "IOB2")
    >>> (start < 0).tolist(), (transitions[0] < 0).tolist(), (end < 0).tolist()
    ([False, False, True], [False, False, True], [False, False, False])
    """
    parts = [_parts(str(tag)) for tag in tag_names]
    count = len(parts)
    start = np.zeros(count, "float32")
    end = np.zeros(count, "float32")
    transitions = np.zeros((count, count), "float32")
    inside = {"IOB2": ("I",), "IOB1": ("B",), "IOBES": ("I", "E")}[scheme]
    for index, (prefix, _) in enumerate(parts):
        if prefix in inside:
            start[index] = FORBIDDEN
        if scheme == "IOBES" and prefix in ("B", "I"):
            end[index] = FORBIDDEN
    for previous, (previous_prefix, previous_type) in enumerate(parts):
        for following, (prefix, entity_type) in enumerate(parts):
            if prefix in inside:
                # Continues an entity: only one of its own type, still open.
                allowed = previous_type == entity_type and previous_prefix in ("B", "I")
            elif scheme == "IOBES":
                # Starts afresh (B-, S-, O): only once the previous entity has closed.
                allowed = previous_prefix in ("O", "E", "S")
            else:
                allowed = True
            if not allowed:
                transitions[previous, following] = FORBIDDEN
    return start, transitions, end


def viterbi(scores, start, transitions, end) -> np.ndarray:
    """The most probable path through `scores` (words, tags) of log-probabilities, as tag ids.

    Example:
    >>> start, transitions, end = transition_scores(["O", "B-PER", "I-PER"], "IOB2")
    >>> probabilities = np.array([[0.6, 0.1, 0.3], [0.1, 0.1, 0.8]])  # argmax: O I-PER
    >>> viterbi(np.log(probabilities), start, transitions, end).tolist()
    [1, 2]
    """
    words = len(scores)
    if not words:
        return np.zeros(0, "int64")
    best = scores[0] + start
    back = np.zeros((words, scores.shape[1]), "int64")
    for position in range(1, words):
        candidates = best[:, None] + transitions  # (previous, next)
        back[position] = candidates.argmax(axis=0)
        best = candidates.max(axis=0) + scores[position]
    path = np.zeros(words, "int64")
    path[-1] = int((best + end).argmax())
    for position in range(words - 1, 0, -1):
        path[position - 1] = back[position, path[position]]
    return path


def tag_decoder(decoding: str, tag_names, scheme: str):
    """`function(probabilities (words, tags)) -> tag ids (words,)` for `decoding`.

    Example:
    >>> decode = tag_decoder("viterbi", ["O", "B-PER", "I-PER"], "IOB2")
    >>> decode(np.array([[0.2, 0.1, 0.7]])).tolist()  # never starts with I-: O, the likelier left
    [0]
    """
    if decoding not in DECODINGS:
        raise ValueError(f"decoding {decoding!r} is not one of {list(DECODINGS)}")
    if decoding == "argmax":
        return lambda probabilities: np.asarray(probabilities).argmax(axis=-1)
    start, transitions, end = transition_scores(tag_names, scheme)

    def decode(probabilities):
        scores = np.log(np.maximum(np.asarray(probabilities, "float64"), 1e-30))
        return viterbi(scores, start, transitions, end)

    return decode


def served_decode_tags(probabilities, num_words, decoding: str, tag_names, scheme: str):
    """`tag_decoder` in TensorFlow ops: probabilities (batch, words, tags) and each row's
    `num_words` (batch,) to tag ids (batch, words), for an exported model. Past a row's
    words the ids are those of its last word's path, to be masked by the caller."""
    import tensorflow as tf

    if decoding == "argmax":
        return tf.argmax(probabilities, axis=-1, output_type=tf.int32)
    start, transitions, end = (tf.constant(array) for array in
                               transition_scores(tag_names, scheme))
    scores = tf.math.log(tf.maximum(tf.cast(probabilities, tf.float32), 1e-30))
    # One more word, past every row's last, so that a batch of no words still has a first.
    scores = tf.pad(scores, [[0, 0], [0, 1], [0, 0]])
    scores = tf.transpose(scores, [1, 0, 2])  # (words, batch, tags): scanned over the words
    positions = tf.range(tf.shape(scores)[0])
    present = positions[:, tf.newaxis] < tf.cast(num_words, tf.int32)[tf.newaxis, :]

    def forward(carried, step):
        best, _ = carried
        word_scores, here = step
        candidates = best[:, :, tf.newaxis] + transitions[tf.newaxis]  # (batch, prev, next)
        back = tf.argmax(candidates, axis=1, output_type=tf.int32)
        moved = tf.reduce_max(candidates, axis=1) + word_scores
        keep = tf.range(tf.shape(best)[1])[tf.newaxis, :] + tf.zeros_like(back)
        # Past a row's last word its scores stand still and each tag points to itself.
        return (tf.where(here[:, tf.newaxis], moved, best),
                tf.where(here[:, tf.newaxis], back, keep))

    first = scores[0] + start[tf.newaxis]
    identity = tf.zeros_like(first, tf.int32) + tf.range(tf.shape(first)[1])[tf.newaxis]
    best, backs = tf.scan(forward, (scores[1:], present[1:]), initializer=(first, identity))
    final = tf.concat([first[tf.newaxis], best], 0)[-1] + end[tf.newaxis]
    last = tf.argmax(final, axis=-1, output_type=tf.int32)  # (batch,)

    def backward(following, back):
        return tf.gather(back, following, batch_dims=1)

    earlier = tf.scan(backward, backs, initializer=last, reverse=True)  # (words - 1, batch)
    path = tf.concat([earlier, last[tf.newaxis]], 0)
    return tf.transpose(path)[:, :-1]
