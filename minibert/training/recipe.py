"""The whole recipe: vocabulary, pretraining, then fine-tuning, into one run folder."""

import dataclasses
import os
import shutil
import time

import keras
import numpy as np

from minibert import files, run_folder
from minibert.config import RunConfig
from minibert.data.corpus import corpus_files, sample_texts
from minibert.data.tokenizer import load_vocabulary, save_vocabulary
from minibert.data.vectorizers import build_run_vectorizer, run_vectorizer
from minibert.inspection.metrics import format_report
from minibert.inspection.plots import plot_curves
from minibert.layers import PairPacker
from minibert.models import Backbone, EndToEndClassifier
from minibert.objectives import get_objective
from minibert.training.budget import estimate_finetuning_seconds, pretraining_minutes
from minibert.training.devices import describe_devices
from minibert.training.distribution import distribution_scope
from minibert.training.finetuning import classifier_inputs, finetune, validation_report
from minibert.training.pretraining import MLM_VALIDATION_TEXTS, pretrain


def _stage_summary(history) -> dict:
    summary = {key: float(values[-1]) for key, values in history.items() if key != "seconds"}
    summary["seconds"] = float(np.sum(history["seconds"]))
    summary["seconds_per_epoch"] = float(np.mean(history["seconds"]))
    return summary


def run(data, config: RunConfig, output, overwrite=False, verbose="auto", print_fn=print) -> dict:
    """The whole recipe into the run folder `output`; returns its metrics.

    Args:
        data: a `minibert.data.sources.TextClassificationData`.
        config: the run configuration.
        output: the run folder (created). An unfinished run of the same
            config and data there is resumed from its checkpoints; any other
            non-empty folder needs `overwrite=True`, which starts afresh.
    """
    request = {
        "config": dataclasses.asdict(config),
        "data": {"name": data.name, "train": len(data.train), "validation": len(data.validation),
                 "unlabeled": len(data.unlabeled), "group_column": data.group_column},
    }
    resuming = run_folder.prepare_run_folder(output, request, overwrite=overwrite)
    previous_policy = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy(config.precision)
    try:
        with distribution_scope(config.distribute) as num_devices:
            if num_devices > 1:
                print_fn(f"distribute {config.distribute}: each batch split across {num_devices} devices")
            return _run(data, config, output, verbose, print_fn, resuming)
    finally:
        keras.mixed_precision.set_global_policy(previous_policy)


def _run(data, config: RunConfig, output, verbose, print_fn, resuming=False) -> dict:
    keras.utils.set_random_seed(config.seed)
    print_fn(describe_devices())
    checkpoints = os.path.join(output, run_folder.CHECKPOINTS_DIR)
    logs = os.path.join(output, run_folder.LOGS_DIR) if config.tensorboard else None
    if resuming:
        print_fn(f"resuming the unfinished run in {output} from its last saved epoch")
    texts = data.pretraining_text(include_validation=config.pretrain.include_validation_text)
    print_fn(
        f"data {data.name}: {len(data.train)} train, {len(data.validation)} validation"
        f"{' (the test split)' if data.validation_is_test else ''}"
        + (f" ({data.validation_groups} whole {data.group_column} groups, none of them in train)"
           if data.group_column else "")
        + f", {len(data.unlabeled)} unlabeled"
        + (f"; {len(texts)} texts for pretraining" if config.pretrain.corpus is None else "")
        + (f"; {data.dropped_rows} rows dropped in cleaning" if data.dropped_rows else "")
    )
    start = time.perf_counter()
    vocabulary_path = os.path.join(output, run_folder.VOCABULARY_FILE)
    corpus = config.pretrain.corpus
    if corpus is not None:
        shards = corpus_files(corpus)
        # The stream replaces the data set's text; the vocabulary needs a sample of it.
        texts = sample_texts(shards, config.pretrain.vocabulary_sample, config.pretrain.corpus_text_column)
        print_fn(
            f"pretraining corpus {corpus}: {len(shards)} shards streamed each epoch; "
            f"vocabulary from its first {len(texts)} texts"
        )
    if resuming and os.path.exists(vocabulary_path):
        vectorizer = run_vectorizer(
            config.tokenizer, config.model.sequence_length, load_vocabulary(vocabulary_path)
        )
    else:
        vectorizer = build_run_vectorizer(
            config.tokenizer, texts, config.model.vocabulary_size, config.model.sequence_length
        )
    # A small corpus can have fewer words than asked for: size the model to
    # the vocabulary it really has, and record that in config.json.
    model_config = dataclasses.replace(
        config.model, vocabulary_size=vectorizer.vocabulary_size()
    )
    packed_pairs = data.has_pairs and config.finetune.pair_encoding == "packed"
    objective = get_objective(config.pretrain.objective)
    # [cls] a [sep] b [sep] tells its segments apart by embedding: packed
    # pairs need two, and so may the objective.
    num_segments = max(model_config.num_segments, 2 if packed_pairs else 0, objective.num_segments)
    model_config = dataclasses.replace(model_config, num_segments=num_segments)
    config = dataclasses.replace(config, model=model_config)
    save_vocabulary(vectorizer, vocabulary_path)
    config_values = dataclasses.asdict(config)
    config_values["data"] = {
        "name": data.name, "label_names": list(data.label_names), "pairs": data.has_pairs,
        # `evaluate` and `embed` carve the same validation split from it.
        "group_column": data.group_column,
    }
    files.write_json(os.path.join(output, run_folder.CONFIG_FILE), config_values)
    vectorizer_seconds = time.perf_counter() - start
    print_fn(f"vocabulary: {model_config.vocabulary_size} tokens ({vectorizer_seconds:.0f} s)")

    backbone = Backbone(**model_config.backbone_kwargs(), name="backbone")
    pair_encoding = config.finetune.pair_encoding
    train = (classifier_inputs(vectorizer, data.train, pair_encoding), data.train["label"].to_numpy())
    validation = (
        classifier_inputs(vectorizer, data.validation, pair_encoding),
        data.validation["label"].to_numpy(),
    )
    histories = {}
    budget = None
    if config.minutes is not None and config.pretrain.epochs > 0:
        finetuning_seconds = estimate_finetuning_seconds(
            backbone, train, validation, len(data.label_names), config
        )
        share = pretraining_minutes(config.minutes, time.perf_counter() - start, finetuning_seconds)
        if config.pretrain.max_minutes is not None:
            share = min(share, config.pretrain.max_minutes)
        share = round(share, 1)
        budget = {"minutes": config.minutes, "finetuning_estimate_seconds": finetuning_seconds,
                  "pretraining_minutes": share}
        print_fn(
            f"budget {config.minutes:g} minutes: fine-tuning measured at ~{finetuning_seconds / 60:.1f} "
            f"minutes here, {share:.1f} minutes left for pretraining"
        )
        # Nothing left: no pretraining at all, rather than a few steps.
        pretrain_config = dataclasses.replace(
            config.pretrain, max_minutes=share if share > 0 else None,
            epochs=config.pretrain.epochs if share > 0 else 0,
        )
        config = dataclasses.replace(config, pretrain=pretrain_config)
    if config.pretrain.epochs > 0:
        minutes = config.pretrain.max_minutes
        print_fn(
            f"stage mlm: {config.pretrain.epochs} epochs of {objective.description} pretraining"
            + (f", at most {minutes:g} minutes" if minutes is not None else "")
        )
        # Text pretraining never reads: the validation reviews, unless asked to.
        validation_texts = None
        if not config.pretrain.include_validation_text:
            validation_texts = data.validation["text"][:MLM_VALIDATION_TEXTS].tolist()
        masked_lm, histories["mlm"] = pretrain(
            backbone, vectorizer, texts, config, verbose, validation_texts,
            checkpoint_dir=os.path.join(checkpoints, "mlm"),
            log_dir=None if logs is None else os.path.join(logs, "mlm"),
        )
        files.save_model(masked_lm, os.path.join(output, run_folder.MLM_FILE))

    print_fn(
        "stage classifier: backbone frozen, then unfrozen"
        + (f"; text pairs, {pair_encoding}" if data.has_pairs else "")
    )

    def save_frozen_stage(stage, classifier):
        if stage == "frozen":
            path = os.path.join(output, run_folder.CLASSIFIER_FROZEN_FILE)
            files.save_model(classifier, path)

    classifier, classifier_histories = finetune(
        backbone, train, validation, len(data.label_names), config, verbose, save_frozen_stage,
        checkpoint_dir=checkpoints, log_dir=logs,
    )
    histories.update(classifier_histories)
    files.save_model(classifier, os.path.join(output, run_folder.CLASSIFIER_FILE))

    end_to_end = EndToEndClassifier(
        vectorizer, classifier, data.label_names,
        pair_packer=PairPacker(model_config.sequence_length) if packed_pairs else None,
        name="end_to_end",
    )
    files.save_model(end_to_end, os.path.join(output, run_folder.END_TO_END_FILE))

    history_path = os.path.join(output, run_folder.HISTORY_FILE)
    run_folder.write_history(history_path, histories)
    plot_curves(history_path, os.path.join(output, run_folder.CURVES_FILE))
    report = validation_report(classifier, validation, data.label_names, config)
    metrics = {
        "stages": {stage: _stage_summary(history) for stage, history in histories.items()},
        "validation": report,
        "vectorizer_seconds": vectorizer_seconds,
        "total_seconds": time.perf_counter() - start,
        "rows": {
            "train": len(data.train),
            "validation": len(data.validation),
            "unlabeled": len(data.unlabeled),
            "pretraining_texts": len(texts) if corpus is None else None,  # a stream: uncounted
            "pretraining_corpus": corpus,
            "dropped": data.dropped_rows,
        },
        "validation_is_test": data.validation_is_test,
        # Whole groups held out (--group-column): the validation figure predicts unseen ones.
        "validation_groups": {"column": data.group_column, "count": data.validation_groups}
        if data.group_column else None,
    }
    metrics["budget"] = budget
    frozen = histories.get("frozen", {}).get("val_accuracy")
    # The head alone on the pretrained features: whether pretraining learned
    # anything a classifier can use (random weights give ~0.56 on IMDb).
    metrics["frozen_validation_accuracy"] = float(frozen[-1]) if frozen else None
    files.write_json(os.path.join(output, run_folder.METRICS_FILE), metrics)
    # Finished: nothing left to resume.
    shutil.rmtree(checkpoints, ignore_errors=True)
    for stage, summary in metrics["stages"].items():
        figures = ", ".join(
            f"{k} {v:,.0f}" if k == "trainable_parameters" else f"{k} {v:.4f}"
            for k, v in summary.items() if "seconds" not in k
        )
        print_fn(f"{stage}: {figures}; {summary['seconds']:.0f} s")
    if frozen:
        print_fn(f"frozen backbone: validation accuracy {frozen[-1]:.4f} from the head alone")
    print_fn(f"validation ({len(validation[1])} rows): {format_report(report)}")
    print_fn(f"saved to {output}")
    return metrics
