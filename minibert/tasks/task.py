"""What a fine-tuning task is: the head a backbone gets, its batches, metrics and raw-text model."""

import dataclasses
from collections.abc import Callable


@dataclasses.dataclass(frozen=True)
class FinetuningTask:
    """One thing a pretrained backbone is fine-tuned to do, as `--task NAME` chooses it.

    The recipe (`minibert.training.finetuning.finetune`) trains every task
    the same way: the head with the backbone frozen, then the backbone
    unfrozen, each stage compiled, checkpointed and resumed alike. What
    differs lives here.

    Attributes:
        name: the `--task` value and the key of `minibert.tasks.TASKS`.
        help: one clause for `--task`'s help.
        describe: `function(data, config) -> str`, the line the run prints
            before fine-tuning ("stage classifier: backbone frozen, then unfrozen").
        make_examples: `function(vectorizer, frame, data, config)` returning
            `(inputs, targets)` of one split (a frame of the data set): the
            token ids the head reads and what it learns.
        make_batches: `function(examples, config, shuffle) -> tf.data.Dataset`.
        build_model: `function(backbone, examples, data, config) -> keras.Model`:
            the head on the backbone, given the training examples.
        compile_model: `function(model, optimizer, jit_compile)`: its loss and metrics.
        evaluate: `function(model, examples, data, config) -> dict`: the
            report metrics.json keeps under `validation`, as the field reports it.
        format_report: `function(report) -> str`, its one printed line.
        build_end_to_end: `function(vectorizer, model, data, config, report) -> keras.Model`
            that takes raw strings (end_to_end.keras); `report` is `evaluate`'s,
            for a decision chosen on validation (a tagger's `O` weight).
        predict: `function(end_to_end, texts, text_pairs) -> list[str]`: the
            lines `python -m minibert predict RUN TEXT...` prints.
        evaluate_saved: `function(end_to_end, frame, data, split) -> list[str]`:
            the lines `python -m minibert evaluate RUN` prints, scoring the
            saved model on one split's rows (a frame of `data`).
        monitor: `(logs key, "max" or "min")`: the validation score whose
            best weights fine-tuning keeps and that ends a stage early; None:
            every epoch is trained and the last weights kept.
        model_classes: the class names of (the head on token ids, the
            end-to-end model), which a run's model files must hold.
        stage_name: what the printed stage is called ("classifier").

    Example:
    >>> from minibert.tasks import get_task
    >>> get_task("classification").stage_name
    'classifier'
    """

    name: str
    help: str
    describe: Callable
    make_examples: Callable
    make_batches: Callable
    build_model: Callable
    compile_model: Callable
    evaluate: Callable
    format_report: Callable
    build_end_to_end: Callable
    predict: Callable
    evaluate_saved: Callable
    monitor: tuple
    model_classes: tuple
    stage_name: str
