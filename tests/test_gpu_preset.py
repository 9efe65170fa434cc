"""The `gpu` preset: sized for one GPU, and on a CPU it builds, trains, saves and reloads.

No GPU is at hand in CI: the preset runs here on a tiny model with all its
GPU levers kept (auto precision, XLA, 128-token batch widths, the wsd
schedule under a time budget), which is what a GPU run does at full size.
"""

import dataclasses
import json

import keras
import numpy as np
import pytest
from test_training import tiny_data

import minibert
from minibert.cli.arguments import build_parser
from minibert.cli.run_flags import config_from_args
from minibert.config import RunConfig, get_preset
from minibert.reporting import reporting_to
from minibert.training.devices import Accelerator, resolve_precision


def test_the_gpu_preset_is_sized_for_one_gpu_in_15_minutes():
    config = get_preset("gpu")
    model, pretrain = config.model, config.pretrain
    assert 4 <= model.num_layers <= 6 and 256 <= model.hidden_dim <= 512
    assert 128 <= pretrain.batch_size <= 512 and model.sequence_length == 512
    assert config.precision == "auto" and config.jit_compile is True
    assert config.pad_to_multiple == 128  # 4 batch widths, 4 XLA compiles
    assert config.minutes == 15 and pretrain.schedule == "wsd"
    # The levers that lifted the CPU recipe stay.
    assert pretrain.unigram_bias and pretrain.dropout == 0.0 and model.embedding_layer_norm


@pytest.mark.parametrize("accelerator, precision", [
    (Accelerator("NVIDIA H100 80GB HBM3", (9, 0)), "mixed_bfloat16"),
    (Accelerator("NVIDIA A100-SXM4-40GB", (8, 0)), "mixed_bfloat16"),
    (Accelerator("Tesla V100-SXM2-16GB", (7, 0)), "mixed_float16"),
    (Accelerator("a GPU that reports no capability"), "mixed_float16"),
    (None, "float32"),
])
def test_auto_precision_follows_the_device(accelerator, precision):
    assert resolve_precision("auto", accelerator) == precision
    assert resolve_precision("mixed_float16", accelerator) == "mixed_float16"  # as asked


def test_bad_precision_and_pad_multiple_fail_in_one_line():
    with pytest.raises(ValueError, match="precision .* is not one of"):
        RunConfig(precision="float8")
    with pytest.raises(ValueError, match="pad_to_multiple .* at least 1"):
        RunConfig(pad_to_multiple=0)


def test_the_flags_reach_the_config():
    args = build_parser().parse_args(
        ["train", "--preset", "imdb", "--precision", "auto", "--pad-to-multiple", "64"]
    )
    config = config_from_args(args)
    assert (config.precision, config.pad_to_multiple) == ("auto", 64)
    args = build_parser().parse_args(["train", "--preset", "gpu"])
    assert config_from_args(args) == get_preset("gpu")


@pytest.mark.slow
def test_the_gpu_preset_trains_saves_and_reloads_on_a_cpu(tmp_path):
    gpu, tiny = get_preset("gpu"), get_preset("tiny")
    # A tiny model with the preset's data and precision levers. XLA on a CPU
    # compiles every batch width for seconds (35 s more here), and the time
    # budget with wsd has tests of its own (test_optimization, test_training).
    # One pass a fine-tuning stage: the preset's 300 steps at least would be 25
    # passes over these 192 rows.
    config = dataclasses.replace(
        gpu, model=dataclasses.replace(tiny.model, sequence_length=64),
        pretrain=dataclasses.replace(gpu.pretrain, epochs=2, batch_size=16, fill_mask_sentences=()),
        finetune=dataclasses.replace(gpu.finetune, batch_size=16, unfrozen_epochs=1, min_steps=0),
        pad_to_multiple=32,  # 2 widths of the 64 tokens, as 128 gives 4 of 512
        jit_compile="auto", minutes=None,
    )
    lines = []
    with reporting_to(lines.append):
        metrics = minibert.run(tiny_data(), config, str(tmp_path / "run"), verbose=0)
    assert any("precision float32" in line for line in lines)  # auto, on a CPU
    assert metrics["stages"]["mlm"]["epochs"] == 2 and np.isfinite(metrics["stages"]["mlm"]["loss"])
    recorded = json.loads((tmp_path / "run" / "config.json").read_text())
    # auto stays auto: each machine that resumes or retrains the run resolves it again.
    assert (recorded["precision"], recorded["pad_to_multiple"]) == ("auto", 32)
    end_to_end = keras.models.load_model(tmp_path / "run" / "end_to_end.keras")
    predictions = end_to_end.predict_labels(["a wonderful film", "an awful film"])
    assert [label in ("negative", "positive") and 0.5 <= probability <= 1
            for label, probability in predictions] == [True, True]
