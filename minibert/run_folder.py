"""The run folder: everything needed to reuse a run, written so nothing is lost.

    saved_models/<run>/
      config.json      the RunConfig (and the data it ran on)
      vocabulary.txt   one token per line, id = line number
      mlm.keras        the masked language model
      classifier_frozen.keras  the classifier after the frozen stage
      classifier.keras the classifier after the last stage
      end_to_end.keras raw strings in, probabilities out
      history.csv      one row per epoch of every stage
      steps.csv        the training loss (and accuracy) every few batches of every stage
      curves.png       loss and accuracy per epoch of every stage (minibert.inspection.plots)
      metrics.json     validation figures and wall times
      README.md        the model card: data, configuration, figures, how to use each file
      logs/            with --tensorboard: each stage's TensorBoard event files
      embeddings.csv   written by `python -m minibert embed`: 2-D sentence
      embeddings.png   vectors and their labels, and with --plot their picture
      checkpoints/     while the run is unfinished: each stage's last epoch,
                       from which the same command resumes
      .lock            while a command writes the run: who it is
                       (minibert.run_lock)
"""

import json
import os
import shutil
import zipfile

import keras
import pandas as pd

from minibert.data.tables import short_reason
from minibert.files import WriteError, read_json, write_json, write_text
from minibert.run_lock import LOCK_FILE, describe_holder, lock_holder

CONFIG_FILE = "config.json"
VOCABULARY_FILE = "vocabulary.txt"
MLM_FILE = "mlm.keras"
CLASSIFIER_FILE = "classifier.keras"
CLASSIFIER_FROZEN_FILE = "classifier_frozen.keras"
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


def prepare_run_folder(path, request: dict, overwrite=False) -> bool:
    """Creates the run folder, or finds there the unfinished run to resume.

    Returns True when `path` holds an unfinished run (no metrics.json yet) of
    the same `request`, the settings and data asked for: the run resumes
    from its checkpoints. A finished run, an unfinished run of another
    request, or any other files need `overwrite`, which starts afresh.
    """
    checkpoints = os.path.join(path, CHECKPOINTS_DIR)
    request_path = os.path.join(checkpoints, REQUEST_FILE)
    request = json.loads(json.dumps(request))  # tuples as lists, as read back
    finished = os.path.exists(os.path.join(path, METRICS_FILE))
    if overwrite:
        # Starting afresh: an old run's checkpoints must not be restored, and
        # its metrics.json would mark the new run finished if it is killed.
        # Its TensorBoard logs would be drawn over the new run's epochs.
        shutil.rmtree(checkpoints, ignore_errors=True)
        shutil.rmtree(os.path.join(path, LOGS_DIR), ignore_errors=True)
        if finished:
            os.remove(os.path.join(path, METRICS_FILE))
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


# Copies of the weights a run keeps at most, in float32 (4 bytes each): the
# masked LM, both classifiers and their checkpoints with Adam's two moments,
# and the end-to-end model. An overestimate: better to refuse a run that
# would have fitted than to stop one an hour in.
WEIGHT_COPIES_ON_DISK = 16


def check_free_space(path, num_parameters: int) -> None:
    """Refuses, in one line, a run whose files would not fit on `path`'s disk.

    Called before pretraining, so that a full disk is found in the first
    second rather than at the first save.
    """
    needed = num_parameters * 4 * WEIGHT_COPIES_ON_DISK
    free = shutil.disk_usage(path).free
    if free < needed:
        raise WriteError(
            f"could not write {path}: {free / 2**20:,.1f} MiB free on its disk, and this run "
            f"writes about {needed / 2**20:,.1f} MiB (its models and checkpoints); free space "
            "or choose --output"
        )


def unfinished_reason(run) -> str | None:
    """Why the run folder `run` has no models yet: still training, or stopped; None if neither."""
    holder = lock_holder(run)
    if holder is not None:
        return f"{run} is still training ({describe_holder(holder)}); its models appear when it finishes"
    if os.path.isdir(os.path.join(run, CHECKPOINTS_DIR)) and not os.path.exists(
            os.path.join(run, METRICS_FILE)):
        return (f"{run} has not finished: it is an unfinished run that was stopped; run its "
                "command again to resume it")
    return None


def write_history(path, histories: dict) -> None:
    """`histories` maps a stage name to a Keras `History.history` dict."""
    frames = []
    for stage, history in histories.items():
        frame = pd.DataFrame(history)
        frame.insert(0, "epoch", range(1, len(frame) + 1))
        frame.insert(0, "stage", stage)
        frames.append(frame)
    write_text(path, pd.concat(frames, ignore_index=True).to_csv(index=False))


def write_steps(path, step_logs: dict) -> None:
    """`step_logs` maps a stage name to its `StepLog` points: rows of stage, epoch, loss, ..."""
    frames = [pd.DataFrame(points).assign(stage=stage) for stage, points in step_logs.items()
              if points]
    if frames:
        table = pd.concat(frames, ignore_index=True)
        write_text(path, table[["stage", *[c for c in table.columns if c != "stage"]]].to_csv(index=False))


# What each model file of a run holds, by class name (no model imports here).
MODEL_CLASSES = {
    MLM_FILE: ("MaskedLanguageModel", "ReplacedTokenDetector"),
    CLASSIFIER_FILE: ("Classifier", "PairClassifier"),
    CLASSIFIER_FROZEN_FILE: ("Classifier", "PairClassifier"),
    END_TO_END_FILE: ("EndToEndClassifier",),
}


def load_run_model(run, file_name):
    """Loads one model of a run folder, with a one-line error for anything but that model.

    A missing, empty, truncated or foreign file (another program's, or a
    Keras model of another kind) is a ValueError or FileNotFoundError naming
    the file, not a traceback from inside Keras.
    """
    path = os.path.join(run, file_name)
    if not os.path.isfile(path):
        raise FileNotFoundError(unfinished_reason(run) or (
            f"{path} not found; is {run} a run folder written by `python -m minibert train`?"
        ))
    return load_model_file(path, MODEL_CLASSES.get(file_name))


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
