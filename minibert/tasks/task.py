"""What a fine-tuning task is: everything the recipe, the command line and the records ask of it.

Light on purpose (no TensorFlow): the command line's parser reads this
module before any command runs.
"""

import dataclasses
from collections.abc import Callable


@dataclasses.dataclass(frozen=True)
class FinetuningTask:
    """One thing a pretrained backbone is fine-tuned to do, as `--task NAME` chooses it.

    The recipe (`minibert.training.finetuning.finetune`) trains every task
    the same way: the head with the backbone frozen, then the backbone
    unfrozen, each stage compiled, checkpointed and resumed alike. What
    differs lives here, and the recipe, the command line, the run records,
    the model card and export ask this object rather than test a name.

    Attributes:
        name: the `--task` value, config.json's `task` and the key of
            `minibert.tasks.table.TASKS`.
        help: one clause for `--task`'s help.
        stage_name: what the printed stage is called ("classifier").
        head_classes: the class names the head on token ids may be
            (classifier.keras, classifier_frozen.keras).
        end_to_end_classes: the class names end_to_end.keras may hold.
        monitor: `(logs key, "max" or "min")`: the validation score whose
            best weights fine-tuning keeps and that ends a stage early; None:
            every epoch is trained and the last weights kept.
        monitor_from_report: whether `monitor`'s score is a key of
            `evaluate`'s report (`monitor[0]` less `val_`), computed after
            each validation: a score the graph cannot count (entity F1,
            SQuAD's F1) rather than one of the compiled metrics.

        Reading its data (the command line):
        reads_source: `function(dataset) -> bool`: whether `pretrain`
            without `--task` reads `dataset` as this task's data (by its
            suffix or layout).
        check_flags: `function(args, chosen)`: refuses, in one line, a data
            flag this task does not read; `chosen` says whether `--task`
            named it (a command without `--task` reads classification data).
        load_data: `function(args, seed, group_column)`: the data set the
            flags name. Every data set it returns has `name`, `train`,
            `validation` (frames), `pretraining_text(include_validation)`,
            `held_out_texts(limit)` and `summary_fields()` (what
            `minibert.runs.DataSummary` records).
        baseline: `function(data) -> list[str]`: the lines `python -m
            minibert baseline` prints: the model a user would pick instead,
            scored on the same validation split.

        Training:
        describe: `function(data, config) -> str`, the line the run prints
            before fine-tuning ("stage classifier: backbone frozen, then unfrozen").
        check_config: `function(data, config)`: refuses, in one line and
            before any run folder is made, settings this task cannot train
            with (`--distribute` for an answerer, `--self-training` for all
            but classification).
        reads_segments: `function(data, config) -> bool`: whether the head
            reads two texts as one `[cls] a [sep] b [sep]` row, which segment
            embeddings tell apart.
        grows_segments: whether a pretrained backbone without segment
            embeddings gets a table of them, started at zero (a question and
            its context); if not, such a backbone is refused.
        make_examples: `function(vectorizer, frame, data, config)` returning
            `(inputs, targets)` of one split (a frame of the data set): the
            token ids the head reads and what it learns.
        token_ids: `function(inputs) -> list of arrays`: the token ids among
            `make_examples`' inputs (not a tagger's word shapes), which the
            share of `[UNK]` is counted on.
        make_batches: `function(examples, config, shuffle) -> tf.data.Dataset`.
        build_model: `function(backbone, examples, data, config) -> keras.Model`:
            the head on the backbone, given the training examples.
        compile_model: `function(model, optimizer, jit_compile)`: its loss and metrics.
        evaluate: `function(model, examples, data, config) -> dict`: the
            report metrics.json keeps under `validation`, as the field reports it.
        format_report: `function(report) -> str`, its one printed line.
        build_end_to_end: `function(vectorizer, model, data, config, report) -> keras.Model`
            that takes raw strings (end_to_end.keras); `report` is `evaluate`'s,
            for a decision chosen on validation (a tagger's `O` weight). The
            model owns its serving signature (`serving_endpoint`).

        Using a trained run:
        predict: `function(end_to_end, texts, text_pairs) -> list[str]`: the
            lines `python -m minibert predict RUN TEXT...` prints.
        input_columns: the columns `predict --input FILE` reads by default,
            `(text column, text pair column or None)`.
        evaluate_saved: `function(end_to_end, frame, data, split) -> list[str]`:
            the lines `python -m minibert evaluate RUN` prints, scoring the
            saved model on one split's rows (a frame of `data`).

        The model card (`minibert.inspection.model_card`):
        card_data: `function(summary) -> str`: the data line, from the run's
            `DataSummary`.
        card_settings: `function(finetune_settings) -> str`: what the
            fine-tuning line adds to its epochs and rates (a classifier's pooling).
        card_results: `function(report, validation_rows, frozen) -> list[str]`:
            the validation headline and its tables.
        card_use: `(end_to_end.keras's line in the files table, the loading
            example's last line)`.

    Example:
    >>> from minibert.tasks.table import TASKS
    >>> TASKS["classification"].stage_name
    'classifier'
    """

    name: str
    help: str
    stage_name: str
    head_classes: tuple
    end_to_end_classes: tuple
    monitor: tuple | None
    reads_source: Callable
    check_flags: Callable
    load_data: Callable
    baseline: Callable
    describe: Callable
    check_config: Callable
    reads_segments: Callable
    grows_segments: bool
    make_examples: Callable
    token_ids: Callable
    make_batches: Callable
    build_model: Callable
    compile_model: Callable
    evaluate: Callable
    format_report: Callable
    build_end_to_end: Callable
    predict: Callable
    input_columns: tuple
    evaluate_saved: Callable
    card_data: Callable
    card_settings: Callable
    card_results: Callable
    card_use: tuple
    monitor_from_report: bool = False


def given_flags(args, defaults: dict) -> list:
    """The flags among `defaults` (flag: value when not given) that `args` holds another value for.

    Example:
    >>> import argparse
    >>> given_flags(argparse.Namespace(text_column="review"), {"--text-column": "text"})
    ['--text-column']
    """
    return [flag for flag, default in defaults.items()
            if getattr(args, flag.lstrip("-").replace("-", "_"), default) != default]


def refuse_few_label_flags(args) -> None:
    """Refuses `--labels` and `--unlabeled`, which hide and add a classifier's labelled rows."""
    for flag in ("labels", "unlabeled"):
        if getattr(args, flag, None) is not None:
            raise ValueError(f"--{flag} is for --task classification; drop it")


def one_device(task_name: str):
    """A `check_config` that refuses `--distribute`: the task's batches are not padded to a
    multiple of the devices, which a weighted loss would need; and `--self-training`."""

    def check_config(data, config) -> None:
        if config.distribute != "none":
            raise ValueError(f"{task_name} fine-tunes on one device; drop --distribute")
        refuse_self_training(config)

    return check_config


def refuse_self_training(config) -> None:
    """Self-training reads unlabeled single texts: a classifier's."""
    if config.finetune.self_training:
        raise ValueError("--self-training is for --task classification; drop it")
