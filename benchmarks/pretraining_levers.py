"""Pretraining levers on a short proxy, compared at equal steps.

Each lever is a change to the `imdb` preset's pretraining. For each one, the
preset's model pretrains for `--steps` steps on IMDb's train and unlabelled
text, with the film-disjoint validation split held out. Every `--eval-every`
steps it records the held-out masked-word accuracy and loss (full softmax, 1,000
validation reviews masked once). At the end a classifier head trains one epoch on
the frozen backbone (the recipe's frozen stage) and is scored on the whole
film-disjoint validation split: that figure says whether the pretrained features
are worth anything; `--unfrozen` trains the preset's unfrozen stage after it and
reports that too. Rows compare at equal steps, so the machine's speed changes
the wall time and nothing else; with `--minutes`, at equal time instead.

    python benchmarks/pretraining_levers.py --dataset ../shared/data/imdb \
        --steps 1500 --levers baseline bert_init no_dropout unigram_bias \
        --output saved_models/levers.json

Each lever's row holds the levers before it in `--levers` plus its own
(`--stack`, the default), or the baseline plus its own alone (`--no-stack`).
"""

import argparse
import dataclasses
import json
import os
import time

import keras

from minibert.config import get_preset
from minibert.data.sources import load_dataset
from minibert.data.vectorizers import build_run_vectorizer
from minibert.models import Backbone
from minibert.tasks.classification.task import CLASSIFICATION
from minibert.training.callbacks import TimeBudget
from minibert.training.finetuning import TaskExamples, finetune
from minibert.training.pretraining import pretraining_setup, within_budget
from minibert.training.stage import StageOutputs

# Each lever: the RunConfig sections it changes.
LEVERS = {
    "baseline": {},
    "bert_init": {"model": {"initializer_range": 0.02, "embedding_layer_norm": True}},
    "no_dropout": {"pretrain": {"dropout": 0.0}},
    "unigram_bias": {"pretrain": {"unigram_bias": True}},
    # The preset's schedule before the one-cycle was tried.
    "constant_1e-3": {"pretrain": {"learning_rate": 1e-3, "schedule": "constant"}},
    "one_cycle_2e-3": {"pretrain": {"learning_rate": 2e-3, "schedule": "linear"}},
    "one_cycle_4e-3": {"pretrain": {"learning_rate": 4e-3, "schedule": "linear"}},
    "mask_0.25": {"pretrain": {"mask_rate": 0.25}},
    "mask_0.40": {"pretrain": {"mask_rate": 0.40}},
    "window_128": {"pretrain": {"window_length": 128}},
    "glu": {"model": {"gated_feedforward": True}},
    "no_bias": {"model": {"use_bias": False}},
    # Masked-word accuracy counts pieces here: compare its frozen stage, not that.
    "wordpiece_16k": {"run": {"tokenizer": "wordpiece"}, "model": {"vocabulary_size": 16_000}},
    # Not a lever of the masked LM: the other objective, compared at equal minutes (--minutes).
    "electra": {"pretrain": {"objective": "electra"}},
}


def _apply(config, changes):
    """`config` with each section's changes; the "run" section is RunConfig's own fields."""
    sections = {name: dataclasses.replace(getattr(config, name), **values)
                for name, values in changes.items() if name != "run"}
    return dataclasses.replace(config, **sections, **changes.get("run", {}))


def _merge(changes):
    merged = {}
    for change in changes:
        for section, values in change.items():
            merged.setdefault(section, {}).update(values)
    return merged


class HeldOutScore(keras.callbacks.Callback):
    """Every `every` steps: the masked-word accuracy and loss on the held-out batches."""

    def __init__(self, validation, every):
        super().__init__()
        self.validation, self.every, self.points = validation, every, []

    def on_train_batch_end(self, batch, logs=None):
        step = batch + 1  # one epoch of all the steps
        if step % self.every == 0:
            scores = self.model.evaluate(self.validation, verbose=0, return_dict=True)
            self.points.append({"step": step, "accuracy": scores["accuracy"], "loss": scores["loss"],
                                "seconds": time.perf_counter() - self.start})

    def on_train_begin(self, logs=None):
        self.start = time.perf_counter()


def run_lever(name, config, data, vectorizer, texts, steps, eval_every, minutes=None,
              unfrozen=False):
    keras.utils.set_random_seed(config.seed)
    model_config = dataclasses.replace(config.model, vocabulary_size=vectorizer.vocabulary_size())
    backbone = Backbone(**model_config.backbone_kwargs())
    # The recipe's own set-up: the objective's model, windows, unigram bias, masked batches.
    setup = pretraining_setup(backbone, vectorizer, texts, config)
    dataset = setup.batches.repeat()
    # Scored at BERT's 15% whatever the lever's rate, so rows compare.
    validation = setup.held_out_batches(data.validation["text"][:1000].tolist(), vectorizer,
                                        mask_rate=0.15)
    learning_rate = setup.learning_rate(steps)
    score = HeldOutScore(validation, eval_every)
    callbacks = [score]
    if minutes is not None:
        # As the recipe's budget does: a decaying rate ends with the minutes.
        learning_rate, budget_callbacks = within_budget(learning_rate, steps, TimeBudget(minutes))
        callbacks += budget_callbacks
    masked_lm = setup.compile(learning_rate)
    if config.pretrain.dropout is not None:
        backbone.set_dropout(config.pretrain.dropout)
    start = time.perf_counter()
    masked_lm.fit(dataset, steps_per_epoch=steps, epochs=1, callbacks=callbacks, verbose=0)
    pretraining_seconds = time.perf_counter() - start
    steps = int(masked_lm.optimizer.iterations.numpy())  # fewer when the minutes ran out
    backbone.set_dropout(None)

    # The preset's frozen stage, and with --unfrozen its unfrozen stage after it.
    stages = dataclasses.replace(config, finetune=dataclasses.replace(
        config.finetune, frozen_epochs=1,
        unfrozen_epochs=config.finetune.unfrozen_epochs if unfrozen else 0))
    examples = TaskExamples.of(CLASSIFICATION, vectorizer, data, stages)
    _, histories = finetune(examples, backbone, stages, StageOutputs(verbose=0))
    row = {"lever": name, "steps": steps, "held_out": score.points,
           "pretraining_seconds": pretraining_seconds,
           "seconds_per_step": pretraining_seconds / steps,
           "frozen_validation_accuracy": float(histories["frozen"]["val_accuracy"][-1]),
           "unfrozen_validation_accuracy": float(histories["unfrozen"]["val_accuracy"][-1])
           if unfrozen else None,
           "changes": None}
    print(f"{name:<16} masked-word acc " + " ".join(
        f"{point['step']}:{point['accuracy']:.4f}" for point in score.points)
        + f"  frozen {row['frozen_validation_accuracy']:.4f}"
        + (f"  unfrozen {row['unfrozen_validation_accuracy']:.4f}" if unfrozen else "")
        + f"  {row['seconds_per_step'] * 1000:.0f} ms/step", flush=True)
    return row


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dataset", required=True)
    parser.add_argument("--steps", type=int, default=1500)
    parser.add_argument("--eval-every", type=int, default=500)
    parser.add_argument("--levers", nargs="+", default=list(LEVERS), choices=list(LEVERS))
    parser.add_argument("--stack", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument(
        "--minutes", type=float,
        help="also stop each lever's pretraining after this many minutes: equal time, not steps "
        "(run the compared levers side by side, so both share the machine's speed)",
    )
    parser.add_argument(
        "--unfrozen", action="store_true",
        help="also train the preset's unfrozen stage after the frozen one, and report it",
    )
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--output", default=os.path.join("saved_models", "levers.json"))
    args = parser.parse_args()

    preset = dataclasses.replace(get_preset("imdb"), seed=args.seed)
    data = load_dataset(args.dataset, group_column="movie", seed=args.seed)
    texts = data.pretraining_text()
    vectorizers = {}  # one per tokenizer and size, shared by the rows that use it
    rows = []
    applied = []
    for name in args.levers:
        changes = _merge(applied + [LEVERS[name]]) if args.stack else LEVERS[name]
        config = _apply(preset, changes)
        key = (config.tokenizer, config.model.vocabulary_size)
        if key not in vectorizers:
            vectorizers[key] = build_run_vectorizer(
                config.tokenizer, texts, config.model.vocabulary_size, config.model.sequence_length
            )
        row = run_lever(name, config, data, vectorizers[key], texts, args.steps,
                        args.eval_every, args.minutes, args.unfrozen)
        row["changes"] = changes
        rows.append(row)
        if args.stack:
            applied.append(LEVERS[name])
        os.makedirs(os.path.dirname(os.path.abspath(args.output)), exist_ok=True)
        with open(args.output, "w") as file:
            json.dump({"dataset": args.dataset, "validation_rows": len(data.validation),
                       "stack": args.stack, "rows": rows}, file, indent=2)


if __name__ == "__main__":
    main()
