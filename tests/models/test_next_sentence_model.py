"""MaskedLanguageModel with BERT's next-sentence head: outputs, joint loss, metrics, saving."""

import os

import keras
import numpy as np
import pytest

from minibert.data.tokenizer import build_vectorizer
from minibert.inspection.next_sentence_prediction import next_sentence_probability
from minibert.layers import NextSentenceHead
from minibert.models import Backbone, MaskedLanguageModel
from minibert.training.pretraining import compile_masked_lm
from tests.layer_testing import run_layer_test

VOCABULARY, SEQUENCE_LENGTH, HIDDEN = 50, 12, 16
# [cls] a [sep] b [sep] rows; the first continues, the second does not.
TOKEN_IDS = np.array([[3, 11, 12, 4, 13, 14, 4, 0], [3, 20, 21, 4, 30, 4, 0, 0]], "int32")
MASK_POSITIONS = np.array([[1, 4], [2, 4]], "int32")
INPUTS = {"token_ids": TOKEN_IDS, "mask_positions": MASK_POSITIONS}
LABELS = {"mlm": np.array([[11, 13], [21, 30]], "int32"), "nsp": np.array([1, 0], "int32")}
WEIGHTS = {"mlm": np.ones((2, 2), "float32"), "nsp": np.ones(2, "float32")}


def _model(num_sampled=0):
    keras.utils.set_random_seed(0)
    backbone = Backbone(
        VOCABULARY, SEQUENCE_LENGTH, HIDDEN, num_layers=1, num_heads=2, intermediate_dim=32,
        dropout=0.0, num_segments=2,
    )
    return MaskedLanguageModel(
        backbone, tie_weights=True, num_sampled=num_sampled, seed=0, next_sentence=True
    )


def test_next_sentence_head_keeps_the_layer_contract():
    sequence = np.random.default_rng(0).normal(size=(2, 5, HIDDEN)).astype("float32")
    run_layer_test(NextSentenceHead, {}, sequence, expected_output_shape=(2, 1))


def test_next_sentence_head_reads_only_the_first_token():
    head = NextSentenceHead()
    sequence = np.random.default_rng(0).normal(size=(1, 5, HIDDEN)).astype("float32")
    changed = sequence.copy()
    changed[:, 1:] += 1.0
    np.testing.assert_allclose(np.array(head(sequence)), np.array(head(changed)), atol=1e-6)


def test_model_gives_word_logits_and_a_next_sentence_logit():
    outputs = _model()(INPUTS)
    assert set(outputs) == {"mlm", "nsp"}
    assert tuple(outputs["mlm"].shape) == (2, 2, VOCABULARY)
    assert tuple(outputs["nsp"].shape) == (2, 1)


@pytest.mark.parametrize("num_sampled", [0, 10], ids=["full", "sampled"])
def test_joint_training_lowers_both_losses_and_logs_next_sentence_figures(num_sampled):
    model = _model(num_sampled)
    compile_masked_lm(model, 1e-2)
    history = model.fit(
        INPUTS, LABELS, sample_weight=WEIGHTS, validation_data=(INPUTS, LABELS, WEIGHTS),
        epochs=15, verbose=0,
    ).history
    for name in ("loss", "nsp_loss", "nsp_accuracy", "val_loss", "val_nsp_loss", "val_accuracy"):
        assert name in history, name
    assert history["nsp_loss"][-1] < history["nsp_loss"][0]
    assert history["loss"][-1] < history["loss"][0]
    assert history["val_nsp_accuracy"][-1] == 1.0
    # The joint loss is the masked-LM loss plus the next-sentence loss.
    assert history["val_loss"][-1] > history["val_nsp_loss"][-1]


def test_next_sentence_model_reloads_with_identical_outputs(tmp_path):
    model = _model()
    compile_masked_lm(model, 1e-2)
    model.fit(INPUTS, LABELS, sample_weight=WEIGHTS, epochs=1, verbose=0)
    path = os.fspath(tmp_path / "mlm.keras")
    model.save(path)
    reloaded = keras.models.load_model(path)
    assert reloaded.next_sentence and reloaded.backbone.num_segments == 2
    for name in ("mlm", "nsp"):
        np.testing.assert_allclose(
            np.array(reloaded(INPUTS)[name]), np.array(model(INPUTS)[name]), atol=1e-6
        )


def test_next_sentence_probability_scores_each_pair():
    model = _model()
    vectorizer = build_vectorizer(["a good film", "the plot was bad"], VOCABULARY, SEQUENCE_LENGTH)
    probabilities = next_sentence_probability(
        model, vectorizer, [("a good film", "the plot was bad"), ("the plot", "a film")]
    )
    assert probabilities.shape == (2,)
    assert np.all((probabilities > 0) & (probabilities < 1))
    assert probabilities[0] != probabilities[1]
    plain = MaskedLanguageModel(model.backbone)
    with pytest.raises(ValueError, match="--objective mlm\\+nsp"):
        next_sentence_probability(plain, vectorizer, [("a", "b")])
