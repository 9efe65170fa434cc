import dataclasses
import json

import pytest

from minibert.cli import build_parser, config_from_args
from minibert.config import RunConfig, get_preset


def test_notebook_preset_is_the_notebooks_configuration():
    config = get_preset("notebook")
    assert dataclasses.asdict(config.model) == {
        "vocabulary_size": 30_000, "sequence_length": 256, "hidden_dim": 128, "num_layers": 1,
        "num_heads": 8, "intermediate_dim": 128, "dropout": 0.1, "activation": "relu",
        "normalize_first": False, "layer_norm_epsilon": 1e-6, "tie_weights": False,
        "num_segments": 0, "initializer_range": None, "embedding_layer_norm": False,
        "gated_feedforward": False, "use_bias": True,
    }
    assert (config.pretrain.epochs, config.pretrain.batch_size, config.pretrain.learning_rate) == (5, 32, 1e-3)
    assert config.pretrain.static_masking and not config.pretrain.dynamic_padding
    assert config.pretrain.num_sampled == 0  # the full softmax
    assert not config.finetune.dynamic_padding
    assert config.pretrain.schedule == config.finetune.schedule == "constant"
    # The notebook compiled with Keras' default: XLA only where Keras turns it on.
    assert config.precision == "float32" and config.jit_compile == "auto"
    assert (config.finetune.frozen_epochs, config.finetune.unfrozen_epochs) == (5, 5)
    assert config.finetune.learning_rate == config.finetune.unfrozen_learning_rate == 1e-3
    assert config.finetune.pooling == "max" and config.finetune.hidden_units == 64


def test_unknown_preset_lists_the_known_ones():
    with pytest.raises(ValueError, match=r"unknown preset 'huge'.*notebook"):
        get_preset("huge")


def test_run_config_round_trips_through_json():
    config = get_preset("tiny")
    assert RunConfig.from_dict(json.loads(json.dumps(dataclasses.asdict(config)))) == config


def test_flags_override_only_what_they_name():
    args = build_parser().parse_args([
        "train", "--preset", "notebook", "--num-layers", "3", "--mlm-epochs", "0",
        "--batch-size", "16", "--no-static-masking", "--fill-mask-sentence", "a [mask]",
        "--unfrozen-learning-rate", "5e-5",
    ])
    config = config_from_args(args)
    notebook = get_preset("notebook")
    assert config.model == dataclasses.replace(notebook.model, num_layers=3)
    assert config.pretrain == dataclasses.replace(
        notebook.pretrain, epochs=0, batch_size=16, static_masking=False,
        fill_mask_sentences=("a [mask]",),
    )
    assert config.finetune == dataclasses.replace(
        notebook.finetune, batch_size=16, unfrozen_learning_rate=5e-5
    )


def test_fine_tuning_flags_set_freezing_and_the_optimizer():
    args = build_parser().parse_args([
        "train", "--preset", "tiny", "--trainable-layers", "1", "--weight-decay", "0.01",
        "--clip-norm", "1", "--schedule", "linear", "--warmup-fraction", "0.06",
        "--classifier-dropout", "0.2",
    ])
    assert config_from_args(args).finetune == dataclasses.replace(
        get_preset("tiny").finetune, trainable_layers=1, weight_decay=0.01, clip_norm=1.0,
        schedule="linear", warmup_fraction=0.06, dropout=0.2,
    )


def test_more_trainable_layers_than_the_model_has_stop_before_training():
    args = build_parser().parse_args(["train", "--preset", "tiny", "--trainable-layers", "3"])
    with pytest.raises(ValueError, match="trainable_layers=3, but the model has 2 encoder layers"):
        config_from_args(args)


def test_negative_epochs_are_refused_by_the_parser():
    with pytest.raises(SystemExit):
        build_parser().parse_args(["train", "--mlm-epochs", "-1"])


def test_train_defaults_to_the_accuracy_recipe_on_the_fast_path():
    config = config_from_args(build_parser().parse_args(["train"]))
    assert config == get_preset("imdb")
    assert config.pretrain.num_sampled > 0 and config.model.tie_weights
    assert config.pretrain.dynamic_padding and config.finetune.dynamic_padding
    assert not config.pretrain.static_masking


def test_the_imdb_preset_has_an_hour_and_minutes_0_turns_the_budget_off():
    assert get_preset("imdb").minutes == 60
    assert config_from_args(build_parser().parse_args(["train", "--minutes", "0"])).minutes is None
    assert config_from_args(build_parser().parse_args(["train", "--minutes", "30"])).minutes == 30
    with pytest.raises(ValueError, match="--minutes"):
        config_from_args(build_parser().parse_args(["train", "--minutes", "-5"]))


def test_train_without_seed_keeps_the_presets_seed(monkeypatch):
    from minibert import config as config_module

    monkeypatch.setitem(config_module.PRESETS, "tiny", dataclasses.replace(get_preset("tiny"), seed=7))
    assert config_from_args(build_parser().parse_args(["train", "--preset", "tiny"])).seed == 7
    given = build_parser().parse_args(["train", "--preset", "tiny", "--seed", "3"])
    assert config_from_args(given).seed == 3


def test_finetune_without_seed_or_tensorboard_keeps_the_pretrained_runs():
    pretrained = dataclasses.replace(get_preset("tiny"), seed=7, tensorboard=True)
    args = build_parser().parse_args(["finetune", "--from", "RUN"])
    assert config_from_args(args, base=pretrained) == pretrained


def test_a_flag_left_out_never_overrides_the_base_for_any_command():
    base = dataclasses.replace(get_preset("gpu"), seed=7)
    for command in (["train"], ["pretrain"], ["finetune", "--from", "RUN"]):
        assert config_from_args(build_parser().parse_args(command), base=base) == base


def test_batch_size_sets_both_stages_in_train_and_its_own_stage_elsewhere():
    tiny = get_preset("tiny")

    def batches(*command):
        config = config_from_args(build_parser().parse_args([*command, "--batch-size", "4"]), base=tiny)
        return config.pretrain.batch_size, config.finetune.batch_size

    assert batches("train") == (4, 4)
    assert batches("pretrain") == (4, tiny.finetune.batch_size)
    assert batches("finetune", "--from", "RUN") == (tiny.pretrain.batch_size, 4)


def test_flags_parse_to_their_fields_types_and_only_two_flags_set_two_fields():
    from collections import Counter

    from minibert.cli.run_flags import settings

    counts = Counter(field.metadata["flag"] for _, field, _ in settings())
    assert {flag for flag, count in counts.items() if count > 1} == {"--batch-size", "--dynamic-padding"}
    args = build_parser().parse_args(["train", "--max-length", "64", "--dropout", "0.2",
                                      "--no-bias", "--jit", "--pooling", "mean"])
    config = config_from_args(args)
    assert (config.model.sequence_length, config.model.dropout) == (64, 0.2)
    assert config.model.use_bias is False and config.jit_compile is True
    assert config.finetune.pooling == "mean"


def test_the_configs_pooling_choices_are_the_pooling_layers_modes():
    from minibert.config import POOLINGS
    from minibert.layers.sequence_pooling import POOLING_MODES

    assert POOLINGS == POOLING_MODES
