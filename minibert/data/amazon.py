"""Amazon review polarity (Zhang, Zhao & LeCun, NeurIPS 2015): the Hugging Face hub or a folder.

3.6M training and 400,000 test reviews; 1-2 stars are negative (0), 4-5 stars positive (1). Each
row has a title and a content, joined into one text. The whole set would take days to train on a
CPU, so by default 40,000 training and 10,000 test reviews are sampled, as the notebook did.
"""

from __future__ import annotations

import os
from pathlib import Path

import keras
import pandas as pd

from minibert.data.tables import (
    DataSourceError,
    RawSplits,
    read_table,
    require_column,
    short_reason,
)

NAME = "amazon-polarity"
LABEL_NAMES = ("negative", "positive")
DEFAULT_MAX_TRAIN_ROWS = 40_000
DEFAULT_MAX_VALIDATION_ROWS = 10_000
HUB_FOLDER = "https://huggingface.co/datasets/fancyzhx/amazon_polarity/resolve/main/amazon_polarity"
# The hub's parquet files (columns label 0/1, title, content), about 1.1 GB in all.
AMAZON_POLARITY_URLS = {
    "train": tuple(f"{HUB_FOLDER}/train-{shard:05d}-of-00004.parquet" for shard in range(4)),
    "test": (f"{HUB_FOLDER}/test-00000-of-00001.parquet",),
}
COLUMNS = ["label", "title", "content"]
# Folders a local copy may sit in: the hub's layout, and the original fast.ai archive's.
LOCAL_SUB_FOLDERS = (".", "amazon_polarity", "amazon_review_polarity_csv")


def download_amazon_polarity(cache_dir: str | None = None) -> RawSplits:
    """Download the hub's parquet files once (kept in `cache_dir`) and read them."""
    splits = {
        split: _read_parquet_files([_download(url, cache_dir) for url in urls])
        for split, urls in AMAZON_POLARITY_URLS.items()
    }
    return _raw_splits(splits["train"], splits["test"])


def _download(url: str, cache_dir: str | None) -> Path:
    """Fetch `url` into `<cache_dir>/amazon_polarity/` unless it is already there."""
    if cache_dir is not None:
        # keras.utils.get_file silently falls back to /tmp/.keras when cache_dir does not exist.
        os.makedirs(cache_dir, exist_ok=True)
    try:
        return Path(
            keras.utils.get_file(
                fname=url.rsplit("/", 1)[-1],
                origin=url,
                cache_dir=cache_dir,
                cache_subdir="amazon_polarity",
            )
        )
    except Exception as error:
        # get_file re-raises HTTP and URL errors as a bare Exception that repeats the URL;
        # the error it replaced says what went wrong in fewer words.
        reason = short_reason(error.__context__ or error)
        raise DataSourceError(
            f"could not download {NAME!r} from {url}: {reason}; offline? pass "
            "--data-dir PATH to a folder with its parquet files or the original train.csv/test.csv"
        ) from error


def read_amazon_polarity_folder(folder: Path) -> RawSplits:
    """Read the hub's `train-*.parquet` and `test-*.parquet`, or the original CSVs."""
    for candidate in (folder / sub_folder for sub_folder in LOCAL_SUB_FOLDERS):
        train_files = sorted(candidate.glob("train*.parquet"))
        if train_files:
            test_files = sorted(candidate.glob("test*.parquet"))
            test = _read_parquet_files(test_files) if test_files else None
            return _raw_splits(_read_parquet_files(train_files), test)
        if (candidate / "train.csv").is_file():
            test_csv = candidate / "test.csv"
            test = _read_original_csv(test_csv) if test_csv.is_file() else None
            return _raw_splits(_read_original_csv(candidate / "train.csv"), test)
    raise DataSourceError(
        f"no Amazon polarity files in {folder}: expected train-*.parquet (and test-*.parquet) from "
        "the hub's fancyzhx/amazon_polarity or the original train.csv (and test.csv); "
        "pass --data-dir PATH to the folder holding them"
    )


def _read_parquet_files(paths: list[Path]) -> pd.DataFrame:
    """The hub's parquet shards, concatenated, with the title joined to the content."""
    frames = []
    for path in paths:
        table = read_table(path)
        for column in COLUMNS:
            require_column(
                table, column, "Amazon", path.name, "expected the hub's label, title, content"
            )
        frames.append(_join_title_and_content(table))
    return pd.concat(frames, ignore_index=True)


def _read_original_csv(path: Path) -> pd.DataFrame:
    """The fast.ai CSV: no header, columns label, title, content; 1 is negative, 2 positive."""
    table = pd.read_csv(path, header=None, names=COLUMNS)
    table["label"] = table["label"] - 1  # 1/2 -> 0/1, the hub's labels
    return _join_title_and_content(table)


def _join_title_and_content(table: pd.DataFrame) -> pd.DataFrame:
    """Text is `f"{title}. {content}"`, or the content alone when the title is empty."""
    title = table["title"].fillna("").astype("str").str.strip()
    content = table["content"].fillna("").astype("str")
    text = content.where(title.eq(""), title + ". " + content)
    return pd.DataFrame({"text": text, "label": table["label"]})


def _raw_splits(train: pd.DataFrame, test: pd.DataFrame | None) -> RawSplits:
    return RawSplits(
        NAME,
        train=train,
        test=test,
        label_names=LABEL_NAMES,
        default_max_train_rows=DEFAULT_MAX_TRAIN_ROWS,
        default_max_validation_rows=DEFAULT_MAX_VALIDATION_ROWS,
    )
