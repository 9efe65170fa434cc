"""What the masked language model predicts for `[mask]`: a function and a callback."""

import keras
import numpy as np

from minibert.data.tokenizer import MASK_ID, MASK_TOKEN, NUM_SPECIAL_TOKENS
from minibert.models.replicas import batch_multiple, on_this_process, pad_rows
from minibert.reporting import report


def fill_mask(masked_lm, vectorizer, sentences, top_k=5) -> list[list[list[tuple[str, float]]]]:
    """Top-k words and probabilities for every `[mask]` in every sentence.

    Returns one list per sentence, holding one list of (word, probability)
    per `[mask]`, best first. Special tokens are never proposed.

    Example:
    >>> fill_mask(masked_lm, vectorizer, ["this [mask] was great"])  # doctest: +SKIP
    [[[('movie', 0.41), ('film', 0.33), ...]]]
    """
    token_ids = np.asarray(vectorizer(list(sentences)), dtype="int32")  # (sentences, tokens)
    for sentence, ids in zip(sentences, token_ids):
        if not (ids == MASK_ID).any():
            raise ValueError(
                f"no {MASK_TOKEN} in {sentence!r} (within the first {ids.shape[0]} tokens); "
                f"write {MASK_TOKEN} where a word should be predicted"
            )
    # Pad every sentence's mask positions to the same count; extra slots
    # point at position 0 and are dropped below.
    positions = [np.flatnonzero(ids == MASK_ID) for ids in token_ids]
    num_slots = max(len(p) for p in positions)
    mask_positions = np.zeros((len(positions), num_slots), "int32")
    for row, p in enumerate(positions):
        mask_positions[row, : len(p)] = p
    # Under a data-parallel distribution each batch splits evenly across devices.
    multiple = batch_multiple()
    logits = masked_lm.predict(
        {"token_ids": pad_rows(token_ids, multiple), "mask_positions": pad_rows(mask_positions, multiple)},
        verbose=0,
    )  # (sentences, slots, vocabulary)
    if isinstance(logits, dict):  # a model with a next-sentence head too
        logits = logits["mlm"]
    logits = logits[: len(token_ids)]
    logits[..., :NUM_SPECIAL_TOKENS] = -np.inf
    probabilities = keras.ops.convert_to_numpy(keras.ops.softmax(logits, axis=-1))
    vocabulary = vectorizer.get_vocabulary()
    results = []
    for row, p in enumerate(positions):
        per_mask = []
        for slot in range(len(p)):
            best = np.argsort(-probabilities[row, slot])[:top_k]
            per_mask.append([(str(vocabulary[i]), float(probabilities[row, slot, i])) for i in best])
        results.append(per_mask)
    return results


def format_fill_mask(sentence, predictions) -> str:
    """One line per `[mask]`: the sentence and its top words with probabilities."""
    lines = []
    for index, candidates in enumerate(predictions):
        words = ", ".join(f"{word} ({probability:.2f})" for word, probability in candidates)
        lines.append(f"{sentence!r} [mask {index + 1}]: {words}")
    return "\n".join(lines)


class FillMaskCallback(keras.callbacks.Callback):
    """Prints the top-k fill-ins for sentences with `[mask]` after every epoch.

    Example:
    >>> callback = FillMaskCallback(vectorizer, ["I have watched this [mask] and it was awesome"])  # doctest: +SKIP
    >>> masked_lm.fit(dataset, callbacks=[callback])  # doctest: +SKIP
    """

    def __init__(self, vectorizer, sentences, top_k=5):
        super().__init__()
        self.vectorizer = vectorizer
        self.sentences = list(sentences)
        self.top_k = top_k
        self._report = []

    def on_epoch_end(self, epoch, logs=None):
        # Keras' progress bar ends the epoch's line after every other
        # callback's on_epoch_end: printed now, the report would land on that
        # line. It is taken now and printed when the next epoch or fit begins.
        with on_this_process(self.model) as model:
            predictions = fill_mask(model, self.vectorizer, self.sentences, self.top_k)
        self._report = [format_fill_mask(sentence, per_mask)
                        for sentence, per_mask in zip(self.sentences, predictions)]

    def on_epoch_begin(self, epoch, logs=None):
        self._print_report()

    def on_train_end(self, logs=None):
        self._print_report()

    def _print_report(self):
        for line in self._report:
            report(line)
        self._report = []
