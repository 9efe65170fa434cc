"""Load a text classification data set into pandas, with one clear error per wrong input.

Every source ends as the same `TextClassificationData`: train and validation frames with columns
exactly `["text", "label"]` (labels int64 in `0..K-1`), or `["text", "text_pair", "label"]` for a
table of text pairs, an unlabeled frame for pretraining, and the label names. The sources:

- `"imdb"`: tensorflow-datasets `imdb_reviews`, or with `data_dir` a local IMDb folder (`imdb.py`).
- `"amazon-polarity"`: the Hugging Face hub parquet files, or a local copy of them or of the
  original CSVs (`amazon.py`).
- a path to a folder: an extracted `aclImdb/` tree, or `train.*` with optional `test.*` and
  `unsup.*` / `unlabeled.*` files (`.parquet`, `.csv`, `.tsv`, `.jsonl`, `.json` lines).
- a path to one `.parquet`, `.csv`, `.tsv`, `.jsonl` or `.json` (lines) file.
- `"hf:NAME"` or `"hf:NAME:CONFIG"`: a Hugging Face data set through `datasets`
  (`hugging_face.py`).

This module holds the public type, the dispatch, cleaning, label encoding, and the seeded
stratified selection used both to carve a validation split and to cap the number of rows; reading
table files and the raw splits every reader returns are in `tables.py`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from minibert.data import amazon, hugging_face, imdb
from minibert.data.labels import (
    encode_labels,
    override_label_names,
    require_known_test_labels,
    require_repeated_classes,
    require_two_classes,
    strip_labels,
    warn_of_labels_differing_by_case,
)
from minibert.data.tables import (
    TABLE_SUFFIXES,
    DataSourceError,
    RawSplits,
    find_table,
    read_text_table,
    validation_count,
    value_to_text,
)

NAMED_DATASETS = ("imdb", "amazon-polarity")


@dataclasses.dataclass(frozen=True, eq=False)  # eq=False: DataFrames have no single truth value.
class TextClassificationData:
    """A labelled text data set, cleaned and split, ready for the tokenizer.

    Rows keep the order of the source (sampled rows too); shuffling is the input pipeline's job.
    """

    name: str  # "imdb", "amazon-polarity", or the file/folder name
    train: pd.DataFrame  # columns ["text", "label"]; text str, label int64 in 0..K-1; RangeIndex
    # (pairs: ["text", "text_pair", "label"])
    validation: pd.DataFrame  # same columns; the source's test split, or carved from train
    unlabeled: pd.DataFrame  # column ["text"]; 0 rows when the source has none
    label_names: tuple[str, ...]  # label_names[i] is the name of label i
    validation_is_test: bool  # True when validation is the source's own test split
    dropped_rows: int = 0  # rows dropped in cleaning (missing/empty text, missing label)
    # With `group_column`: the column, and how many of its groups validation holds (none of
    # them in train).
    group_column: str | None = None
    validation_groups: int = 0
    # With `labels`: train holds that many rows drawn from the labelled ones (stratified,
    # seeded) and the text of the others joined `unlabeled`, as in a few-label experiment.
    labels: int | None = None

    @property
    def has_pairs(self) -> bool:
        """Whether each row is a pair of texts (`text`, `text_pair`)."""
        return "text_pair" in self.train.columns

    def pretraining_text(self, include_validation: bool = False) -> list[str]:
        """Train text + unlabeled text (+ validation text only when asked: `--mlm-include-test`).

        Both texts of a pair are pretrained on, each as a text of its own. Pretraining never
        reads evaluation text by default; the keras-io notebook did, and
        `include_validation=True` reproduces it.
        """
        frames = [self.train, self.unlabeled] + ([self.validation] if include_validation else [])
        columns = ("text", "text_pair")
        return [text for frame in frames for c in columns if c in frame for text in frame[c].tolist()]

    def held_out_texts(self, limit: int) -> list[str]:
        """The text of validation's first `limit` rows, which pretraining scores itself on."""
        return self.validation["text"][:limit].tolist()

    def summary_fields(self) -> dict:
        """What `minibert.runs.DataSummary` records of this data set."""
        return dict(
            name=self.name, label_names=tuple(self.label_names), pairs=self.has_pairs,
            train=len(self.train), validation=len(self.validation), unlabeled=len(self.unlabeled),
            dropped=self.dropped_rows, validation_is_test=self.validation_is_test,
            group_column=self.group_column, validation_groups=self.validation_groups,
            labels=self.labels,
        )


def load_dataset(
    dataset: str,
    *,
    data_dir: str | None = None,
    text_column: str = "text",
    label_column: str = "label",
    text_pair_column: str | None = None,
    group_column: str | None = None,
    label_names: Sequence[str] | None = None,
    validation_size: float = 0.2,
    max_train_rows: int | None = None,
    max_validation_rows: int | None = None,
    labels: int | None = None,
    unlabeled_file: str | None = None,
    seed: int = 42,
    cache_dir: str | None = None,
) -> TextClassificationData:
    """Load `dataset` as a cleaned, split `TextClassificationData`.

    Args:
        dataset: `"imdb"`, `"amazon-polarity"`, or a path to a folder or a table file.
        data_dir: a local copy of `"imdb"` or `"amazon-polarity"`, for machines without internet.
        text_column: the text column of table files.
        label_column: the label column of table files.
        text_pair_column: the second text of each row, for a table of text pairs.
        group_column: a column of table files that groups rows (IMDb's `movie`, an author):
            the validation split carved from train then holds whole groups, none of which
            train sees, so its accuracy predicts unseen groups. Not stratified by label;
            rows without a group are groups of one.
        label_names: names of labels `0..K-1`, overriding the names the source gives.
        validation_size: when the source has no test split, the share of train (< 1) or the
            number of train rows (>= 1) carved off, stratified by label, as validation.
        max_train_rows: sample this many training rows (after splitting). Amazon: 40,000.
        max_validation_rows: sample this many validation rows. Amazon: 10,000.
        labels: keep this many labelled training rows (stratified, seeded); the other
            training rows' text joins the unlabeled text (`with_labels`).
        unlabeled_file: a table file whose `text_column` replaces the source's unlabeled text.
        seed: seeds the validation split and the sampling.
        cache_dir: where downloads are kept (tensorflow-datasets' `data_dir` for IMDb).

    Raises:
        DataSourceError: one line naming the wrong input and the fix.
    """
    raw = _read_source(
        dataset, data_dir, text_column, label_column, text_pair_column, group_column, cache_dir
    )
    if max_train_rows is None:
        max_train_rows = raw.default_max_train_rows
    if max_validation_rows is None:
        max_validation_rows = raw.default_max_validation_rows
    data = _assemble(
        raw, label_names, validation_size, max_train_rows, max_validation_rows, seed, group_column,
        label_column,
    )
    if unlabeled_file is not None:
        data = with_unlabeled_file(data, unlabeled_file, text_column)
    if labels is not None:
        data = with_labels(data, labels, seed)
    return data


def with_labels(data: TextClassificationData, labels: int, seed: int) -> TextClassificationData:
    """`data` with `labels` of its training rows kept, drawn per class in proportion and seeded;
    the text of the other rows (both texts of a pair) joins its unlabeled text.

    A few-label experiment from a full data set: the labels removed are
    hidden, not lost, since self-training and pretraining still read that text.

    Example:
    >>> train = pd.DataFrame({"text": list("abcdef"), "label": [0, 0, 0, 1, 1, 1]})
    >>> data = TextClassificationData("toy", train, train[:0], pd.DataFrame({"text": ["g"]}),
    ...                               ("no", "yes"), validation_is_test=False)
    >>> few = with_labels(data, 2, seed=0)
    >>> sorted(few.train["label"]), len(few.unlabeled)
    ([0, 1], 5)
    """
    name = f"{data.name!r}"
    if isinstance(labels, bool) or not isinstance(labels, (int, np.integer)) or labels < 1:
        raise DataSourceError(f"--labels must be a count of at least 1, got {labels!r}; "
                              "pass the number of labelled rows to keep")
    if labels > len(data.train):
        raise DataSourceError(
            f"--labels {labels} is more than the {len(data.train)} labelled training rows of "
            f"{name}; pass at most {len(data.train)}"
        )
    classes = data.train["label"].to_numpy()
    per_class = stratified_counts(classes, labels)
    if per_class.min() == 0:
        empty = data.label_names[int(np.unique(classes)[np.argmin(per_class)])]
        needed = next(n for n in range(labels, len(classes) + 1)
                      if stratified_counts(classes, n).min() > 0)
        raise DataSourceError(
            f"--labels {labels} leaves class {empty!r} of {name} without a row; pass at "
            f"least {needed}"
        )
    kept = np.zeros(len(classes), dtype=bool)
    kept[stratified_positions(classes, labels, seed)] = True
    hidden = data.train[~kept]
    hidden_text = [hidden[column] for column in ("text", "text_pair") if column in hidden]
    unlabeled = pd.concat([data.unlabeled[["text"]], *(text.rename("text").to_frame()
                                                        for text in hidden_text)],
                          ignore_index=True)
    return dataclasses.replace(
        data, train=data.train[kept].reset_index(drop=True), unlabeled=unlabeled, labels=labels
    )


def with_unlabeled_file(data: TextClassificationData, path, text_column: str = "text"):
    """`data` with the texts of the table file `path` as its unlabeled text."""
    frame = read_text_table(Path(path), text_column)
    unlabeled, _ = _clean(frame, labelled=False)
    if unlabeled.empty:
        raise DataSourceError(f"--unlabeled {path} has no text in column {text_column!r}; "
                              "pass a file with texts (or --text-column)")
    return dataclasses.replace(data, unlabeled=unlabeled)


def _read_source(
    dataset, data_dir, text_column, label_column, text_pair_column, group_column, cache_dir
):
    """Dispatch `dataset` (and `data_dir`) to the reader of that source: a `RawSplits`."""
    if hugging_face.is_hugging_face_name(dataset) and data_dir is None:
        return hugging_face.read_hugging_face(
            dataset, text_column, label_column, text_pair_column, group_column, cache_dir
        )
    if group_column is not None and (dataset in NAMED_DATASETS and data_dir is None):
        raise DataSourceError(
            f"{dataset!r} as downloaded has no group column; --group-column is for a table file "
            "or folder (e.g. ../shared/data/imdb, whose train.parquet has `movie`)"
        )
    if text_pair_column is not None and dataset in NAMED_DATASETS:
        raise DataSourceError(
            f"{dataset!r} has one text per row; --text-pair-column is for a table file or "
            "folder of text pairs"
        )
    if data_dir is not None and dataset not in NAMED_DATASETS:
        raise DataSourceError(
            f"--data-dir is only for {' or '.join(map(repr, NAMED_DATASETS))}, not {dataset!r}; "
            "pass the path itself as the dataset"
        )
    if data_dir is not None and not Path(data_dir).is_dir():
        raise DataSourceError(
            f"data dir {str(data_dir)!r} for {dataset!r} is not a folder; "
            "pass --data-dir PATH to an existing folder"
        )
    if dataset == "imdb" and data_dir is None:
        return imdb.read_imdb_from_tfds(cache_dir)
    if dataset == "amazon-polarity":
        if data_dir is None:
            return amazon.download_amazon_polarity(cache_dir)
        return amazon.read_amazon_polarity_folder(Path(data_dir))

    path = Path(data_dir if dataset == "imdb" else dataset)
    if path.is_dir():
        name = "imdb" if dataset == "imdb" else path.resolve().name
        tree = imdb.find_aclimdb_tree(path)
        if tree is not None:
            return imdb.read_aclimdb_tree(tree, name)
        raw = read_split_folder(
            path, name, text_column, label_column, text_pair_column, group_column
        )
        if "imdb" in name.lower():
            raw = dataclasses.replace(raw, label_names=imdb.LABEL_NAMES)
        return raw
    if path.is_file():
        return RawSplits(path.name, train=read_text_table(
            path, text_column, label_column, text_pair_column, group_column
        ))
    raise DataSourceError(
        f"unknown dataset {dataset!r}: not {' or '.join(map(repr, NAMED_DATASETS))}, and no such "
        "file or folder; pass one of those names, a folder (aclImdb/ or train/test/unsup files), "
        f"or a {'/'.join(TABLE_SUFFIXES)} file"
    )


def read_split_folder(
    folder: Path, name: str, text_column: str, label_column: str, text_pair_column=None,
    group_column=None,
) -> RawSplits:
    """Read `train.*` (required), `test.*` and `unsup.*` or `unlabeled.*` (optional) files."""
    train_path = find_table(folder, ("train",))
    if train_path is None:
        raise DataSourceError(
            f"no train{'/'.join(TABLE_SUFFIXES)} file and no aclImdb/ tree (train/pos, train/neg) "
            f"in {folder}; pass a folder holding one of them"
        )
    test_path = find_table(folder, ("test",))
    unlabeled_path = find_table(folder, ("unsup", "unlabeled"))
    return RawSplits(
        name,
        train=read_text_table(train_path, text_column, label_column, text_pair_column, group_column),
        test=None if test_path is None else read_text_table(
            test_path, text_column, label_column, text_pair_column
        ),
        unlabeled=None if unlabeled_path is None else read_text_table(unlabeled_path, text_column),
    )


def _assemble(
    raw: RawSplits,
    label_names: Sequence[str] | None,
    validation_size: float,
    max_train_rows: int | None,
    max_validation_rows: int | None,
    seed: int,
    group_column: str | None = None,
    label_column: str = "label",
) -> TextClassificationData:
    """Clean, encode, split and sample a source into the `TextClassificationData` callers get."""
    train, dropped = _clean(raw.train, labelled=True)
    if train.empty:
        raise DataSourceError(
            f"{raw.name!r} has no training rows with text and a label ({dropped} dropped in "
            "cleaning); check the file and --text-column / --label-column"
        )
    test, dropped_test = (None, 0) if raw.test is None else _clean(raw.test, labelled=True)
    unlabeled, dropped_unlabeled = _clean(
        raw.unlabeled if raw.unlabeled is not None else pd.DataFrame({"text": []}), labelled=False
    )
    labelled = [train] + ([test] if test is not None else [])
    codes, names = encode_labels([frame["label"] for frame in labelled], raw.label_names)
    warn_of_labels_differing_by_case(raw.name, names)
    names = override_label_names(names, label_names)
    for split, frame, split_codes in zip(("train", "test"), labelled, codes):
        require_two_classes(raw.name, split, frame["label"], split_codes)
        frame["label"] = split_codes
    require_known_test_labels(raw.name, codes, names)
    require_repeated_classes(raw.name, label_column, codes[0], names)

    grouped = "group" in train.columns
    if grouped and test is not None:
        raise DataSourceError(
            f"{raw.name!r} has its own test split, used as validation; --group-column only "
            "carves validation out of train: drop it"
        )
    validation_groups = 0
    if test is None:
        validation_rows = validation_count(validation_size, len(train))
        in_validation = np.zeros(len(train), dtype=bool)
        if grouped:
            groups = _group_ids(train.pop("group"))
            chosen = grouped_positions(groups, validation_rows, seed)
            validation_groups = len(np.unique(groups[chosen]))
        else:
            chosen = stratified_positions(train["label"].to_numpy(), validation_rows, seed)
        in_validation[chosen] = True
        train, test = train[~in_validation], train[in_validation]
    return TextClassificationData(
        name=raw.name,
        train=_sample(train, max_train_rows, "max_train_rows", seed),
        validation=_sample(test, max_validation_rows, "max_validation_rows", seed),
        unlabeled=unlabeled,
        label_names=names,
        validation_is_test=raw.test is not None,
        dropped_rows=dropped + dropped_test + dropped_unlabeled,
        group_column=group_column if grouped else None,
        validation_groups=validation_groups,
    )


def _clean(frame: pd.DataFrame, labelled: bool) -> tuple[pd.DataFrame, int]:
    """Coerce text to str, strip string labels, and drop rows without text (or without a
    label); count the drops."""
    texts = {c: _coerce_text(frame[c]) for c in ("text", "text_pair") if c in frame.columns}
    keep = pd.Series(True, index=frame.index)
    for text in texts.values():
        keep &= text.notna() & text.str.strip().ne("")
    if labelled:
        labels = strip_labels(frame["label"])
        keep &= labels.notna()
    cleaned = pd.DataFrame({c: text[keep].astype("str") for c, text in texts.items()})
    if labelled:
        cleaned["label"] = labels[keep]
    if "group" in frame.columns:
        cleaned["group"] = frame["group"][keep]
    return cleaned.reset_index(drop=True), int((~keep).sum())


def _coerce_text(text: pd.Series) -> pd.Series:
    """Numbers become their str, bytes (tensorflow-datasets) are decoded as UTF-8."""
    if isinstance(text.dtype, pd.StringDtype):  # parquet and CSV text: already str, no loop
        return text
    return text.map(value_to_text).astype("str")


def _sample(frame: pd.DataFrame, max_rows: int | None, argument: str, seed: int) -> pd.DataFrame:
    """At most `max_rows` rows of `frame`, stratified by label and seeded."""
    if max_rows is not None and max_rows < 1:
        raise DataSourceError(f"{argument} must be at least 1, got {max_rows!r}")
    if max_rows is None or max_rows >= len(frame):
        return frame.reset_index(drop=True)
    positions = stratified_positions(frame["label"].to_numpy(), max_rows, seed)
    return frame.iloc[positions].reset_index(drop=True)


def stratified_counts(labels: np.ndarray, rows: int) -> np.ndarray:
    """How many of `rows` rows each class (in sorted order) gets, in proportion to its share.

    Example:
    >>> stratified_counts(np.array([0, 0, 0, 1]), 2).tolist()
    [2, 0]
    """
    _, counts = np.unique(labels, return_counts=True)
    exact = counts * rows / len(labels)
    per_class = np.floor(exact).astype(np.int64)
    # Largest remainder: the rows lost rounding down go to the classes nearest their next row,
    # so the total is exactly `rows` (25,000 reviews at 0.2 -> 2,500 of each class).
    shortfall = rows - int(per_class.sum())
    per_class[np.argsort(per_class - exact, kind="stable")[:shortfall]] += 1
    return per_class


def stratified_positions(labels: np.ndarray, rows: int, seed: int) -> np.ndarray:
    """Sorted positions of `rows` rows, each class drawn in proportion to its share, seeded."""
    _, class_of_row = np.unique(labels, return_inverse=True)
    per_class = stratified_counts(labels, rows)
    generator = np.random.default_rng(seed)
    chosen = [
        generator.choice(np.flatnonzero(class_of_row == index), size=count, replace=False)
        for index, count in enumerate(per_class)
    ]
    return np.sort(np.concatenate(chosen))


def _group_ids(groups: pd.Series) -> np.ndarray:
    """One integer per row naming its group; a row without a group is a group of its own."""
    codes = pd.factorize(groups)[0]  # -1 where the group is missing
    missing = codes < 0
    codes[missing] = codes.max(initial=-1) + 1 + np.arange(missing.sum())
    return codes


def grouped_positions(groups: np.ndarray, rows: int, seed: int) -> np.ndarray:
    """Sorted positions of about `rows` rows made of whole groups, the groups drawn seeded.

    Groups are visited in a seeded random order and each is taken whole if it still fits,
    so the count reaches `rows` exactly unless no remaining group is small enough.

    Example:
    >>> grouped_positions(np.array([0, 0, 1, 2, 2, 2]), rows=3, seed=0).tolist()
    [3, 4, 5]
    """
    sizes = np.bincount(groups)
    taken = np.zeros(len(sizes), dtype=bool)
    total = 0
    for group in np.random.default_rng(seed).permutation(len(sizes)):
        if sizes[group] and total + sizes[group] <= rows:
            taken[group] = True
            total += sizes[group]
            if total == rows:
                break
    return np.flatnonzero(taken[groups])
