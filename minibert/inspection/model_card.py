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
    runs.END_TO_END_FILE: "raw strings in: `python -m minibert predict RUN \"text\"`",
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
def model_card(folder: runs.RunFolder, metrics: runs.RunMetrics, task=None) -> str:
    """The README.md text of a run folder, from its config.json and its `RunMetrics`.

    `task` (a `minibert.tasks.task.FinetuningTask`) writes the data line, the
    results and the end-to-end model's use; None for a pretraining run.

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
    if data is not None:
        lines.append(task.card_data(data) if task is not None else labelled_data_line(data))
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
    if task is not None and {"frozen", "unfrozen"} & set(metrics.stages):
        lines.append(f"- fine-tuning ({task.name}): "
                     f"{finetune.get('frozen_epochs')} frozen epoch(s) at "
                     f"{finetune.get('learning_rate')}, {finetune.get('unfrozen_epochs')} unfrozen at "
                     f"{finetune.get('unfrozen_learning_rate')} ({finetune.get('schedule')})"
                     + (f", each stage at least {finetune['min_steps']} steps"
                        if finetune.get("min_steps") else "")
                     + task.card_settings(finetune))
    lines.append("- everything else: `config.json`")
    lines += ["", "## Results", "", "| stage | epochs | figures | minutes |", "|---|---|---|---|"]
    for stage, summary in metrics.stages.items():
        figures = ", ".join(f"{key} {value:.4f}" for key, value in summary.figures.items()
                            if key.startswith("val_") or key in ("loss", "accuracy"))
        lines.append(f"| {stage} | {summary.epochs} | {figures} | {summary.seconds / 60:.1f} |")
    if metrics.validation and task is not None:
        lines += ["", *task.card_results(metrics.validation, rows.get("validation", 0),
                                         metrics.frozen_validation_accuracy)]
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
    use = None
    if task is not None:
        uses[runs.END_TO_END_FILE], use = task.card_use
    lines += [f"| `{file}` | {uses[file].replace('RUN', run)} |" for file in present]
    if runs.END_TO_END_FILE in present:
        lines += ["", "## Loading", "",
                  LOADING.format(run=run, end_to_end=runs.END_TO_END_FILE, use=use)]
    return "\n".join(lines) + "\n"


def labelled_data_line(summary: runs.DataSummary) -> str:
    """The data line of labelled texts or tagged words: its name and its labels or tags.

    Example:
    >>> labelled_data_line(runs.DataSummary(name="reviews", label_names=("neg", "pos")))
    '- data set: reviews; labels: neg, pos'
    """
    return (f"- data set: {summary.name}; "
            + (f"tags ({summary.scheme}): " if summary.scheme else "labels: ")
            + ", ".join(summary.label_names))
