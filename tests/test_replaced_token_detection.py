"""--objective electra: a generator fills the masks, the backbone learns to spot its words."""

import dataclasses

import keras
import numpy as np
import pandas as pd
import pytest
from test_training import tiny_config, tiny_data

from minibert import runs
from minibert.cli import build_parser, config_from_args, main
from minibert.models import Backbone, ReplacedTokenDetector
from minibert.training import run


def test_the_discriminator_reads_the_samples_in_the_chosen_slots_only():
    backbone = Backbone(50, 8, 16, num_layers=1, num_heads=2, intermediate_dim=32)
    model = ReplacedTokenDetector(backbone, generator_width=0.5)
    token_ids = np.array([[3, 2, 11, 2, 13, 4, 0, 0]], "int32")  # [mask] at 1 and 3
    positions = np.array([[1, 3, 4]], "int32")
    labels = np.array([[10, 12, 13]], "int32")  # the original words there
    samples = np.array([[20, 12, 30]], "int32")  # the generator's: 12 is the original word
    weights = np.array([[1.0, 1.0, 0.0]])  # slot 3, position 4, is unused
    corrupted, replaced = model.discriminator_inputs(token_ids, positions, labels, samples, weights)
    assert keras.ops.convert_to_numpy(corrupted).tolist() == [[3, 20, 11, 12, 13, 4, 0, 0]]
    # A sample equal to the original is not a replacement, as in ELECTRA.
    assert keras.ops.convert_to_numpy(replaced).tolist() == [[0, 1, 0, 0, 0, 0, 0, 0]]


@pytest.fixture(scope="module")
def electra_run(tmp_path_factory):
    config = tiny_config(mlm_epochs=3, frozen_epochs=1, unfrozen_epochs=1, learning_rate=3e-3)
    config = dataclasses.replace(config, pretrain=dataclasses.replace(
        config.pretrain, objective="electra", num_sampled=8, learning_rate=3e-3))
    folder = tmp_path_factory.mktemp("electra") / "run"
    metrics = run(tiny_data(), config, str(folder), verbose=0)
    return folder, metrics


@pytest.mark.slow
def test_electra_pretraining_learns_to_spot_replaced_tokens(electra_run):
    folder, metrics = electra_run
    history = pd.read_csv(folder / runs.HISTORY_FILE)
    mlm = history[history["stage"] == "mlm"]
    assert mlm["loss"].iloc[-1] < mlm["loss"].iloc[0]
    assert mlm["rtd_loss"].iloc[-1] < mlm["rtd_loss"].iloc[0]
    # Held out: the generator's masked-word accuracy and the discriminator's.
    assert {"val_accuracy", "val_rtd_accuracy", "rtd_accuracy"} <= set(history.columns)
    assert 0 <= metrics["stages"]["mlm"]["val_rtd_accuracy"] <= 1
    assert metrics["stages"]["unfrozen"]["val_accuracy"] > 0


@pytest.mark.slow
def test_an_electra_mlm_keras_reloads_without_custom_objects_and_predicts_the_same(electra_run):
    folder, _ = electra_run
    model = keras.models.load_model(folder / runs.MLM_FILE)
    assert isinstance(model, ReplacedTokenDetector)
    inputs = {"token_ids": np.array([[3, 10, 2, 12, 4, 0]], "int32"),
              "mask_positions": np.array([[2]], "int32")}
    again = keras.models.load_model(folder / runs.MLM_FILE)
    np.testing.assert_allclose(model.predict(inputs, verbose=0), again.predict(inputs, verbose=0))
    # Its backbone is the discriminator the classifier was fine-tuned from.
    classifier = keras.models.load_model(folder / runs.CLASSIFIER_FROZEN_FILE)
    token_ids = inputs["token_ids"]
    np.testing.assert_allclose(model.backbone.predict(token_ids, verbose=0),
                               classifier.backbone.predict(token_ids, verbose=0), atol=1e-6)


@pytest.mark.slow
def test_fill_mask_reads_an_electra_run_through_its_generator(electra_run, capsys):
    folder, _ = electra_run
    assert main(["fill-mask", str(folder), "the [mask] was great", "--top-k", "2"]) == 0
    assert capsys.readouterr().out.count("(") == 2


@pytest.mark.parametrize(
    "flags, message",
    [
        (["--generator-width", "0"], "--generator-width"),
        (["--generator-width", "1.5"], "--generator-width"),
    ],
)
def test_bad_generator_widths_are_refused_in_one_line(flags, message):
    args = build_parser().parse_args(["train", "--preset", "tiny", "--objective", "electra", *flags])
    with pytest.raises(ValueError, match=message):
        config_from_args(args)


def test_a_generator_its_heads_cannot_divide_is_refused():
    backbone = Backbone(50, 8, 12, num_layers=1, num_heads=4, intermediate_dim=32)
    with pytest.raises(ValueError, match="choose another width"):
        ReplacedTokenDetector(backbone, generator_width=0.4)  # hidden 5, 2 heads
