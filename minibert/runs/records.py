"""What a run records, typed: its data (`DataSummary`) and its figures (`RunMetrics`).

A run folder writes them as JSON (config.json's `data`, metrics.json) and
reads them back through these classes, so a reader (the model card,
`evaluate`, `finetune --from`) names fields rather than guessing dict keys.
Older runs' files, which lack newer fields, read with those fields None.

Example:
>>> summary = DataSummary(name="reviews", label_names=("neg", "pos"), pairs=False,
...                       train=160, validation=40, unlabeled=0)
>>> summary.describe()
'data reviews: 160 train, 40 validation, 0 unlabeled'
>>> DataSummary.from_dict(summary.to_dict()) == summary
True
"""

import dataclasses

import numpy as np


@dataclasses.dataclass(frozen=True)
class DataSummary:
    """A run's data set in one shape: its name, labels and rows per split.

    The same record is what a rerun must match to resume (request.json),
    what config.json keeps, and what metrics.json's `rows` are made from.
    """

    name: str
    label_names: tuple[str, ...] = ()
    pairs: bool = False
    train: int | None = None
    validation: int | None = None
    unlabeled: int | None = None
    dropped: int = 0
    validation_is_test: bool = False
    # Whole groups of this column held out as validation (`--group-column`), and how many.
    group_column: str | None = None
    validation_groups: int = 0
    # Tagged words: how the tags (label_names) form entities, "IOB1", "IOB2" or
    # "IOBES"; None for labelled texts, and for runs from before tagging.
    scheme: str | None = None
    # `--labels N`: train holds N of the labelled rows, the others' text joined unlabeled.
    labels: int | None = None

    @classmethod
    def of(cls, data) -> "DataSummary | None":
        """The summary of a data set (None for None): the fields its `summary_fields()` gives.

        Every task's data set says what it records: labelled texts their label
        names and pairs, tagged words their tags (as `label_names`) and scheme,
        questions their rows and held-out articles.
        """
        return None if data is None else cls(**data.summary_fields())

    @classmethod
    def from_dict(cls, values: dict | None) -> "DataSummary | None":
        if not values:
            return None
        known = {field.name for field in dataclasses.fields(cls)}
        values = {key: value for key, value in values.items() if key in known}
        values["label_names"] = tuple(values.get("label_names", ()))
        values.setdefault("name", "")  # a hand-written config.json may name only its split
        return cls(**values)

    def to_dict(self) -> dict:
        values = dataclasses.asdict(self)
        values["label_names"] = list(self.label_names)
        if self.scheme is None:
            # Labelled texts' records stay as they were, so that a run started
            # before tagged words existed still matches its rerun and resumes.
            del values["scheme"]
        if self.labels is None:
            del values["labels"]
        return values

    def describe(self, pretraining_texts: int | None = None) -> str:
        """The run's line about its data: rows per split, held-out groups, pretraining texts."""
        line = (
            f"data {self.name}: {self.train} train, {self.validation} validation"
            + (" (the test split)" if self.validation_is_test else "")
            + (f" ({self.validation_groups} whole {self.group_column} groups, none of them in train)"
               if self.group_column else "")
            + (f" (--labels {self.labels}: drawn per class; the other labelled rows' text "
               "joined unlabeled)" if self.labels is not None else "")
            + f", {self.unlabeled} unlabeled"
        )
        if pretraining_texts is not None:
            line += f"; {pretraining_texts} texts for pretraining"
        if self.dropped:
            line += f"; {self.dropped} rows dropped in cleaning"
        return line

    def held_out(self) -> dict | None:
        """metrics.json's `validation_groups`: the figure predicts unseen groups."""
        if not self.group_column:
            return None
        return {"column": self.group_column, "count": self.validation_groups}


@dataclasses.dataclass(frozen=True)
class StageSummary:
    """One training stage's last-epoch figures, epochs and time."""

    epochs: int
    seconds: float
    seconds_per_epoch: float
    # The last epoch's logs: loss, accuracy, val_loss, ..., trainable_parameters.
    figures: dict

    @classmethod
    def of_history(cls, history: dict) -> "StageSummary":
        """From a Keras `History.history` with the `seconds` of each epoch (`EpochTimer`)."""
        seconds = history["seconds"]
        return cls(
            epochs=len(seconds), seconds=float(np.sum(seconds)),
            seconds_per_epoch=float(np.mean(seconds)),
            figures={key: float(values[-1]) for key, values in history.items() if key != "seconds"},
        )

    @classmethod
    def from_dict(cls, values: dict) -> "StageSummary":
        timing = ("epochs", "seconds", "seconds_per_epoch")
        return cls(
            epochs=values.get("epochs", 0), seconds=values.get("seconds", 0.0),
            seconds_per_epoch=values.get("seconds_per_epoch", 0.0),
            figures={key: value for key, value in values.items() if key not in timing},
        )

    def to_dict(self) -> dict:
        return {**self.figures, "epochs": self.epochs, "seconds": self.seconds,
                "seconds_per_epoch": self.seconds_per_epoch}


@dataclasses.dataclass(frozen=True)
class RunMetrics:
    """metrics.json: every stage's summary, the task's validation report, rows and times.

    Fields a command does not produce stay None (`pretrain` has no
    validation report; only a `--minutes` run has a budget).
    """

    stages: dict  # stage name -> StageSummary, in the order they ran
    total_seconds: float
    rows: dict  # train, validation, unlabeled, pretraining_texts, pretraining_corpus, dropped
    # The fine-tuning task's report on the validation split (accuracy, F1, ...).
    validation: dict | None = None
    # The head alone on the pretrained features: whether pretraining learned
    # anything a classifier can use (random weights give ~0.56 on IMDb).
    frozen_validation_accuracy: float | None = None
    validation_is_test: bool | None = None
    validation_groups: dict | None = None
    # --minutes: the budget, fine-tuning's measured estimate, pretraining's share.
    budget: dict | None = None
    vectorizer_seconds: float | None = None
    # finetune --from: the run the backbone came from.
    pretrained_run: dict | None = None
    unknown_token_share: float | None = None
    # --self-training: a record per round (pseudo-labels, validation accuracy),
    # and the round whose model was kept (0: fine-tuning's own).
    self_training: dict | None = None

    @classmethod
    def from_dict(cls, values: dict) -> "RunMetrics":
        known = {field.name for field in dataclasses.fields(cls)}
        values = {key: value for key, value in values.items() if key in known}
        values["stages"] = {name: StageSummary.from_dict(summary)
                            for name, summary in values.get("stages", {}).items()}
        values.setdefault("total_seconds", None)
        values.setdefault("rows", {})
        return cls(**values)

    def to_dict(self) -> dict:
        values = {field.name: getattr(self, field.name) for field in dataclasses.fields(self)}
        values["stages"] = {name: summary.to_dict() for name, summary in self.stages.items()}
        return values


def row_counts(data: DataSummary | None, pretraining_texts: int | None, corpus: str | None) -> dict:
    """metrics.json's `rows`: each split's rows, the texts pretrained on (a stream: uncounted)."""
    rows = {"pretraining_texts": None if corpus is not None else pretraining_texts,
            "pretraining_corpus": corpus}
    if data is not None:
        rows = {"train": data.train, "validation": data.validation, "unlabeled": data.unlabeled,
                **rows, "dropped": data.dropped}
    return rows
