"""The pretraining levers (BERT's init, no dropout, unigram bias, windows, a gated feed-forward).

Each does what it says, saves, and refuses bad values.
"""

import dataclasses
import math

import keras
import numpy as np
import pytest
from conftest import make_reviews

from minibert.cli import build_parser, config_from_args
from minibert.config import get_preset
from minibert.data.tokenizer import NUM_SPECIAL_TOKENS, build_vectorizer
from minibert.layers import MaskedLMHead
from minibert.models import Backbone
from minibert.training import pretrain
from minibert.training.pretraining import start_at_unigram_frequencies
from minibert.training.stage import StageOutputs

SIZES = dict(vocabulary_size=200, sequence_length=32, hidden_dim=16, num_layers=2, num_heads=2,
             intermediate_dim=32)


def _pretrain_config(**pretrain_values):
    config = get_preset("tiny")
    return dataclasses.replace(config, pretrain=dataclasses.replace(
        config.pretrain, epochs=1, fill_mask_sentences=(), **pretrain_values))


def _pretrain(config, texts, model_values=None):
    vectorizer = build_vectorizer(texts, config.model.vocabulary_size, config.model.sequence_length)
    keras.utils.set_random_seed(0)
    model_config = dataclasses.replace(
        config.model, vocabulary_size=vectorizer.vocabulary_size(), **(model_values or {})
    )
    backbone = Backbone(**model_config.backbone_kwargs())
    masked_lm, history = pretrain(backbone, vectorizer, texts, config,
                                  outputs=StageOutputs(verbose=0))
    return backbone, masked_lm, history


def test_bert_initialization_draws_every_table_and_kernel_near_stddev_0_02():
    bert = Backbone(**SIZES, initializer_range=0.02)
    default = Backbone(**SIZES)
    weights = [bert.token_embedding.embeddings, bert.encoder_layers[0].intermediate_dense.kernel,
               bert.encoder_layers[1].attention.query_dense.kernel]
    for weight in weights:
        values = keras.ops.convert_to_numpy(weight)
        # A normal truncated at two stddevs: |w| <= 0.04 and a stddev of 0.88 x 0.02.
        assert np.abs(values).max() <= 0.04 + 1e-6
        assert 0.015 < values.std() < 0.0195
    glorot = keras.ops.convert_to_numpy(default.encoder_layers[0].intermediate_dense.kernel).std()
    assert glorot > 0.05  # Keras' glorot_uniform at 16 x 32: what the option replaces


def test_embedding_layer_norm_is_saved_and_reloads_without_custom_objects(tmp_path):
    backbone = Backbone(**SIZES, embedding_layer_norm=True, initializer_range=0.02)
    assert backbone.embedding_norm is not None and Backbone(**SIZES).embedding_norm is None
    token_ids = np.array([[5, 6, 7, 0, 0, 0, 0, 0]], "int32")
    backbone.save(tmp_path / "backbone.keras")
    reloaded = keras.models.load_model(tmp_path / "backbone.keras")
    assert reloaded.embedding_layer_norm and reloaded.initializer_range == 0.02
    np.testing.assert_allclose(reloaded.predict(token_ids, verbose=0),
                               backbone.predict(token_ids, verbose=0), atol=1e-6)


def test_gated_feedforward_gates_each_block_and_reloads_without_custom_objects(tmp_path):
    gated = Backbone(**SIZES, gated_feedforward=True)
    block = gated.encoder_layers[0]
    assert block.gate_dense is not None and Backbone(**SIZES).encoder_layers[0].gate_dense is None
    # One more intermediate-sized kernel (and bias) per block: 16 x 32 + 32.
    assert gated.count_params() - Backbone(**SIZES).count_params() == 2 * (16 * 32 + 32)
    token_ids = np.array([[5, 6, 7, 8, 0, 0, 0, 0]], "int32")
    before = gated.predict(token_ids, verbose=0)
    # A zero gate shuts the feed-forward path: the block's output changes.
    block.gate_dense.kernel.assign(np.zeros(block.gate_dense.kernel.shape, "float32"))
    block.gate_dense.bias.assign(np.zeros(block.gate_dense.bias.shape, "float32"))
    assert not np.allclose(gated.predict(token_ids, verbose=0), before, atol=1e-4)
    gated.save(tmp_path / "gated.keras")
    reloaded = keras.models.load_model(tmp_path / "gated.keras")
    assert reloaded.gated_feedforward
    np.testing.assert_allclose(reloaded.predict(token_ids, verbose=0),
                               gated.predict(token_ids, verbose=0), atol=1e-6)


def test_no_bias_drops_every_attention_and_feed_forward_bias_and_reloads(tmp_path):
    backbone = Backbone(**SIZES, use_bias=False, gated_feedforward=True)
    names = [weight.path for weight in backbone.weights]
    assert not [name for name in names if name.endswith("bias") and "norm" not in name]
    assert [name for name in Backbone(**SIZES).weights if name.path.endswith("dense/bias")]
    backbone.save(tmp_path / "backbone.keras")
    assert not keras.models.load_model(tmp_path / "backbone.keras").use_bias


def test_the_cramming_blocks_pretrain_and_their_loss_falls():
    texts = make_reviews(120)["text"].tolist()
    config = _pretrain_config()
    config = dataclasses.replace(config, pretrain=dataclasses.replace(config.pretrain, epochs=4))
    _, _, history = _pretrain(config, texts, {"gated_feedforward": True, "use_bias": False})
    assert np.isfinite(history["loss"]).all() and history["loss"][-1] < history["loss"][0]


@pytest.fixture(scope="module")
def plain_first_loss():
    """The first epoch's loss of one pretraining epoch with the preset's levers (seeded).

    The dropout and unigram-bias tests each compare a lever against it: one
    pretraining (~5 s, mostly tracing) instead of one per test.
    """
    return _pretrain(_pretrain_config(), make_reviews(120)["text"].tolist())[2]["loss"][0]


def test_pretraining_dropout_applies_while_pretraining_and_fine_tuning_gets_the_models_back(
        plain_first_loss):
    texts = make_reviews(120)["text"].tolist()
    with_dropout = plain_first_loss
    backbone, _, history = _pretrain(_pretrain_config(dropout=0.0), texts)
    assert history["loss"][0] != pytest.approx(with_dropout, abs=1e-6)  # it changed the step
    rates = [layer.rate for layer in backbone._flatten_layers() if isinstance(layer, keras.layers.Dropout)]
    assert rates and all(rate == backbone.dropout == 0.1 for rate in rates)


def test_unigram_bias_starts_the_head_at_the_log_word_frequencies():
    head = MaskedLMHead(vocabulary_size=12)
    head.build((None, None, 4), (None, None))
    token_ids = np.array([[3, 7, 7, 7, 9, 0], [7, 9, 5, 0, 0, 0]])
    start_at_unigram_frequencies(head, token_ids)
    bias = keras.ops.convert_to_numpy(head.output_bias)
    assert bias.argmax() == 7  # the commonest word
    # Add-one smoothing: 4 sevens, 2 nines and a 5 ([cls], id 3, is not counted), + 12.
    assert bias[7] == pytest.approx(np.log(5 / 19)) and bias[9] == pytest.approx(np.log(3 / 19))
    assert (bias[:NUM_SPECIAL_TOKENS] == bias.min()).all()  # never a target


def test_unigram_bias_starts_pretraining_below_a_uniform_head(plain_first_loss):
    texts = make_reviews(120)["text"].tolist()
    uniform = plain_first_loss
    frequencies = _pretrain(_pretrain_config(unigram_bias=True), texts)[2]["loss"][0]
    assert frequencies < uniform - 0.2


def test_windows_pretrain_on_short_slices_of_each_text():
    texts = make_reviews(120)["text"].tolist()
    config = _pretrain_config(window_length=8, dynamic_padding=False)
    backbone, masked_lm, history = _pretrain(config, texts)
    assert np.isfinite(history["loss"]).all()
    # 15 words a review: each one gives two windows of 8 tokens, so twice the steps of an
    # epoch of whole reviews (a batch of 8 texts a step).
    whole_review_steps = math.ceil(len(texts) / config.pretrain.batch_size)
    assert masked_lm.optimizer.iterations.numpy() == 2 * whole_review_steps
    assert backbone.sequence_length == 32  # fine-tuning still reads whole reviews


@pytest.mark.parametrize(
    "flags, message",
    [
        (["--mlm-window", "64"], "2 to sequence_length \\(32\\)"),
        (["--mlm-window", "8", "--objective", "mlm+nsp"], "an objective of single texts"),
        (["--mlm-dropout", "1.5"], "--mlm-dropout"),
        (["--initializer-range", "0"], "--initializer-range"),
        (["--unigram-bias", "--pretraining-corpus", "shards/"], "no --unigram-bias"),
    ],
)
def test_bad_lever_values_are_refused_in_one_line(flags, message):
    args = build_parser().parse_args(["train", "--preset", "tiny", *flags])
    with pytest.raises(ValueError, match=message) as error:
        config_from_args(args)
    assert "\n" not in str(error.value)


def test_every_lever_has_its_flag():
    args = build_parser().parse_args([
        "train", "--preset", "tiny", "--initializer-range", "0.02", "--embedding-layer-norm",
        "--mlm-dropout", "0", "--unigram-bias", "--mlm-window", "16", "--gated-feedforward",
        "--no-bias",
    ])
    config = config_from_args(args)
    assert config.model.gated_feedforward and not config.model.use_bias
    assert (config.model.initializer_range, config.model.embedding_layer_norm) == (0.02, True)
    assert (config.pretrain.dropout, config.pretrain.unigram_bias, config.pretrain.window_length) == (
        0.0, True, 16)
