"""Data sets by name from the Hugging Face hub: `--dataset hf:NAME` or `hf:NAME:CONFIG`.

Read through Hugging Face `datasets` (the `hf` extra: `pip install "minibert[hf]"`), as the
BERT course's notebooks load Rotten Tomatoes, AG News and IMDb. Its splits map onto minibert's:
`train`; `test`, or `validation` when the test labels are hidden (-1), as the validation split;
`unsupervised` / `unlabeled` as unlabelled text. A `ClassLabel` label feature gives the label
names. Offline, `datasets` loads what its cache holds (set `HF_DATASETS_OFFLINE=1` so it does
not try the network first); anything else fails in one line. NAME may also be a local folder of
data files that `datasets.load_dataset` reads.
"""

import pandas as pd

from minibert.data.tables import DataSourceError, RawSplits, short_reason

PREFIX = "hf:"
TEST_SPLITS = ("test", "validation")
UNLABELED_SPLITS = ("unsupervised", "unlabeled", "unsup")


def is_hugging_face_name(dataset: str) -> bool:
    return dataset.startswith(PREFIX)


def parse_name(dataset: str) -> tuple[str, str | None]:
    """`hf:NAME[:CONFIG]` as (NAME, CONFIG).

    Example:
    >>> parse_name("hf:glue:sst2"), parse_name("hf:imdb")
    (('glue', 'sst2'), ('imdb', None))
    """
    name, _, config = dataset.removeprefix(PREFIX).partition(":")
    if not name:
        raise DataSourceError(f"{dataset!r} names no data set; pass hf:NAME or hf:NAME:CONFIG")
    return name, config or None


def data_set_name(dataset: str) -> str:
    """The name a run records for `hf:NAME[:CONFIG]`: NAME, or NAME-CONFIG.

    >>> data_set_name("hf:glue:sst2")
    'glue-sst2'
    """
    name, config = parse_name(dataset)
    return name + (f"-{config}" if config else "")


def load_splits(dataset: str, cache_dir=None):
    """`datasets.load_dataset` of `hf:NAME[:CONFIG]`, which must have a train split; one line
    naming what is wrong when `datasets` is missing, the data set cannot be had, or has no train."""
    try:
        import datasets
    except ImportError as error:
        raise DataSourceError(
            f"--dataset {dataset} reads through Hugging Face datasets, which is not installed "
            f"({error}); pip install \"minibert[hf]\""
        ) from error
    name, config = parse_name(dataset)
    try:
        splits = datasets.load_dataset(name, config, cache_dir=cache_dir)
    except Exception as error:  # the hub, the cache and the builders raise many kinds
        raise DataSourceError(
            f"could not load {dataset} ({short_reason(error)}); offline, only data sets already "
            "in the Hugging Face cache load (HF_DATASETS_OFFLINE=1 uses it without the network)"
        ) from error
    if "train" not in splits:
        raise DataSourceError(f"{dataset} has no train split; its splits are {list(splits)}")
    return splits


def read_hugging_face(dataset: str, text_column="text", label_column="label",
                      text_pair_column=None, group_column=None, cache_dir=None) -> RawSplits:
    """The splits of `hf:NAME[:CONFIG]` as a `RawSplits`, its columns chosen as for table files."""
    splits = load_splits(dataset, cache_dir)
    features = splits["train"].features
    columns = {"text": text_column, "text_pair": text_pair_column, "label": label_column,
               "group": group_column}
    for role, column in columns.items():
        if column is not None and column not in features:
            flag = {"text_pair": "text-pair", "group": "group"}.get(role, role)
            raise DataSourceError(
                f"{role.replace('_', ' ')} column {column!r} not found in {dataset}; columns are "
                f"{list(features)}; pass --{flag}-column"
            )
    label_feature = features[label_column]
    label_names = tuple(label_feature.names) if hasattr(label_feature, "names") else None
    labelled = {role: column for role, column in columns.items() if column is not None}
    test = None
    for split in TEST_SPLITS:
        if split in splits and _has_labels(splits[split], label_column):
            test = _frame(splits[split], {k: v for k, v in labelled.items() if k != "group"},
                          label_names)
            break
    unlabeled_split = next((splits[split] for split in UNLABELED_SPLITS if split in splits), None)
    return RawSplits(
        name=data_set_name(dataset),
        train=_frame(splits["train"], labelled, label_names),
        test=test,
        unlabeled=None if unlabeled_split is None else pd.DataFrame(
            {"text": unlabeled_split[text_column]}
        ),
        label_names=label_names,
    )


def _has_labels(split, label_column) -> bool:
    """Whether a split's labels are given: hub test splits often hide them as -1."""
    return label_column in split.features and any(label != -1 for label in split[label_column])


def _frame(split, columns: dict, label_names) -> pd.DataFrame:
    """The split's columns under minibert's names; a ClassLabel's -1 (no label) becomes missing."""
    frame = pd.DataFrame({role: split[column] for role, column in columns.items()})
    if label_names is not None:
        frame["label"] = frame["label"].where(frame["label"] != -1, None)
    return frame
