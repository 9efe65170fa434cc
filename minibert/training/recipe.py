"""The recipe into run folders: pretrain a backbone, fine-tune classifiers from it, or both.

- `pretrain_run` (`python -m minibert pretrain`): the vocabulary and pretraining alone.
- `finetune_run` (`python -m minibert finetune --from RUN`): the frozen and unfrozen stages
  on a labelled data set, from RUN's pretrained backbone and vocabulary (not rebuilt).
- `run` (`python -m minibert train`): both into one folder, in one command; its time
  budget (`--minutes`) gives pretraining what fine-tuning leaves.

Each writes config.json, history.csv, curves.png and metrics.json, resumes an unfinished
run of the same request from its checkpoints, and deletes them once done
(`minibert.run_folder`). The three share the stages of `run_stages.py`.
"""

import dataclasses
import os
import time

import numpy as np

from minibert import files, run_folder
from minibert.config import RunConfig
from minibert.data.tokenizer import PADDING_ID, UNKNOWN_ID, load_vocabulary, save_vocabulary
from minibert.data.vectorizers import run_vectorizer
from minibert.models import Backbone
from minibert.training.budget import estimate_finetuning_seconds, pretraining_minutes
from minibert.training.run_stages import (
    classifier_data,
    data_summary,
    describe_data,
    finetuning_stage,
    finish,
    in_run_folder,
    pretraining_stage,
    pretraining_texts,
    row_counts,
    run_vocabulary,
    validation_facts,
    within_minutes,
    write_config,
)

# Above this share of [UNK] in the new data's tokens, `finetune` warns: a
# vocabulary built on the same kind of text leaves a few percent unknown.
UNKNOWN_WARNING_SHARE = 0.2


def run(data, config: RunConfig, output, overwrite=False, verbose="auto", print_fn=print) -> dict:
    """The whole recipe into the run folder `output`; returns its metrics.

    Args:
        data: a `minibert.data.sources.TextClassificationData`.
        config: the run configuration.
        output: the run folder (created). An unfinished run of the same
            config and data there is resumed from its checkpoints; any other
            non-empty folder needs `overwrite=True`, which starts afresh.
    """
    request = {"config": dataclasses.asdict(config), "data": data_summary(data)}
    return in_run_folder(
        output, request, overwrite, config, print_fn,
        lambda folder, resuming: _train(data, config, folder, resuming, verbose, print_fn),
    )


def pretrain_run(data, config: RunConfig, output, overwrite=False, verbose="auto", print_fn=print):
    """The vocabulary and pretraining alone into the run folder `output`; returns its metrics.

    `finetune_run` (`python -m minibert finetune --from`) then trains
    classifiers from it, on this data set or others.

    Args:
        data: a `TextClassificationData` whose train and unlabelled text is
            pretrained on (its labels are not used; its validation text is
            held out and scored), or None when `config.pretrain.corpus`
            streams the text.
        config: the run configuration; its `minutes`, when set, caps the
            whole command, and its fine-tuning settings are what
            `finetune_run` uses by default.
        output, overwrite: as `run`'s.

    Example:
    >>> from minibert.config import get_preset
    >>> pretrain_run(data, get_preset("tiny"), "saved_models/pretrained")  # doctest: +SKIP
    """
    if data is None and config.pretrain.corpus is None:
        raise ValueError("pretraining needs text: a data set (--dataset) or --pretraining-corpus")
    request = {"command": "pretrain", "config": dataclasses.asdict(config),
               "data": data_summary(data)}
    return in_run_folder(
        output, request, overwrite, config, print_fn,
        lambda folder, resuming: _pretrain_only(data, config, folder, resuming, verbose, print_fn),
    )


def finetune_run(
    data, from_run, output, config: RunConfig | None = None, random_init=False, overwrite=False,
    verbose="auto", print_fn=print,
) -> dict:
    """The frozen and unfrozen stages on `data`, from run `from_run`'s backbone and vocabulary.

    Args:
        data: the labelled `TextClassificationData`: any number of classes,
            single texts or pairs.
        from_run: a run folder with `mlm.keras`, `vocabulary.txt` and
            `config.json` (`pretrain_run`'s or `run`'s).
        output: the new run folder, as `run`'s.
        config: the fine-tuning settings (its `finetune` section, seed,
            precision, jit_compile, distribute, tensorboard); the model,
            tokenizer and pretraining sections are always `from_run`'s.
            Default: `from_run`'s own config.
        random_init: fine-tune a fresh backbone of `from_run`'s shape and
            vocabulary instead of its pretrained one: what pretraining buys.

    Example:
    >>> finetune_run(data, "saved_models/pretrained", "saved_models/stars")  # doctest: +SKIP
    """
    pretrained, vocabulary, pretrained_data = read_pretrained_run(from_run)
    config = dataclasses.replace(
        config or pretrained, model=pretrained.model, pretrain=pretrained.pretrain,
        tokenizer=pretrained.tokenizer, minutes=None,
    )
    # Refused before the run folder is made, so the same folder takes the fixed command.
    if data.has_pairs and config.finetune.pair_encoding == "packed" and config.model.num_segments < 2:
        raise ValueError(
            f"{from_run}'s backbone has no segment embeddings, which packed pairs need; "
            "pass --pair-encoding siamese"
        )
    request = {"command": "finetune", "from": os.path.normpath(from_run),
               "random_init": random_init, "config": dataclasses.asdict(config),
               "data": data_summary(data)}
    return in_run_folder(
        output, request, overwrite, config, print_fn,
        lambda folder, resuming: _finetune_only(data, from_run, pretrained.seed, pretrained_data,
                                                vocabulary, config, folder, random_init, verbose,
                                                print_fn),
    )


def _train(data, config: RunConfig, output, resuming, verbose, print_fn) -> dict:
    start = time.perf_counter()
    texts = pretraining_texts(data, config, print_fn)
    packed_pairs = data.has_pairs and config.finetune.pair_encoding == "packed"
    vectorizer, config = run_vocabulary(texts, config, output, resuming, packed_pairs, print_fn)
    vectorizer_seconds = time.perf_counter() - start
    write_config(output, config, data)
    backbone = Backbone(**config.model.backbone_kwargs(), name="backbone")
    train, validation = classifier_data(vectorizer, data, config)
    histories, step_logs = {}, {}
    budget = None
    if config.minutes is not None and config.pretrain.epochs > 0:
        finetuning_seconds = estimate_finetuning_seconds(
            backbone, train, validation, len(data.label_names), config
        )
        share = pretraining_minutes(config.minutes, time.perf_counter() - start, finetuning_seconds)
        budget = {"minutes": config.minutes, "finetuning_estimate_seconds": finetuning_seconds}
        print_fn(
            f"budget {config.minutes:g} minutes: fine-tuning measured at ~{finetuning_seconds / 60:.1f} "
            f"minutes here, {share:.1f} minutes left for pretraining"
        )
        config, budget["pretraining_minutes"] = within_minutes(config, share)
    if config.pretrain.epochs > 0:
        histories["mlm"] = pretraining_stage(backbone, vectorizer, texts, data, config, output,
                                             verbose, print_fn, step_logs)
    classifier_histories, report = finetuning_stage(
        backbone, vectorizer, data, train, validation, config, output, verbose, print_fn, step_logs
    )
    histories.update(classifier_histories)
    metrics = {
        "validation": report,
        "vectorizer_seconds": vectorizer_seconds,
        "rows": row_counts(data, texts, config),
        **validation_facts(data),
        "budget": budget,
    }
    return finish(output, histories, metrics, start, print_fn, report, step_logs)


def _pretrain_only(data, config: RunConfig, output, resuming, verbose, print_fn) -> dict:
    start = time.perf_counter()
    texts = pretraining_texts(data, config, print_fn)
    vectorizer, config = run_vocabulary(texts, config, output, resuming, False, print_fn)
    vectorizer_seconds = time.perf_counter() - start
    write_config(output, config, data)
    budget = None
    if config.minutes is not None:
        # No fine-tuning to leave time for: the budget less what has passed and the saving.
        share = pretraining_minutes(config.minutes, time.perf_counter() - start, 0.0)
        config, share = within_minutes(config, share)
        budget = {"minutes": config.minutes, "pretraining_minutes": share}
    backbone = Backbone(**config.model.backbone_kwargs(), name="backbone")
    histories, step_logs = {}, {}
    if config.pretrain.epochs > 0:
        histories["mlm"] = pretraining_stage(backbone, vectorizer, texts, data, config, output,
                                             verbose, print_fn, step_logs)
    metrics = {"vectorizer_seconds": vectorizer_seconds, "rows": row_counts(data, texts, config),
               "budget": budget}
    return finish(output, histories, metrics, start, print_fn, step_logs=step_logs)


def _finetune_only(data, from_run, pretrained_seed, pretrained_data, vocabulary, config, output,
                   random_init, verbose, print_fn):
    start = time.perf_counter()
    print_fn(describe_data(data))
    vectorizer = run_vectorizer(config.tokenizer, config.model.sequence_length, vocabulary)
    save_vocabulary(vectorizer, os.path.join(output, run_folder.VOCABULARY_FILE))
    pretrained_run = {"path": os.path.normpath(from_run), "random_init": random_init,
                      "seed": pretrained_seed, "data": pretrained_data}
    write_config(output, config, data, pretrained_run=pretrained_run)
    _warn_of_leaks(data, config, pretrained_run, print_fn)
    if random_init:
        print_fn(f"backbone: random weights of {from_run}'s shape (not its pretrained ones)")
        backbone = Backbone(**config.model.backbone_kwargs(), name="backbone")
    else:
        print_fn(f"backbone: pretrained, from {os.path.join(from_run, run_folder.MLM_FILE)}")
        backbone = run_folder.load_run_model(from_run, run_folder.MLM_FILE).backbone
    train, validation = classifier_data(vectorizer, data, config)
    unknown = unknown_share(train[0])
    print_fn(f"{from_run}'s vocabulary: {unknown:.1%} of the training text's tokens are [UNK]")
    if unknown > UNKNOWN_WARNING_SHARE:
        print_fn(
            f"warning: {unknown:.0%} of the training text's tokens are unknown to {from_run}'s "
            "vocabulary; its backbone was pretrained on other text: pretrain on this data "
            "(python -m minibert pretrain, or --pretraining-corpus)"
        )
    step_logs = {}
    histories, report = finetuning_stage(
        backbone, vectorizer, data, train, validation, config, output, verbose, print_fn, step_logs
    )
    metrics = {
        "validation": report,
        "pretrained_run": pretrained_run,
        "unknown_token_share": unknown,
        "rows": row_counts(data, None, config),
        **validation_facts(data),
    }
    return finish(output, histories, metrics, start, print_fn, report, step_logs)


def read_pretrained_run(path) -> tuple[RunConfig, list[str], dict | None]:
    """A pretrained run's config, vocabulary and recorded data (config.json's `data`).

    One line naming what is missing when the folder is not a finished pretrained run.
    """
    if not os.path.isdir(path):
        raise FileNotFoundError(f"run folder {path} not found")
    for name in (run_folder.CONFIG_FILE, run_folder.VOCABULARY_FILE, run_folder.MLM_FILE):
        if not os.path.isfile(os.path.join(path, name)):
            raise FileNotFoundError(run_folder.unfinished_reason(path) or (
                f"{path} has no {name}: pretrain one with `python -m minibert pretrain` (or `train`)"
            ))
    values = files.read_json(os.path.join(path, run_folder.CONFIG_FILE))
    vocabulary = load_vocabulary(os.path.join(path, run_folder.VOCABULARY_FILE))
    return RunConfig.from_dict(values), vocabulary, values.get("data")


def unknown_share(token_ids) -> float:
    """The share of `[UNK]` among the non-padding tokens of `token_ids` (an array, or a dict of them).

    Example:
    >>> unknown_share(np.array([[5, 1, 6, 0]]))
    0.3333333333333333
    """
    arrays = token_ids.values() if isinstance(token_ids, dict) else [token_ids]
    tokens = np.concatenate([np.asarray(ids).ravel() for ids in arrays])
    tokens = tokens[tokens != PADDING_ID]
    return float(np.mean(tokens == UNKNOWN_ID)) if len(tokens) else 0.0


def _warn_of_leaks(data, config: RunConfig, pretrained_run: dict, print_fn) -> None:
    """A warning when `data` is the data set the pretrained run read, split another way.

    Pretraining held out that run's validation rows only: another split's
    validation rows may have been pretrained on (their text, not their labels).
    """
    pretrained_data = pretrained_run["data"] or {}
    if pretrained_data.get("name") != data.name:
        return
    group_column = pretrained_data.get("group_column")
    if pretrained_run["seed"] != config.seed or group_column != data.group_column:
        print_fn(
            f"warning: {pretrained_run['path']} pretrained on {data.name} split with --seed "
            f"{pretrained_run['seed']} and --group-column {group_column}; this split's "
            "validation rows may be among its pretraining text: pass the same for a held-out figure"
        )
