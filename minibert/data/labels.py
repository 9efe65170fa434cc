"""Labels: any values in, ids 0..K-1 and a name per class out, checked for what no model can use."""

from __future__ import annotations

import numpy as np
import pandas as pd

from minibert.data.tables import DataSourceError
from minibert.reporting import report

# At most this many class names in a warning line.
_NAMES_SHOWN = 5


def strip_labels(labels: pd.Series) -> pd.Series:
    """String labels without surrounding whitespace (" pos" is "pos"); a blank one is missing.

    Example:
    >>> strip_labels(pd.Series([" pos", "pos ", " ", 1])).tolist()
    ['pos', 'pos', None, 1]
    """
    if not (labels.dtype == object or isinstance(labels.dtype, pd.StringDtype)):
        return labels
    return labels.map(lambda value: (value.strip() or None) if isinstance(value, str) else value)


def encode_labels(labels: list[pd.Series], source_names) -> tuple[list[np.ndarray], tuple]:
    """Map label values (jointly over the splits) to 0..K-1 in sorted order; name each class.

    Integer-valued labels (1/2, -1/1, 0.0/1.0) sort as numbers and are named str(value) unless
    the source names them; any other labels sort and are named as strings.

    Example:
    >>> codes, names = encode_labels([pd.Series(["pos", "neg", "pos"])], None)
    >>> codes[0].tolist(), names
    ([1, 0, 1], ('neg', 'pos'))
    """
    integers = [_as_integers(split) for split in labels]
    are_integers = all(split is not None for split in integers)
    keys = integers if are_integers else [split.astype("str") for split in labels]
    values = sorted(set().union(*(split.unique().tolist() for split in keys)))
    codes = [pd.Categorical(split, categories=values).codes.astype("int64") for split in keys]
    if are_integers and source_names and values == list(range(len(source_names))):
        return codes, tuple(source_names)
    return codes, tuple(str(value) for value in values)


def _as_integers(labels: pd.Series) -> pd.Series | None:
    """`labels` as int64 when every value is a whole number, else None."""
    if pd.api.types.is_bool_dtype(labels):
        return labels.astype("int64")
    numbers = pd.to_numeric(labels, errors="coerce")
    if numbers.isna().any() or not (numbers == numbers.round()).all():
        return None
    return numbers.astype("int64")


def override_label_names(names: tuple[str, ...], label_names) -> tuple[str, ...]:
    """The caller's `label_names` in place of the source's, when there is one per class."""
    if label_names is None:
        return names
    given = [label_names] if isinstance(label_names, str) else [str(name) for name in label_names]
    if len(given) != len(names):
        raise DataSourceError(
            f"label_names {given} has {len(given)} names but the data has {len(names)} classes "
            f"{list(names)}; pass {len(names)} names to --label-names"
        )
    return tuple(given)


def warn_of_labels_differing_by_case(name: str, names: tuple[str, ...]) -> None:
    """A warning line when classes differ only by case ("pos", "POS"): most likely one class
    spelled two ways, which the model would learn as two."""
    spellings = {}
    for label in names:
        spellings.setdefault(label.casefold(), []).append(label)
    variants = [group for group in spellings.values() if len(group) > 1]
    if variants:
        shown = ", ".join(" and ".join(repr(label) for label in group) for group in variants)
        report(f"warning: labels {shown} of {name!r} differ only by case and are separate "
               "classes; spell each class one way in the data if they are one")


def require_repeated_classes(
    name: str, label_column: str, codes: np.ndarray, names: tuple[str, ...]
) -> None:
    """Refuse labels most of whose classes have a single row; warn of a few such classes.

    A column of ids or free text taken for the labels (600 classes for 600 rows) otherwise
    trains a model that can learn nothing, in silence: a class of one row is either in train
    or in validation, never both. Half of the classes is far from any real data set (IMDb's 2
    classes have 25,000 rows each), and a few classes of one row are likely typos.
    """
    counts = np.bincount(codes, minlength=len(names))
    single = np.flatnonzero(counts == 1)
    classes = int((counts > 0).sum())
    if 2 * len(single) > classes:
        raise DataSourceError(
            f"label column {label_column!r} of {name!r} has {classes} classes in {len(codes)} "
            f"rows, {len(single)} of them with a single row, which no classifier can learn; "
            "pass --label-column with the column of classes"
        )
    if len(single):
        shown = [names[code] for code in single[:_NAMES_SHOWN]]
        more = f" and {len(single) - _NAMES_SHOWN} more" if len(single) > _NAMES_SHOWN else ""
        report(f"warning: classes {shown}{more} of label column {label_column!r} of {name!r} "
               "have a single row each, too few to learn; check their spelling or drop them")


def require_two_classes(name: str, split: str, labels: pd.Series, codes: np.ndarray) -> None:
    if len(np.unique(codes)) < 2:
        raise DataSourceError(
            f"the {split} split of {name!r} has a single class (label {labels.iloc[0]}); "
            "a classifier needs at least two: check --label-column"
        )


def require_known_test_labels(name: str, codes: list[np.ndarray], names: tuple[str, ...]) -> None:
    """A test split's classes must all be in the train split (`codes` is [train, test?])."""
    if len(codes) < 2:
        return
    unseen = sorted(set(codes[1].tolist()) - set(codes[0].tolist()))
    if unseen:
        raise DataSourceError(
            f"the test split of {name!r} has labels {[names[code] for code in unseen]} that the "
            "train split lacks, which no classifier could learn; drop those rows or add "
            "training examples of them"
        )


def align_labels(codes: np.ndarray, names, model_names) -> np.ndarray:
    """A data set's label ids rewritten as the ids a trained model uses.

    The data's classes match the model's by name; failing that, classes
    named 0..K-1 (a CSV of integer labels) are taken as the model's ids.
    Any other class is outside what the model knows: an error naming it.

    Example:
    >>> align_labels(np.array([0, 1]), ("pos", "neg"), ["neg", "pos"]).tolist()
    [1, 0]
    """
    names, model_names = list(names), list(model_names)
    if all(name in model_names for name in names):
        return np.array([model_names.index(name) for name in names], dtype="int64")[codes]
    if names == [str(index) for index in range(len(names))]:
        if len(names) <= len(model_names):
            return codes
        unknown = names[len(model_names):]
    else:
        unknown = [name for name in names if name not in model_names]
    raise DataSourceError(
        f"labels {unknown} are not among the model's {len(model_names)} classes {model_names}; "
        "evaluate on data labelled with those names or ids 0.."
        f"{len(model_names) - 1}, or pass --label-names to name the data's classes"
    )
