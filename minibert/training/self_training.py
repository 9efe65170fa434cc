"""Self-training: the fine-tuned model labels unlabeled text, and a student learns from it.

Each round (`--self-training ROUNDS`), the model of the round before (the
teacher) predicts a seeded sample of the unlabeled texts; the most confident
predictions, as many of each class, become pseudo-labels; a student starts
again from the same pretrained backbone and is fine-tuned on the labelled
rows and the pseudo-labelled ones, with noise (dropout, and BERT's 80/10/10
masking of its input words): Xie et al. 2020's "noisy student". The student
is the next round's teacher. The round whose model scores best on validation
is kept, the fine-tuned teacher included, so self-training never ends below
fine-tuning alone on validation.

Pseudo-labels never come from validation text: a text that is also a
validation text is left out of the pool.

Each finished round's student is saved beside the checkpoints, so a killed
run resumes in the round it was in, at that round's last checkpoint.
"""

import dataclasses
import os
import time

import numpy as np

from minibert.config import RunConfig
from minibert.data.sources import DataSourceError
from minibert.models import Backbone
from minibert.models.batched_predict import length_batched_predict
from minibert.reporting import report
from minibert.runs import files
from minibert.runs.folder import load_model_file
from minibert.tasks.classification.end_to_end_classifier import (
    class_probabilities,
    classifier_token_ids,
)
from minibert.training.finetuning import TaskExamples, finetune
from minibert.training.stage import StageOutputs

STUDENT_FILE = "student.keras"
ROUND_FILE = "round.json"


def require_unlabeled_text(data, config: RunConfig) -> None:
    """Refuses, in one line, self-training that has nothing to read or cannot read it (the task
    refused it first where it is not classification: `FinetuningTask.check_config`)."""
    if not config.finetune.self_training:
        return
    if data.has_pairs:
        raise ValueError("--self-training labels single texts, and this data set has pairs; "
                         "drop --self-training")
    if not len(pseudo_label_pool(data, 1, seed=0)):
        raise DataSourceError(
            f"--self-training needs unlabeled text and {data.name!r} has none apart from its "
            "validation text; pass --unlabeled FILE, or --labels N to hide some labels"
        )


def pseudo_label_pool(data, size: int, seed: int) -> list[str]:
    """A seeded sample of `size` of `data`'s unlabeled texts, none of them a validation text.

    Example:
    >>> import pandas as pd
    >>> from minibert.data.sources import TextClassificationData
    >>> frame = pd.DataFrame({"text": ["held out"], "label": [0]})
    >>> unlabeled = pd.DataFrame({"text": ["held out", "new"]})
    >>> data = TextClassificationData("toy", frame, frame, unlabeled, ("no", "yes"),
    ...                               validation_is_test=False)
    >>> pseudo_label_pool(data, 5, seed=0)
    ['new']
    """
    validation = set(data.validation["text"])
    texts = [text for text in dict.fromkeys(data.unlabeled["text"]) if text not in validation]
    if len(texts) <= size:
        return texts
    chosen = np.random.default_rng(seed).choice(len(texts), size=size, replace=False)
    return [texts[index] for index in np.sort(chosen)]


def confident_rows(probabilities: np.ndarray, confidence: float, limit: int):
    """`(rows, labels)` of the most confident predictions, the same number of each class.

    `probabilities`: (rows, classes).

    Each class gets the rows predicted as it with probability at least
    `confidence`, most confident first, as many as the class with the fewest
    such rows has, and at most `limit` in all.

    Example:
    >>> probabilities = np.array([[0.95, 0.05], [0.99, 0.01], [0.2, 0.8], [0.03, 0.97]])
    >>> rows, labels = confident_rows(probabilities, confidence=0.9, limit=10)
    >>> rows.tolist(), labels.tolist()
    ([1, 3], [0, 1])
    """
    predicted = probabilities.argmax(axis=1)
    best = probabilities.max(axis=1)
    num_classes = probabilities.shape[1]
    candidates = []
    for label in range(num_classes):
        rows = np.flatnonzero((predicted == label) & (best >= confidence))
        candidates.append(rows[np.argsort(-best[rows], kind="stable")])
    per_class = min(limit // num_classes, min(len(rows) for rows in candidates))
    rows = np.concatenate([rows[:per_class] for rows in candidates]).astype(np.int64)
    labels = np.repeat(np.arange(num_classes), per_class)
    return rows, labels


@dataclasses.dataclass(frozen=True)
class SelfTraining:
    """`config.finetune.self_training` rounds of noisy-student training after fine-tuning.

    Attributes:
        examples: the classification examples fine-tuning used (`TaskExamples`).
        vectorizer: the run's, which the unlabeled texts are vectorized with.
        pretrained_weights: the backbone's weights before fine-tuning
            (`Backbone.get_weights()`): every student starts from them.
        config: the run's; each student trains with `student_mask_rate`'s noise.
        outputs: `checkpoint_dir` is where each round checkpoints
            (`round-1/frozen`, ...) and keeps its finished student.
    """

    examples: TaskExamples
    vectorizer: object
    pretrained_weights: list
    config: RunConfig
    outputs: StageOutputs = StageOutputs()

    def rounds(self, teacher, teacher_score: float):
        """The rounds from the fine-tuned `teacher`, whose validation accuracy is `teacher_score`.

        Returns:
            `(model, histories, record)`: the round's model that scored best on
            validation, every student's stage histories (`student-1-frozen`,
            ...), and metrics.json's `self_training`: a record per round and the
            round kept (0: the fine-tuned teacher).
        """
        best_model, best_score, best_round = teacher, teacher_score, 0
        histories, rounds = {}, []
        for round_number in range(1, self.config.finetune.self_training + 1):
            round_outputs = self.outputs.stage(f"round-{round_number}")
            round_dir = round_outputs.checkpoint_dir
            if round_dir is not None and os.path.exists(os.path.join(round_dir, ROUND_FILE)):
                student = load_model_file(os.path.join(round_dir, STUDENT_FILE))
                saved = files.read_json(os.path.join(round_dir, ROUND_FILE))
                record, round_histories = saved["record"], saved["histories"]
                round_steps = saved["steps"]
                report(f"self-training round {round_number}: restored from its saved student")
            else:
                trained = self.student_round(teacher, round_number, round_outputs)
                if trained is None:
                    break
                student, record, round_histories, round_steps = trained
                if round_dir is not None:
                    # The student first: the record marks the round finished.
                    files.save_model(student, os.path.join(round_dir, STUDENT_FILE))
                    files.write_json(os.path.join(round_dir, ROUND_FILE), {
                        "record": record, "histories": round_histories, "steps": round_steps,
                    })
            name = f"student-{round_number}"
            histories.update({f"{name}-{stage}": history
                              for stage, history in round_histories.items()})
            for stage, points in round_steps.items():
                self.outputs.record_steps(f"{name}-{stage}", points)
            report(f"self-training round {round_number}: validation accuracy "
                   f"{record['validation_accuracy']:.4f} (best before it: {best_score:.4f})")
            rounds.append(record)
            if record["validation_accuracy"] > best_score:
                best_model, best_round = student, round_number
                best_score = record["validation_accuracy"]
            teacher = student
        return best_model, histories, {"rounds": rounds, "kept_round": best_round,
                                       "finetuned_validation_accuracy": teacher_score}

    def student_round(self, teacher, round_number: int, round_outputs: StageOutputs):
        """One round: `teacher` labels the pool, a new student learns; `(student, record,
        histories, step points)`, or None when no class has a confident prediction."""
        start = time.perf_counter()
        finetune_config = self.config.finetune
        # Each student trains with more noise than fine-tuning had, and starts no rounds itself.
        student_config = dataclasses.replace(self.config, finetune=dataclasses.replace(
            finetune_config, self_training=0,
            mask_rate=max(finetune_config.mask_rate, finetune_config.student_mask_rate),
        ))
        examples = self.examples
        texts = pseudo_label_pool(examples.data, finetune_config.pseudo_label_pool,
                                  seed=self.config.seed + round_number)
        token_ids = classifier_token_ids(self.vectorizer, texts)
        probabilities = class_probabilities(length_batched_predict(teacher, token_ids))
        rows, labels = confident_rows(probabilities, finetune_config.pseudo_label_confidence,
                                      finetune_config.pseudo_labels)
        if not len(rows):
            report(f"self-training round {round_number}: no class has a prediction at "
                   f"confidence {finetune_config.pseudo_label_confidence:g} among {len(texts)} "
                   "unlabeled texts; self-training ends here")
            return None
        train_ids, train_labels = examples.train
        report(f"self-training round {round_number}: {len(rows)} pseudo-labels "
               f"({len(rows) // probabilities.shape[1]} per class) from {len(texts)} unlabeled "
               f"texts; a student from the pretrained backbone learns them and the "
               f"{len(train_labels)} labelled rows")
        backbone = Backbone(**student_config.model.backbone_kwargs(), name="backbone")
        backbone.set_weights(self.pretrained_weights)
        steps = {}
        student_examples = examples.with_train((np.concatenate([train_ids, token_ids[rows]]),
                                                np.concatenate([train_labels, labels])))
        student, histories = finetune(
            student_examples, backbone, student_config,
            StageOutputs(checkpoint_dir=round_outputs.checkpoint_dir, step_logs=steps,
                         verbose=self.outputs.verbose),
        )
        record = {
            "round": round_number, "pool": len(texts), "pseudo_labels": int(len(rows)),
            "least_confidence": float(probabilities[rows].max(axis=1).min()),
            "validation_accuracy": float(examples.evaluate(student, student_config)["accuracy"]),
            "seconds": time.perf_counter() - start,
        }
        return student, record, histories, steps
