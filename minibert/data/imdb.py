"""IMDb movie reviews (Maas et al., ACL 2011) through tensorflow-datasets or an aclImdb/ folder.

25,000 training and 25,000 test reviews, half positive and half negative, and 50,000 unlabeled
ones. Label 0 is negative and 1 positive, as in tensorflow-datasets' `imdb_reviews` (the keras-io
notebook named them the other way round). A folder of train/unsup parquet files, like
`../shared/data/imdb`, is read by `sources.read_split_folder`.
"""

from __future__ import annotations

import socket
from pathlib import Path

import pandas as pd

from minibert.data.tables import DataSourceError, RawSplits, short_reason

LABEL_NAMES = ("negative", "positive")
TFDS_NAME = "imdb_reviews"
# Where tensorflow-datasets downloads aclImdb_v1.tar.gz from.
DOWNLOAD_HOST = "ai.stanford.edu"
# Sub-folders of aclImdb/train and aclImdb/test, and the label their reviews get.
TREE_LABELS = {"neg": 0, "pos": 1}


def read_imdb_from_tfds(cache_dir: str | None = None) -> RawSplits:
    """Download (or reuse) `imdb_reviews` through tensorflow-datasets; its test split validates."""
    try:
        import tensorflow_datasets as tfds  # imported here: only this source needs it

        reason = _unreachable_reason(tfds, cache_dir)
        if reason is not None:
            raise ConnectionError(reason)
        train, test, unsupervised = tfds.load(
            TFDS_NAME,
            split=["train", "test", "unsupervised"],
            as_supervised=True,
            data_dir=cache_dir,
        )
        train, test, unsupervised = (
            _to_frame(tfds, split) for split in (train, test, unsupervised)
        )
    except Exception as error:  # offline, missing package, corrupt download: all end the same way
        raise DataSourceError(
            f"could not load 'imdb' through tensorflow-datasets ({TFDS_NAME}): "
            f"{short_reason(error)}; offline? pass --data-dir PATH to an extracted aclImdb/ folder "
            "or a folder of train/unsup parquet files"
        ) from error
    return RawSplits(
        "imdb",
        train=train,
        test=test,
        # The unsupervised split's labels are all -1: it is text for pretraining only.
        unlabeled=unsupervised[["text"]],
        label_names=LABEL_NAMES,
    )


def _unreachable_reason(tfds, cache_dir) -> str | None:
    """Why `imdb_reviews` cannot be had now, or None when it is prepared or reachable.

    Offline, tensorflow-datasets retries the download for minutes before it
    gives up; one connection attempt answers in seconds.
    """
    try:
        if tfds.builder(TFDS_NAME, data_dir=cache_dir).is_prepared():
            return None
    except Exception:  # let tfds.load itself say what is wrong
        return None
    try:
        socket.create_connection((DOWNLOAD_HOST, 443), timeout=10).close()
    except OSError as error:
        return f"{DOWNLOAD_HOST} is unreachable ({error})"
    return None


def _to_frame(tfds, dataset) -> pd.DataFrame:
    """A supervised tf.data split of (text bytes, label) pairs as a `["text", "label"]` frame."""
    return pd.DataFrame(list(tfds.as_numpy(dataset)), columns=["text", "label"])


def find_aclimdb_tree(folder: Path) -> Path | None:
    """The extracted aclImdb/ root: `folder` itself or its `aclImdb/` child, else None."""
    for root in (folder, folder / "aclImdb"):
        if (root / "train" / "pos").is_dir():
            return root
    return None


def read_aclimdb_tree(root: Path, name: str) -> RawSplits:
    """Read `train/{pos,neg}`, and `test/{pos,neg}` and `train/unsup` when they are there."""
    has_test = (root / "test" / "pos").is_dir()
    unsup_folder = root / "train" / "unsup"
    return RawSplits(
        name,
        train=_read_labelled_reviews(root / "train"),
        test=_read_labelled_reviews(root / "test") if has_test else None,
        unlabeled=pd.DataFrame({"text": _read_reviews(unsup_folder)}),
        label_names=LABEL_NAMES,
    )


def _read_labelled_reviews(split_folder: Path) -> pd.DataFrame:
    """One row per `<split>/{neg,pos}/*.txt` file, labelled by its folder."""
    frames = [
        pd.DataFrame({"text": _read_reviews(split_folder / sub_folder), "label": label})
        for sub_folder, label in TREE_LABELS.items()
    ]
    return pd.concat(frames, ignore_index=True)


def _read_reviews(folder: Path) -> list[str]:
    """The text of every `*.txt` review in `folder`, in file-name order (empty when absent)."""
    # errors="replace": a stray byte in one of 100,000 files should not stop the run.
    paths = sorted(folder.glob("*.txt"))
    return [path.read_bytes().decode("utf-8", errors="replace") for path in paths]
