"""The run folder: one object that creates, locks, resumes and reads a run, and nothing lost.

    saved_models/<run>/
      config.json      the RunConfig, the fine-tuning task and the data it ran on
      vocabulary.txt   one token per line, id = line number
      mlm.keras        the masked language model
      classifier_frozen.keras  the task's head after the frozen stage
      classifier.keras the task's head after the last stage (classifier, tagger, answerer)
      end_to_end.keras raw strings in: probabilities, entities or answers out
      history.csv      one row per epoch of every stage
      steps.csv        the training loss (and accuracy) every few batches of every stage
      curves.png       loss and accuracy per epoch of every stage (minibert.inspection.plots)
      metrics.json     validation figures and wall times (`RunMetrics`)
      README.md        the model card: data, configuration, figures, how to use each file
      logs/            with --tensorboard: each stage's TensorBoard event files
      embeddings.csv   written by `python -m minibert embed`: 2-D sentence
      embeddings.png   vectors and their labels, and with --plot their picture
      checkpoints/     while the run is unfinished: each stage's last epoch,
                       from which the same command resumes
      .lock            while a command writes the run: who it is
                       (minibert.runs.lock)

Every file is written whole or not at all (`minibert.runs.files`).

Example:
>>> import tempfile
>>> folder = RunFolder(os.path.join(tempfile.mkdtemp(), "run"))
>>> with folder.writing({"command": "train"}) as resuming:
...     resuming
False
>>> folder.unfinished_reason().endswith("run its command again to resume it")
True
"""

import contextlib
import dataclasses
import json
import os
import shutil
import zipfile

import keras
import pandas as pd

from minibert.config import RunConfig
from minibert.data.tables import short_reason
from minibert.data.tokenizer import load_vocabulary, vocabulary_text
from minibert.data.vectorizers import run_vectorizer
from minibert.runs.files import (
    WriteError,
    read_json,
    save_model,
    write_json,
    write_text,
)
from minibert.runs.lock import LOCK_FILE, describe_holder, lock_holder, run_folder_lock
from minibert.runs.records import DataSummary, RunMetrics

CONFIG_FILE = "config.json"
VOCABULARY_FILE = "vocabulary.txt"
MLM_FILE = "mlm.keras"
CLASSIFIER_FILE = "classifier.keras"
CLASSIFIER_FROZEN_FILE = "classifier_frozen.keras"
# --self-training: the fine-tuned model the first round's pseudo-labels came from.
CLASSIFIER_FINETUNED_FILE = "classifier_finetuned.keras"
END_TO_END_FILE = "end_to_end.keras"
HISTORY_FILE = "history.csv"
STEPS_FILE = "steps.csv"
CURVES_FILE = "curves.png"
METRICS_FILE = "metrics.json"
MODEL_CARD_FILE = "README.md"
LOGS_DIR = "logs"
# `embed` writes embeddings.csv beside this picture (same name, .csv).
EMBEDDINGS_PLOT_FILE = "embeddings.png"
# Per-stage checkpoints of an unfinished run, and the settings it was asked
# for (minibert.training.checkpoints); deleted once the run has finished.
CHECKPOINTS_DIR = "checkpoints"
REQUEST_FILE = "request.json"


# Copies of the weights a run keeps at most, in float32 (4 bytes each): the
# masked LM, both classifiers and their checkpoints with Adam's two moments,
# and the end-to-end model. An overestimate: better to refuse a run that
# would have fitted than to stop one an hour in.
WEIGHT_COPIES_ON_DISK = 16


# What the pretraining objectives' model file holds, by class name (no model imports here).
# A task's files hold the classes its `FinetuningTask` names (`head_classes`,
# `end_to_end_classes`), which its reader passes to `load_model`.
MODEL_CLASSES = {
    MLM_FILE: ("MaskedLanguageModel", "ReplacedTokenDetector"),
}


class RunFolder:
    """A run folder, written by one command and read by any: `RunFolder("saved_models/imdb")`.

    A writer holds it with `writing(request)`, which locks it and says
    whether the command resumes an unfinished run there; it then writes the
    vocabulary, config.json, models and figures through it. A reader asks it
    for the run's config, data, vocabulary, models and metrics, and gets one
    line naming what is missing (or that the run is still training) rather
    than a traceback.
    """

    def __init__(self, path):
        self.path = os.fspath(path)

    def file(self, name) -> str:
        """The path of the file `name` (a `*_FILE` constant) in this run."""
        return os.path.join(self.path, name)

    # Writing a run.

    @contextlib.contextmanager
    def writing(self, request: dict, overwrite=False):
        """Holds the folder for one command's writes; yields whether it resumes an unfinished run.

        `request` is what the command was asked (its config and data): an
        unfinished run of the same request resumes from its checkpoints; a
        finished run, an unfinished one of another request, or any other
        files need `overwrite`, which starts afresh.
        """
        with run_folder_lock(self.path):
            yield self._prepare(request, overwrite)

    def _prepare(self, request: dict, overwrite: bool) -> bool:
        path = self.path
        checkpoints = self.file(CHECKPOINTS_DIR)
        request_path = os.path.join(checkpoints, REQUEST_FILE)
        request = json.loads(json.dumps(request))  # tuples as lists, as read back
        finished = os.path.exists(self.file(METRICS_FILE))
        if overwrite:
            # Starting afresh: an old run's checkpoints must not be restored, and
            # its metrics.json would mark the new run finished if it is killed.
            # Its TensorBoard logs would be drawn over the new run's epochs.
            shutil.rmtree(checkpoints, ignore_errors=True)
            shutil.rmtree(self.file(LOGS_DIR), ignore_errors=True)
            if finished:
                os.remove(self.file(METRICS_FILE))
        elif os.path.exists(request_path) and not finished:
            if read_json(request_path) == request:
                return True
            raise FileExistsError(
                f"run folder {path} holds an unfinished run with other settings; run its own "
                "command again to resume it, pass --overwrite to start afresh, or choose another --output"
            )
        elif os.path.isdir(path) and set(os.listdir(path)) - {LOCK_FILE}:
            raise FileExistsError(
                f"run folder {path} already exists and is not empty; "
                "choose another --output or pass --overwrite"
            )
        os.makedirs(checkpoints, exist_ok=True)
        write_json(request_path, request)
        return False

    def checkpoint_dir(self, stage: str) -> str:
        """Where the stage `stage` keeps its last epoch while the run is unfinished."""
        return os.path.join(self.path, CHECKPOINTS_DIR, stage)

    def logs_dir(self, stage: str) -> str:
        """Where the stage `stage` writes its TensorBoard events (--tensorboard)."""
        return os.path.join(self.path, LOGS_DIR, stage)

    def check_free_space(self, num_parameters: int) -> None:
        """Refuses, in one line, a run whose files would not fit on the folder's disk.

        Called before pretraining, so that a full disk is found in the first
        second rather than at the first save.
        """
        needed = num_parameters * 4 * WEIGHT_COPIES_ON_DISK
        free = shutil.disk_usage(self.path).free
        if free < needed:
            raise WriteError(
                f"could not write {self.path}: {free / 2**20:,.1f} MiB free on its disk, and this "
                f"run writes about {needed / 2**20:,.1f} MiB (its models and checkpoints); free "
                "space or choose --output"
            )

    def write_vocabulary(self, vectorizer) -> None:
        write_text(self.file(VOCABULARY_FILE), vocabulary_text(vectorizer))

    def write_config(self, config: RunConfig, data: DataSummary | None, **extra) -> None:
        """config.json: the config, the data it ran on (`evaluate` carves the same split from
        it) and `extra` (the task, the pretrained run)."""
        values = dataclasses.asdict(config)
        values["data"] = None if data is None else data.to_dict()
        values.update(extra)
        write_json(self.file(CONFIG_FILE), values)

    def save_model(self, model, name) -> None:
        save_model(model, self.file(name))

    def write_history(self, histories: dict) -> None:
        """history.csv; `histories` maps a stage name to a Keras `History.history` dict."""
        frames = []
        for stage, history in histories.items():
            frame = pd.DataFrame(history)
            frame.insert(0, "epoch", range(1, len(frame) + 1))
            frame.insert(0, "stage", stage)
            frames.append(frame)
        write_text(self.file(HISTORY_FILE), pd.concat(frames, ignore_index=True).to_csv(index=False))

    def write_steps(self, step_logs: dict) -> None:
        """steps.csv; `step_logs` maps a stage name to its `StepLog` points."""
        frames = [pd.DataFrame(points).assign(stage=stage) for stage, points in step_logs.items()
                  if points]
        if frames:
            table = pd.concat(frames, ignore_index=True)
            columns = ["stage", *[column for column in table.columns if column != "stage"]]
            write_text(self.file(STEPS_FILE), table[columns].to_csv(index=False))

    def write_text(self, name, text) -> None:
        write_text(self.file(name), text)

    def write_metrics(self, metrics: RunMetrics) -> None:
        """metrics.json, written last: it marks the run finished."""
        write_json(self.file(METRICS_FILE), metrics.to_dict())

    def remove_checkpoints(self) -> None:
        """Finished: nothing left to resume."""
        shutil.rmtree(self.file(CHECKPOINTS_DIR), ignore_errors=True)

    # Reading a run.

    def unfinished_reason(self) -> str | None:
        """Why the run has no models yet: still training, or stopped; None if neither."""
        holder = lock_holder(self.path)
        if holder is not None:
            return (f"{self.path} is still training ({describe_holder(holder)}); its models "
                    "appear when it finishes")
        if os.path.isdir(self.file(CHECKPOINTS_DIR)) and not os.path.exists(self.file(METRICS_FILE)):
            return (f"{self.path} has not finished: it is an unfinished run that was stopped; run "
                    "its command again to resume it")
        return None

    def require(self, *names, way_out=None) -> None:
        """One line naming the first of the files `names` this run lacks, and why.

        `way_out`, when given, is what the line ends with ("pretrain one with
        ..."); by default it asks whether the folder is a run at all.
        """
        if not os.path.isdir(self.path):
            raise FileNotFoundError(f"run folder {self.path} not found")
        for name in names:
            if not os.path.isfile(self.file(name)):
                raise FileNotFoundError(self.unfinished_reason() or (
                    f"{self.path} has no {name}: {way_out}" if way_out else
                    f"{self.file(name)} not found; is {self.path} a run folder written by "
                    "`python -m minibert train`?"
                ))

    def read_json(self, name) -> dict:
        self.require(name)
        return read_json(self.file(name))

    def read_config(self) -> RunConfig:
        return RunConfig.from_dict(self.read_json(CONFIG_FILE))

    def read_data(self) -> DataSummary | None:
        """The data set the run read (None for a run that streamed its text alone)."""
        return DataSummary.from_dict(self.read_json(CONFIG_FILE).get("data"))

    def read_task(self) -> str:
        """The fine-tuning task's name; runs from before the task table (or without a
        config.json beside their models) classified sentences."""
        if not os.path.isfile(self.file(CONFIG_FILE)):
            return "classification"
        return self.read_json(CONFIG_FILE).get("task") or "classification"

    def read_vocabulary(self) -> list[str]:
        self.require(VOCABULARY_FILE)
        return load_vocabulary(self.file(VOCABULARY_FILE))

    def vectorizer(self):
        """A vectorizer of the run's vocabulary, tokenizer and sequence length."""
        config = self.read_config()
        return run_vectorizer(config.tokenizer, config.model.sequence_length, self.read_vocabulary())

    def read_metrics(self) -> RunMetrics:
        return RunMetrics.from_dict(self.read_json(METRICS_FILE))

    def load_model(self, name, class_names=None):
        """Loads one model of the run, with a one-line error for anything but that model.

        A missing, empty, truncated or foreign file (another program's, or a
        Keras model of another kind) is a ValueError or FileNotFoundError naming
        the file, not a traceback from inside Keras. `class_names`: the
        classes the file may hold (default: `MODEL_CLASSES`'s for its name;
        a fine-tuning task names its own).
        """
        self.require(name)
        return load_model_file(self.file(name), class_names or MODEL_CLASSES.get(name))


def load_model_file(path, class_names=None):
    """`keras.models.load_model(path)`, failing in one line on a file that is not a model.

    `class_names`, when given, are the model classes the file must hold.
    """
    # A .keras file is a zip archive: an empty or cut-off one is not.
    if not zipfile.is_zipfile(path):
        raise ValueError(
            f"{path} is not a Keras model file: it is empty, cut off or another format; "
            "restore it from a backup or train again"
        )
    try:
        model = keras.models.load_model(path)
    except Exception as error:  # Keras raises many kinds; each means the same to the user.
        raise ValueError(
            f"{path} could not be loaded as a model ({short_reason(error)}); it may be damaged, or "
            "need `import minibert` or a newer minibert"
        ) from error
    if class_names and type(model).__name__ not in class_names:
        raise ValueError(
            f"{path} holds a {type(model).__name__}, not a minibert {' or '.join(class_names)}"
        )
    return model
