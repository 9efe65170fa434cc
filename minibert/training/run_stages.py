"""What the recipes share: a run folder's stages, from the vocabulary to metrics.json.

`recipe.py`'s `run`, `pretrain_run` and `finetune_run` are these steps in
their orders: `in_run_folder` (start or resume, precision, devices), the
pretraining text and `vocabulary`, `pretraining_stage` (mlm.keras),
`finetuning_stage` (the classifiers and end_to_end.keras), and `finish`
(history.csv, curves.png, metrics.json; the checkpoints removed).
"""

import dataclasses
import os
import shutil
import tempfile
import time

import keras
import numpy as np

from minibert import files, run_folder
from minibert.config import RunConfig
from minibert.data.corpus import corpus_files, sample_texts
from minibert.data.tokenizer import load_vocabulary, save_vocabulary
from minibert.data.vectorizers import build_run_vectorizer, run_vectorizer
from minibert.inspection.metrics import format_report
from minibert.inspection.model_card import model_card
from minibert.inspection.plots import plot_curves
from minibert.layers import PairPacker
from minibert.models import EndToEndClassifier
from minibert.models.serialization import inference_copy
from minibert.objectives import get_objective
from minibert.run_lock import run_folder_lock
from minibert.training.devices import describe_devices, find_accelerator, resolve_precision
from minibert.training.distribution import (
    coordinating_process_id, distribution_scope, is_multi_host,
)
from minibert.training.finetuning import classifier_inputs, finetune, validation_report
from minibert.training.pretraining import MLM_VALIDATION_TEXTS, pretrain


def in_run_folder(output, request, overwrite, config: RunConfig, print_fn, body) -> dict:
    """Locks and prepares the run folder, then calls `body(folder, resuming)` on the config's devices.

    The folder is `output`, held for the whole call (`minibert.run_lock`).
    In a multi-host job only the coordinator (process 0) writes `output`;
    every other process trains the same steps into a temporary folder,
    removed at the end, and keeps nothing.
    """
    process_id = coordinating_process_id(config.distribute)
    if process_id == 0:
        with run_folder_lock(output, print_fn):
            resuming = run_folder.prepare_run_folder(output, request, overwrite=overwrite)
            if resuming and is_multi_host(config.distribute):
                # The other processes keep no checkpoints to resume from.
                raise ValueError(f"{output} holds an unfinished multi-host run, which cannot "
                                 "resume; pass --overwrite on every host to start afresh")
            return _on_devices(output, resuming, config, print_fn, body)
    folder = tempfile.mkdtemp(prefix=f"minibert-process-{process_id}-")
    print_fn(f"process {process_id} of a multi-host job: process 0 writes {output}, "
             "this one keeps nothing")
    try:
        return _on_devices(folder, False, config, print_fn, body)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _on_devices(folder, resuming, config: RunConfig, print_fn, body) -> dict:
    """`body(folder, resuming)` under the config's distribution and precision."""
    previous_policy = keras.mixed_precision.global_policy()
    try:
        # The distribution first: a multi-host JAX job must join before any
        # device is listed, and the precision asks which device this is.
        with distribution_scope(config.distribute) as num_devices:
            keras.mixed_precision.set_global_policy(
                resolve_precision(config.precision, find_accelerator())
            )
            if num_devices > 1:
                print_fn(f"distribute {config.distribute}: each batch split across {num_devices} devices")
            keras.utils.set_random_seed(config.seed)
            print_fn(describe_devices())
            if resuming:
                print_fn(f"resuming the unfinished run in {folder} from its last saved epoch")
            return body(folder, resuming)
    finally:
        keras.mixed_precision.set_global_policy(previous_policy)


def data_summary(data) -> dict | None:
    """What a run's request records of its data: a rerun resumes only on the same."""
    if data is None:
        return None
    return {"name": data.name, "train": len(data.train), "validation": len(data.validation),
            "unlabeled": len(data.unlabeled), "group_column": data.group_column}


def describe_data(data, texts=None, config: RunConfig | None = None) -> str:
    """The run's line about its data: rows per split, held-out groups, pretraining texts."""
    line = (
        f"data {data.name}: {len(data.train)} train, {len(data.validation)} validation"
        f"{' (the test split)' if data.validation_is_test else ''}"
        + (f" ({data.validation_groups} whole {data.group_column} groups, none of them in train)"
           if data.group_column else "")
        + f", {len(data.unlabeled)} unlabeled"
    )
    if texts is not None and config.pretrain.corpus is None:
        line += f"; {len(texts)} texts for pretraining"
    if data.dropped_rows:
        line += f"; {data.dropped_rows} rows dropped in cleaning"
    return line


def pretraining_texts(data, config: RunConfig, print_fn) -> list[str]:
    """The texts pretraining reads, or with a streamed corpus the sample its vocabulary comes from."""
    corpus = config.pretrain.corpus
    texts = None
    if data is not None:
        texts = data.pretraining_text(include_validation=config.pretrain.include_validation_text)
        print_fn(describe_data(data, texts, config))
    if corpus is not None:
        shards = corpus_files(corpus)
        # The stream replaces the data set's text; the vocabulary needs a sample of it.
        texts = sample_texts(shards, config.pretrain.vocabulary_sample, config.pretrain.corpus_text_column)
        print_fn(
            f"pretraining corpus {corpus}: {len(shards)} shards streamed each epoch; "
            f"vocabulary from its first {len(texts)} texts"
        )
    return texts


def run_vocabulary(texts, config: RunConfig, output, resuming, packed_pairs, print_fn):
    """The run's vectorizer (its saved vocabulary when resuming), and the config sized to it."""
    start = time.perf_counter()
    vocabulary_path = os.path.join(output, run_folder.VOCABULARY_FILE)
    if resuming and os.path.exists(vocabulary_path):  # what the checkpoints were trained on
        vectorizer = run_vectorizer(
            config.tokenizer, config.model.sequence_length, load_vocabulary(vocabulary_path)
        )
    else:
        vectorizer = build_run_vectorizer(
            config.tokenizer, texts, config.model.vocabulary_size, config.model.sequence_length
        )
    # A small corpus can have fewer words than asked for: size the model to
    # the vocabulary it really has, and record that in config.json.
    # [cls] a [sep] b [sep] tells its segments apart by embedding: packed
    # pairs need two, and so may the objective.
    num_segments = max(config.model.num_segments, 2 if packed_pairs else 0,
                       get_objective(config.pretrain.objective).num_segments)
    model_config = dataclasses.replace(
        config.model, vocabulary_size=vectorizer.vocabulary_size(), num_segments=num_segments
    )
    save_vocabulary(vectorizer, vocabulary_path)
    print_fn(f"vocabulary: {model_config.vocabulary_size} tokens ({time.perf_counter() - start:.0f} s)")
    return vectorizer, dataclasses.replace(config, model=model_config)


def write_config(output, config: RunConfig, data, **extra) -> None:
    values = dataclasses.asdict(config)
    values["data"] = None if data is None else {
        "name": data.name, "label_names": list(data.label_names), "pairs": data.has_pairs,
        # `evaluate` and `embed` carve the same validation split from it.
        "group_column": data.group_column,
    }
    values.update(extra)
    files.write_json(os.path.join(output, run_folder.CONFIG_FILE), values)


def within_minutes(config: RunConfig, share):
    """`config` with pretraining held to `share` minutes (and its own max_minutes), and that share."""
    if config.pretrain.max_minutes is not None:
        share = min(share, config.pretrain.max_minutes)
    share = round(share, 1)
    # Nothing left: no pretraining at all, rather than a few steps.
    pretrain_config = dataclasses.replace(
        config.pretrain, max_minutes=share if share > 0 else None,
        epochs=config.pretrain.epochs if share > 0 else 0,
    )
    return dataclasses.replace(config, pretrain=pretrain_config), share


def classifier_data(vectorizer, data, config: RunConfig):
    """`(token_ids, labels)` of the train and validation splits."""
    pair_encoding = config.finetune.pair_encoding
    return tuple(
        (classifier_inputs(vectorizer, frame, pair_encoding), frame["label"].to_numpy())
        for frame in (data.train, data.validation)
    )


def pretraining_stage(backbone, vectorizer, texts, data, config: RunConfig, output, verbose,
                      print_fn, step_logs=None) -> dict:
    """Pretrains `backbone`, saves `mlm.keras`; returns the stage's history."""
    run_folder.check_free_space(output, backbone.count_params())
    minutes = config.pretrain.max_minutes
    print_fn(
        f"stage mlm: {config.pretrain.epochs} epochs of "
        f"{get_objective(config.pretrain.objective).description} pretraining"
        + (f", at most {minutes:g} minutes" if minutes is not None else "")
    )
    # Pretraining never reads the validation reviews, unless asked to: it scores on them.
    validation_texts = None
    if data is not None and not config.pretrain.include_validation_text:
        validation_texts = data.validation["text"][:MLM_VALIDATION_TEXTS].tolist()
    logs = logs_dir(output, config)
    masked_lm, history = pretrain(
        backbone, vectorizer, texts, config, verbose, validation_texts,
        checkpoint_dir=os.path.join(output, run_folder.CHECKPOINTS_DIR, "mlm"),
        log_dir=None if logs is None else os.path.join(logs, "mlm"), step_logs=step_logs,
    )
    files.save_model(masked_lm, os.path.join(output, run_folder.MLM_FILE))
    return history


def finetuning_stage(backbone, vectorizer, data, train, validation, config: RunConfig, output,
                     verbose, print_fn, step_logs=None):
    """The frozen and unfrozen stages; saves the classifiers and `end_to_end.keras`.

    Returns the stages' histories and the validation report.
    """
    pair_encoding = config.finetune.pair_encoding
    print_fn(
        "stage classifier: backbone frozen, then unfrozen"
        + (f"; text pairs, {pair_encoding}" if data.has_pairs else "")
    )

    def save_frozen_stage(stage, classifier):
        if stage == "frozen":
            files.save_model(classifier, os.path.join(output, run_folder.CLASSIFIER_FROZEN_FILE))

    classifier, histories = finetune(
        backbone, train, validation, len(data.label_names), config, verbose, save_frozen_stage,
        checkpoint_dir=os.path.join(output, run_folder.CHECKPOINTS_DIR),
        log_dir=logs_dir(output, config), step_logs=step_logs,
    )
    files.save_model(classifier, os.path.join(output, run_folder.CLASSIFIER_FILE))
    packed_pairs = data.has_pairs and pair_encoding == "packed"
    # For inference: the classifier's weights without its optimizer's state.
    end_to_end = EndToEndClassifier(
        vectorizer, inference_copy(classifier), data.label_names,
        pair_packer=PairPacker(config.model.sequence_length) if packed_pairs else None,
        name="end_to_end",
    )
    files.save_model(end_to_end, os.path.join(output, run_folder.END_TO_END_FILE))
    return histories, validation_report(classifier, validation, data.label_names, config)


def logs_dir(output, config: RunConfig):
    return os.path.join(output, run_folder.LOGS_DIR) if config.tensorboard else None


def row_counts(data, texts, config: RunConfig) -> dict:
    corpus = config.pretrain.corpus
    rows = {"pretraining_texts": len(texts) if texts is not None and corpus is None else None,
            "pretraining_corpus": corpus}  # a stream: uncounted
    if data is not None:
        rows = {"train": len(data.train), "validation": len(data.validation),
                "unlabeled": len(data.unlabeled), **rows, "dropped": data.dropped_rows}
    return rows


def validation_facts(data) -> dict:
    return {
        "validation_is_test": data.validation_is_test,
        # Whole groups held out (--group-column): the validation figure predicts unseen ones.
        "validation_groups": {"column": data.group_column, "count": data.validation_groups}
        if data.group_column else None,
    }


def stage_summary(history) -> dict:
    summary = {key: float(values[-1]) for key, values in history.items() if key != "seconds"}
    summary["epochs"] = len(history["seconds"])
    summary["seconds"] = float(np.sum(history["seconds"]))
    summary["seconds_per_epoch"] = float(np.mean(history["seconds"]))
    return summary


def finish(output, histories, metrics, start, print_fn, report=None, step_logs=None) -> dict:
    """Writes history.csv, steps.csv, curves.png and metrics.json, removes the checkpoints,
    prints the figures."""
    if step_logs:
        run_folder.write_steps(os.path.join(output, run_folder.STEPS_FILE), step_logs)
    if histories:
        history_path = os.path.join(output, run_folder.HISTORY_FILE)
        run_folder.write_history(history_path, histories)
        plot_curves(history_path, os.path.join(output, run_folder.CURVES_FILE))
    frozen = histories.get("frozen", {}).get("val_accuracy")
    metrics = {
        "stages": {stage: stage_summary(history) for stage, history in histories.items()},
        **metrics,
        "total_seconds": time.perf_counter() - start,
    }
    if report is not None:
        # The head alone on the pretrained features: whether pretraining learned
        # anything a classifier can use (random weights give ~0.56 on IMDb).
        metrics["frozen_validation_accuracy"] = float(frozen[-1]) if frozen else None
    config = files.read_json(os.path.join(output, run_folder.CONFIG_FILE))
    files.write_text(os.path.join(output, run_folder.MODEL_CARD_FILE),
                     model_card(output, config, metrics))
    # metrics.json last: it marks the run finished.
    files.write_json(os.path.join(output, run_folder.METRICS_FILE), metrics)
    # Finished: nothing left to resume.
    shutil.rmtree(os.path.join(output, run_folder.CHECKPOINTS_DIR), ignore_errors=True)
    for stage, summary in metrics["stages"].items():
        figures = ", ".join(
            f"{k} {v:,.0f}" if k == "trainable_parameters" else f"{k} {v:.4f}"
            for k, v in summary.items() if "seconds" not in k and k != "epochs"
        )
        print_fn(f"{stage}: {figures}; {summary['seconds']:.0f} s")
    if frozen:
        print_fn(f"frozen backbone: validation accuracy {frozen[-1]:.4f} from the head alone")
    if report is not None:
        print_fn(f"validation ({metrics['rows']['validation']} rows): {format_report(report)}")
    print_fn(f"saved to {output}")
    return metrics
