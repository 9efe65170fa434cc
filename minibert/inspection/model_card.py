"""A run folder's model card: its README.md, in the Hugging Face convention.

Written at the end of every run (`train`, `pretrain`, `finetune`) from what
the run recorded: the data and its splits, the configuration, the validation
figures, the time of each stage, and how to load and use each file there.
"""

import os

from minibert import runs

# What each file of a run folder is, and how to use it.
FILE_USES = {
    runs.CONFIG_FILE: "the full configuration and the data it ran on",
    runs.VOCABULARY_FILE: "one token per line, id = line number",
    runs.MLM_FILE: (
        "the pretrained model: `python -m minibert fill-mask RUN \"a [mask] film\"`, or "
        "`python -m minibert finetune --from RUN ...` for classifiers on new data"
    ),
    runs.CLASSIFIER_FROZEN_FILE: "the classifier on token ids after the frozen stage",
    runs.CLASSIFIER_FINETUNED_FILE: (
        "self-training: the fine-tuned classifier the first pseudo-labels came from"
    ),
    runs.CLASSIFIER_FILE: (
        "the classifier on token ids kept at the end: the best validation weights of the last "
        "stage (or of self-training's best round), with its optimizer, to train on"
    ),
    runs.END_TO_END_FILE: (
        "raw strings in, probabilities out: `python -m minibert predict RUN \"text\"`, "
        "`predict RUN --input FILE`, `export RUN --output DIR`"
    ),
    runs.HISTORY_FILE: "every epoch of every stage",
    runs.STEPS_FILE: "the training loss every few batches of every stage",
    runs.CURVES_FILE: "loss and accuracy of every stage",
    runs.METRICS_FILE: "the figures above, and more",
}

LOADING = '''```python
import keras
import minibert  # registers minibert's classes

model = keras.models.load_model("{run}/{end_to_end}")
{use}
```'''
# How each task's end-to-end model is used: (its file's line, the loading example's last line).
END_TO_END_USES = {
    "question-answering": (
        "questions and contexts in, answers out as spans of the context: `python -m minibert "
        "predict RUN --question \"Who directed Jaws?\" --context \"...\"`, `predict RUN --input "
        "FILE` (question and context columns), `export RUN --output DIR`",
        'model.answer(["Who directed Jaws?"], ["Jaws is a 1975 film directed by Steven '
        'Spielberg."])  # [[Span(text, start, end, score), ...]]',
    ),
}


def model_card(folder: runs.RunFolder, metrics: runs.RunMetrics) -> str:
    """The README.md text of a run folder, from its config.json and its `RunMetrics`.

    Example:
    >>> import tempfile
    >>> from minibert.config import get_preset
    >>> folder = runs.RunFolder(os.path.join(tempfile.mkdtemp(), "run"))
    >>> os.makedirs(folder.path)
    >>> folder.write_config(get_preset("tiny"), None)
    >>> card = model_card(folder, runs.RunMetrics(stages={}, total_seconds=60.0, rows={}))
    >>> card.splitlines()[0]
    '# run'
    """
    run = os.path.normpath(folder.path)
    config = folder.read_json(runs.CONFIG_FILE)
    data = folder.read_data()
    rows = metrics.rows or {}
    lines = [f"# {os.path.basename(run)}", "",
             "A minibert run: a small BERT trained from scratch (`python -m minibert`)."]
    lines += ["", "## Data", ""]
    task = config.get("task", "classification")
    if data is not None and task == "question-answering":
        lines.append(f"- data set: {data.name}; questions on contexts, each answered by a span "
                     "of its context (rows are questions)")
    elif data is not None:
        lines.append(f"- data set: {data.name}; "
                     + (f"tags ({data.scheme}): " if data.scheme else "labels: ")
                     + ", ".join(data.label_names))
    for key in ("train", "validation", "unlabeled", "pretraining_texts", "pretraining_corpus",
                "dropped"):
        if rows.get(key) is not None:
            lines.append(f"- {key.replace('_', ' ')}: {rows[key]:,}" if isinstance(rows[key], int)
                         else f"- {key.replace('_', ' ')}: {rows[key]}")
    if data is not None and data.labels is not None:
        lines.append(f"- labels: {data.labels:,} of the training rows, drawn per class with seed "
                     f"{config.get('seed')} (`--labels`); the other rows' text joined the "
                     "unlabeled text")
    groups = metrics.validation_groups
    if groups:
        lines.append(f"- validation: {groups['count']} whole `{groups['column']}` groups, none "
                     "of them in train (the figure predicts unseen groups)")
    elif metrics.validation_is_test:
        lines.append("- validation: the data set's own test split")
    pretrained = config.get("pretrained_run")
    if pretrained:
        origin = "random weights of the shape of" if pretrained["random_init"] else "pretrained in"
        lines.append(f"- backbone: {origin} `{pretrained['path']}`")
    lines += ["", "## Configuration", ""]
    model = config.get("model", {})
    lines.append("- model: " + ", ".join(
        f"{key} {model[key]}" for key in ("num_layers", "hidden_dim", "num_heads", "intermediate_dim",
                                          "sequence_length", "vocabulary_size") if key in model
    ))
    pretrain = config.get("pretrain", {})
    if "mlm" in metrics.stages:
        lines.append(f"- pretraining: {pretrain.get('objective')}, learning rate "
                     f"{pretrain.get('learning_rate')} ({pretrain.get('schedule')}), batch "
                     f"{pretrain.get('batch_size')}, mask rate {pretrain.get('mask_rate')}")
    finetune = config.get("finetune", {})
    if {"frozen", "unfrozen"} & set(metrics.stages):
        lines.append(f"- fine-tuning ({config.get('task') or 'classification'}): "
                     f"{finetune.get('frozen_epochs')} frozen epoch(s) at "
                     f"{finetune.get('learning_rate')}, {finetune.get('unfrozen_epochs')} unfrozen at "
                     f"{finetune.get('unfrozen_learning_rate')} ({finetune.get('schedule')})"
                     + (f", each stage at least {finetune['min_steps']} steps"
                        if finetune.get("min_steps") else "")
                     # A tagger and an answerer read every token: they pool nothing.
                     + ("" if config.get("task") in ("token-classification", "question-answering")
                        else f", {finetune.get('pooling')} pooling"))
    lines.append("- everything else: `config.json`")
    lines += ["", "## Results", "", "| stage | epochs | figures | minutes |", "|---|---|---|---|"]
    for stage, summary in metrics.stages.items():
        figures = ", ".join(f"{key} {value:.4f}" for key, value in summary.figures.items()
                            if key.startswith("val_") or key in ("loss", "accuracy"))
        lines.append(f"| {stage} | {summary.epochs} | {figures} | {summary.seconds / 60:.1f} |")
    report = metrics.validation
    if report:
        frozen = metrics.frozen_validation_accuracy
        # A tagger's report is scored on entities (tagging_report), a classifier's on rows.
        headline = (
            f"Validation exact match **{report['exact_match']:.2f}**, F1 **{report['f1']:.2f}** "
            f"(SQuAD's, over {report['questions']:,} questions)"
            if "exact_match" in report else
            f"Validation entity F1 **{report['f1']:.4f}** (precision {report['precision']:.4f}, "
            f"recall {report['recall']:.4f}; token accuracy {report['token_accuracy']:.4f})"
            if "token_accuracy" in report else f"Validation accuracy **{report['accuracy']:.4f}**"
        )
        lines += ["", f"{headline} on {rows.get('validation', '?'):,} rows"
                  + (f"; the frozen stage alone {frozen:.4f}"
                     + (" word accuracy" if "token_accuracy" in report else
                        " span accuracy" if "exact_match" in report else "")
                     if frozen is not None else "") + "."]
        if report.get("outside_weight", 1.0) != 1.0:
            lines += ["", f"`O` is weighed {report['outside_weight']:g} before each word's tag "
                      "is taken, the weight of best entity F1 on this validation split (the "
                      f"plain argmax: {report['argmax_f1']:.4f})."]
        if "per_type" in report:
            lines += ["", "| entity type | F1 | precision | recall | entities |", "|---|---|---|---|---|"]
            lines += [f"| {name} | {figures['f1']:.4f} | {figures['precision']:.4f} | "
                      f"{figures['recall']:.4f} | {figures['support']} |"
                      for name, figures in report["per_type"].items()]
    if metrics.self_training:
        record = metrics.self_training
        rounds = "; ".join(f"round {r['round']}: {r['validation_accuracy']:.4f} from "
                           f"{r['pseudo_labels']:,} pseudo-labels" for r in record["rounds"])
        lines += ["", f"Self-training (`--self-training`), validation accuracy: fine-tuned "
                  f"{record['finetuned_validation_accuracy']:.4f}; {rounds}. Kept: "
                  + (f"round {record['kept_round']}." if record["kept_round"]
                     else "the fine-tuned model (no student beat it).")]
    if metrics.total_seconds is not None:
        lines += ["", f"The whole command took {metrics.total_seconds / 60:.1f} minutes."]
    # metrics.json is written just after the card.
    present = [file for file in FILE_USES
               if file == runs.METRICS_FILE or os.path.exists(folder.file(file))]
    lines += ["", "## Files", "", "| file | what, and how to use it |", "|---|---|"]
    uses = dict(FILE_USES)
    use = 'model.predict_labels(["A wonderful, moving film."])  # [(label, probability)]'
    if task in END_TO_END_USES:
        uses[runs.END_TO_END_FILE], use = END_TO_END_USES[task]
    lines += [f"| `{file}` | {uses[file].replace('RUN', run)} |" for file in present]
    if runs.END_TO_END_FILE in present:
        lines += ["", "## Loading", "",
                  LOADING.format(run=run, end_to_end=runs.END_TO_END_FILE, use=use)]
    return "\n".join(lines) + "\n"
