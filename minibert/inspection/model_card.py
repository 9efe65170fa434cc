"""A run folder's model card: its README.md, in the Hugging Face convention.

Written at the end of every run (`train`, `pretrain`, `finetune`) from what
the run recorded: the data and its splits, the configuration, the validation
figures, the time of each stage, and how to load and use each file there.
"""

import os

from minibert import run_folder

# What each file of a run folder is, and how to use it.
FILE_USES = {
    run_folder.CONFIG_FILE: "the full configuration and the data it ran on",
    run_folder.VOCABULARY_FILE: "one token per line, id = line number",
    run_folder.MLM_FILE: (
        "the pretrained model: `python -m minibert fill-mask RUN \"a [mask] film\"`, or "
        "`python -m minibert finetune --from RUN ...` for classifiers on new data"
    ),
    run_folder.CLASSIFIER_FROZEN_FILE: "the classifier on token ids after the frozen stage",
    run_folder.CLASSIFIER_FILE: (
        "the classifier on token ids after the last stage (with its optimizer, to train on)"
    ),
    run_folder.END_TO_END_FILE: (
        "raw strings in, probabilities out: `python -m minibert predict RUN \"text\"`, "
        "`predict RUN --input FILE`, `export RUN --output DIR`"
    ),
    run_folder.HISTORY_FILE: "every epoch of every stage",
    run_folder.STEPS_FILE: "the training loss every few batches of every stage",
    run_folder.CURVES_FILE: "loss and accuracy of every stage",
    run_folder.METRICS_FILE: "the figures above, and more",
}

LOADING = '''```python
import keras
import minibert  # registers minibert's classes

model = keras.models.load_model("{run}/{end_to_end}")
model.predict_labels(["A wonderful, moving film."])  # [(label, probability)]
```'''


def model_card(run, config: dict, metrics: dict) -> str:
    """The README.md text of run folder `run`, from its config.json and metrics.json values.

    Example:
    >>> card = model_card("run", {"data": None, "model": {}, "pretrain": {}}, {"stages": {}})
    >>> card.splitlines()[0]
    '# run'
    """
    name = os.path.basename(os.path.normpath(run))
    lines = [f"# {name}", "", "A minibert run: a small BERT trained from scratch (`python -m minibert`)."]
    data = config.get("data") or {}
    rows = metrics.get("rows") or {}
    lines += ["", "## Data", ""]
    if data:
        lines.append(f"- data set: {data.get('name')}; labels: {', '.join(data.get('label_names', []))}")
    for key in ("train", "validation", "unlabeled", "pretraining_texts", "pretraining_corpus",
                "dropped"):
        if rows.get(key) is not None:
            lines.append(f"- {key.replace('_', ' ')}: {rows[key]:,}" if isinstance(rows[key], int)
                         else f"- {key.replace('_', ' ')}: {rows[key]}")
    groups = metrics.get("validation_groups")
    if groups:
        lines.append(f"- validation: {groups['count']} whole `{groups['column']}` groups, none "
                     "of them in train (the figure predicts unseen groups)")
    elif metrics.get("validation_is_test"):
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
    if "mlm" in metrics.get("stages", {}):
        lines.append(f"- pretraining: {pretrain.get('objective')}, learning rate "
                     f"{pretrain.get('learning_rate')} ({pretrain.get('schedule')}), batch "
                     f"{pretrain.get('batch_size')}, mask rate {pretrain.get('mask_rate')}")
    finetune = config.get("finetune", {})
    if {"frozen", "unfrozen"} & set(metrics.get("stages", {})):
        lines.append(f"- fine-tuning: {finetune.get('frozen_epochs')} frozen epoch(s) at "
                     f"{finetune.get('learning_rate')}, {finetune.get('unfrozen_epochs')} unfrozen at "
                     f"{finetune.get('unfrozen_learning_rate')} ({finetune.get('schedule')}), "
                     f"{finetune.get('pooling')} pooling")
    lines.append("- everything else: `config.json`")
    lines += ["", "## Results", "", "| stage | epochs | figures | minutes |", "|---|---|---|---|"]
    for stage, summary in metrics.get("stages", {}).items():
        figures = ", ".join(f"{key} {value:.4f}" for key, value in summary.items()
                            if key.startswith("val_") or key in ("loss", "accuracy"))
        lines.append(f"| {stage} | {summary.get('epochs', '-')} | {figures} | "
                     f"{summary.get('seconds', 0) / 60:.1f} |")
    report = metrics.get("validation")
    if report:
        lines += ["", f"Validation accuracy **{report['accuracy']:.4f}** on {rows.get('validation', '?'):,} "
                  "rows" + (f"; the frozen stage alone {metrics['frozen_validation_accuracy']:.4f}"
                            if metrics.get("frozen_validation_accuracy") is not None else "") + "."]
    if metrics.get("total_seconds") is not None:
        lines += ["", f"The whole command took {metrics['total_seconds'] / 60:.1f} minutes."]
    # metrics.json is written just after the card.
    present = [file for file in FILE_USES
               if file == run_folder.METRICS_FILE or os.path.exists(os.path.join(run, file))]
    lines += ["", "## Files", "", "| file | what, and how to use it |", "|---|---|"]
    lines += [f"| `{file}` | {FILE_USES[file].replace('RUN', os.path.normpath(run))} |"
              for file in present]
    if run_folder.END_TO_END_FILE in present:
        lines += ["", "## Loading", "", LOADING.format(run=os.path.normpath(run), end_to_end=run_folder.END_TO_END_FILE)]
    return "\n".join(lines) + "\n"
