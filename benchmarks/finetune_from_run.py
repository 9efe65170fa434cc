"""Fine-tune a run's pretrained masked LM again with other fine-tuning settings.

Reproduces the fine-tuning rows of benchmarks/README.md that start from a
saved `mlm.keras` instead of re-pretraining (pretraining is deterministic for
a seed, so `python -m minibert train` with the same flags gives the same
backbone). Overrides are FinetuneConfig fields:

    python benchmarks/finetune_from_run.py saved_models/imdb \
        --dataset ../shared/data/imdb --seed 1 unfrozen_learning_rate=2e-3 trainable_layers=1
"""

import argparse
import dataclasses
import json
import time

import keras

import minibert  # noqa: F401  (registers the saved models' classes)
from minibert import runs
from minibert.config import FinetuneConfig
from minibert.data.sources import load_dataset
from minibert.models import Backbone
from minibert.tasks.classification.task import CLASSIFICATION
from minibert.training.finetuning import TaskExamples, finetune
from minibert.training.stage import StageOutputs


def parse_override(text: str) -> tuple[str, object]:
    """`name=value` for a FinetuneConfig field, the value typed like the field's default."""
    name, _, value = text.partition("=")
    fields = {field.name: field for field in dataclasses.fields(FinetuneConfig)}
    if name not in fields:
        raise SystemExit(f"unknown fine-tuning setting {name!r}; choose from {sorted(fields)}")
    default = getattr(FinetuneConfig(), name)
    if value == "None":
        return name, None
    if isinstance(default, bool):
        return name, value.lower() in ("1", "true", "yes")
    if name == "trainable_layers":
        return name, int(value)
    return name, type(default)(value) if default is not None else float(value)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", help="a run folder with mlm.keras, vocabulary.txt and config.json")
    parser.add_argument("--dataset", required=True, help="the data set the run was trained on")
    parser.add_argument("--seed", type=int, help="set every random seed (default: the run's, unset)")
    parser.add_argument(
        "--group-column",
        help="the column whose groups validation holds (default: the one config.json records)",
    )
    parser.add_argument(
        "--random-init", action="store_true",
        help="fine-tune a fresh backbone of the run's shape instead of its pretrained one",
    )
    parser.add_argument("overrides", nargs="*", help="FinetuneConfig fields as name=value")
    args = parser.parse_intermixed_args()

    folder = runs.RunFolder(args.run)
    recorded_data = folder.read_data()
    group_column = args.group_column or (recorded_data.group_column if recorded_data else None)
    config = folder.read_config()
    split_seed = config.seed  # the run's train/validation split, whatever --seed trains with
    overrides = dict(parse_override(text) for text in args.overrides)
    config = dataclasses.replace(config, finetune=dataclasses.replace(config.finetune, **overrides))
    if args.seed is not None:
        config = dataclasses.replace(config, seed=args.seed)
        keras.utils.set_random_seed(args.seed)

    # The run's split needs its seed and the default --validation-size (0.2).
    data = load_dataset(args.dataset, seed=split_seed, group_column=group_column)
    vectorizer = folder.vectorizer()
    if args.random_init:
        backbone = Backbone(**config.model.backbone_kwargs(), name="backbone")
    else:
        backbone = folder.load_model(runs.MLM_FILE).backbone
    examples = TaskExamples.of(CLASSIFICATION, vectorizer, data, config)
    start = time.perf_counter()
    _, histories = finetune(examples, backbone, config, StageOutputs(verbose=2))
    results = {
        stage: {
            "val_accuracy": [round(value, 4) for value in history["val_accuracy"]],
            "seconds": [round(value) for value in history["seconds"]],
            "trainable_parameters": history["trainable_parameters"][0],
        }
        for stage, history in histories.items()
    }
    results["total_seconds"] = round(time.perf_counter() - start)
    print(json.dumps({
        "finetune": dataclasses.asdict(config.finetune), "seed": args.seed,
        "random_init": args.random_init, **results,
    }))


if __name__ == "__main__":
    main()
