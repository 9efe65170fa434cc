"""Extractive question answering: the span of a context that answers a question (SQuAD).

The data is `minibert.data.question_answering.QuestionAnswerData`: questions
on contexts with their answers' texts and character offsets. Each question
is packed with windows of its context (`minibert.tasks.question_answering.answer_windows`:
`[cls] question [sep] context [sep]`, a long context read in overlapping
windows); the head (`QuestionAnswerer`) gives a start and an end logit at
every token and learns the answer's first and last token, or `[cls]` where
a window holds no answer. A question's answer is its best span over all its
windows, mapped back to the characters of its context as written. The report
is SQuAD's exact match and F1 (`minibert.tasks.question_answering.metrics`); on
SQuAD 2.0 data the no-answer threshold is chosen on validation for the best
F1 and travels with the end-to-end model (`EndToEndAnswerer`).
"""

import dataclasses
import time

import keras
import numpy as np

from minibert.config import RunConfig
from minibert.data.pipeline import classification_dataset
from minibert.models.batched_predict import length_batched_predict
from minibert.models.replicas import batch_multiple
from minibert.models.serialization import inference_copy
from minibert.tasks import classification, token_classification
from minibert.tasks.question_answering import NAME
from minibert.tasks.question_answering.answer_windows import (
    AnswerWindows,
    answer_windows,
    best_spans,
)
from minibert.tasks.question_answering.baseline import sliding_window_answers
from minibert.tasks.question_answering.end_to_end_answerer import (
    NO_ANSWER,
    EndToEndAnswerer,
    abstained,
    best_texts,
)
from minibert.tasks.question_answering.metrics import (
    answer_report,
    format_answer_report,
    question_scores,
)
from minibert.tasks.question_answering.question_answerer import (
    QuestionAnswerer,
    span_accuracy,
    span_loss,
)
from minibert.tasks.question_answering.questions import is_squad_file, load_questions
from minibert.tasks.task import (
    FinetuningTask,
    given_flags,
    one_device,
    refuse_few_label_flags,
)


@dataclasses.dataclass(frozen=True, eq=False)
class QuestionTargets:
    """What an answerer learns from one split, and what its answers are scored against.

    `windows.targets` are the positions it learns; `answers` are each
    question's gold texts (empty: unanswerable), `contexts` its context.
    """

    windows: AnswerWindows
    answers: list
    contexts: list

    @property
    def answerable(self) -> np.ndarray:
        return np.asarray([bool(answers) for answers in self.answers])


def check_flags(args, has_task_flag: bool) -> None:
    """Refuses every other task's data flag: SQuAD's layout names its own columns."""
    refuse_few_label_flags(args)
    given = given_flags(args, {**token_classification.DATA_FLAGS, **classification.DATA_FLAGS})
    if given:
        raise ValueError(f"{given[0]} is not read by --task {NAME}, whose data has question, "
                         "context and answers (SQuAD's layout); drop it")


def load_data(args, seed: int, group_column):
    """The `QuestionAnswerData` the data flags name (`load_questions`), split by whole articles."""
    return load_questions(args.dataset, validation_size=args.validation_size, seed=seed,
                          max_train_rows=args.max_train_rows, cache_dir=args.cache_dir)


def baseline_lines(data) -> list[str]:
    """The sliding-window word-overlap answer to each validation question, scored as SQuAD's."""
    start = time.perf_counter()
    frame = data.validation
    report = answer_report(sliding_window_answers(frame["question"], frame["context"]),
                           frame["answers"].tolist())
    split = (f"{data.validation_groups} whole {data.group_column} groups" if data.group_column
             else "its own validation split")
    return [f"sliding-window word overlap on {data.name}: {format_answer_report(report)} "
            f"({split}), in {time.perf_counter() - start:.0f} s"]


def describe(data, config: RunConfig) -> str:
    return ("stage answerer: backbone frozen, then unfrozen; the start and end of each answer "
            f"in windows of the context {config.finetune.window_stride} tokens apart"
            + ("; unanswerable questions point at [cls]" if data.unanswerable else ""))


def make_examples(vectorizer, frame, data, config: RunConfig):
    """`(token_ids, QuestionTargets)` of one split's questions: every window of every context,
    each learning its first answer's span (or `[cls]` where the window does not hold it)."""
    spans = [(starts[0], starts[0] + len(texts[0])) if texts else None
             for texts, starts in zip(frame["answers"], frame["answer_starts"])]
    windows = answer_windows(vectorizer, frame["question"].tolist(), frame["context"].tolist(),
                             spans, config.model.sequence_length, config.finetune.window_stride)
    targets = QuestionTargets(windows, [list(texts) for texts in frame["answers"]],
                              frame["context"].tolist())
    return windows.token_ids, targets


def training_windows(targets: QuestionTargets, config: RunConfig) -> np.ndarray:
    """Which windows train: those holding their answer, every window of an unanswerable
    question, and a seeded `unanswered_window_share` of the others."""
    windows = targets.windows
    holds = windows.targets[:, 0] > 0
    unanswerable = ~targets.answerable[windows.question_index]
    drawn = (np.random.default_rng(config.seed).random(len(holds))
             < config.finetune.unanswered_window_share)
    return holds | unanswerable | drawn


def answer_batches(examples, config: RunConfig, shuffle: bool):
    """Batches of `(token_ids, targets)`; training batches (`shuffle`) hold the windows
    `training_windows` keeps, grouped by length (`classification_dataset`'s batching)."""
    if batch_multiple() > 1:
        raise ValueError("question answering fine-tunes on one device; drop --distribute")
    token_ids, targets = examples
    positions = targets.windows.targets
    if shuffle:
        kept = training_windows(targets, config)
        token_ids, positions = token_ids[kept], positions[kept]
    return classification_dataset(
        token_ids, positions, batch_size=config.finetune.batch_size, shuffle=shuffle,
        dynamic_padding=config.finetune.dynamic_padding, seed=config.seed,
        pad_to_multiple=config.pad_to_multiple)


def new_answerer(backbone, examples, data, config: RunConfig):
    return QuestionAnswerer(backbone, dropout=config.finetune.dropout)


def compile_answerer(answerer, optimizer, jit_compile="auto"):
    answerer.compile(
        jit_compile=jit_compile, optimizer=optimizer, loss=span_loss,
        # "accuracy": the share of windows whose start and end are both right.
        metrics=[keras.metrics.MeanMetricWrapper(span_accuracy, name="accuracy")],
    )


def question_logits(answerer, token_ids, batch_size) -> np.ndarray:
    """(windows, tokens, 2) logits, predicted in batches of similar length."""
    if not len(token_ids):
        return np.zeros((0, token_ids.shape[1], 2), "float32")
    return length_batched_predict(answerer, token_ids, batch_size, per_token=True)


def validation_report(answerer, examples, data, config: RunConfig) -> dict:
    """SQuAD's exact match and F1 of `answerer`'s best span per question.

    On data with unanswerable questions, the no-answer threshold of the best
    F1 is chosen here (`no_answer_threshold`, which the end-to-end model
    applies); None on SQuAD 1.1 data, where every question gets a span.
    """
    token_ids, targets = examples
    logits = question_logits(answerer, token_ids, config.finetune.batch_size)
    spans, null_scores = best_spans(targets.windows, logits, targets.contexts,
                                    config.finetune.max_answer_tokens)
    threshold = None
    if data.unanswerable:
        threshold = best_threshold(spans, null_scores, targets.answers)
    predictions = [abstained(found, null, threshold) for found, null in zip(spans, null_scores)]
    return {**answer_report(best_texts(predictions), targets.answers),
            "no_answer_threshold": threshold}


def best_threshold(spans, null_scores, gold_answers) -> float:
    """The margin of the no-answer score over the best span's above which abstaining gives the
    best F1 over these questions (SQuAD 2.0's official tuning, on validation).

    Example:
    >>> from minibert.tasks.question_answering.answer_windows import Span
    >>> spans = [[Span("Ada", 0, 3, 5.0)], [Span("Bob", 0, 3, 1.0)]]
    >>> best_threshold(spans, np.array([1.0, 4.0]), [["Ada"], []])  # margins -4 and 3
    -0.5
    """
    margins = np.asarray([null - (found[0].score if found else -np.inf)
                          for found, null in zip(spans, null_scores)])
    gains = np.asarray([question_scores(NO_ANSWER, golds)[1]
                        - question_scores(found[0].text if found else NO_ANSWER, golds)[1]
                        for found, golds in zip(spans, gold_answers)])
    # Abstaining where margin > threshold: try each margin as the threshold, the largest first.
    order = np.argsort(-margins, kind="stable")
    totals = np.concatenate([[0.0], np.cumsum(gains[order])])  # abstain on the first k
    best = int(np.argmax(totals))
    if best == 0:
        return float(margins[order[0]]) if len(order) else 0.0  # never abstain
    if best == len(order):
        return float(margins[order[-1]]) - 1.0  # always abstain
    # Halfway between the last margin that abstains and the first that does not.
    return float((margins[order[best - 1]] + margins[order[best]]) / 2)


def end_to_end_answerer(vectorizer, answerer, data, config: RunConfig, report: dict):
    # For inference: the answerer's weights without its optimizer's state.
    return EndToEndAnswerer(vectorizer, inference_copy(answerer), config.finetune.window_stride,
                            config.finetune.max_answer_tokens,
                            report.get("no_answer_threshold"), name="end_to_end")


def predict_lines(model, texts, text_pairs=None) -> list[str]:
    """`rank<TAB>start-end<TAB>score<TAB>answer` for the top 5 spans of each question
    (`texts`) on its context (`text_pairs`); "no answer" as `1<TAB>-<TAB>score<TAB>(no answer)`."""
    if not text_pairs or len(text_pairs) != len(texts):
        raise ValueError("a question-answering run answers each question from a context: pass "
                         "--question TEXT --context TEXT (or --text-pair once per question)")
    lines = []
    for question, found in zip(texts, model.answer(texts, text_pairs, top_k=5)):
        lines.append(f"# {question}")
        for rank, span in enumerate(found, start=1):
            where = f"{span.start}-{span.end}" if span.start >= 0 else "-"
            lines.append(f"{rank}\t{where}\t{span.score:.4f}\t{span.text or '(no answer)'}")
    return lines


def evaluate_saved(model, frame, data, split) -> list[str]:
    """SQuAD's exact match and F1 of a saved `EndToEndAnswerer` on `frame`'s questions."""
    answers = model.answer(frame["question"].tolist(), frame["context"].tolist(), top_k=1)
    report = answer_report(best_texts(answers), frame["answers"].tolist())
    return [f"{data.name} {split} ({len(frame)} questions): {format_answer_report(report)}"]


def card_data(summary) -> str:
    return (f"- data set: {summary.name}; questions on contexts, each answered by a span of its "
            "context (rows are questions)")


def card_results(report, validation_rows, frozen) -> list[str]:
    """The model card's SQuAD exact match and F1."""
    return [f"Validation exact match **{report['exact_match']:.2f}**, F1 **{report['f1']:.2f}** "
            f"(SQuAD's, over {report['questions']:,} questions) on {validation_rows:,} rows"
            + (f"; the frozen stage alone {frozen:.4f} span accuracy" if frozen is not None
               else "") + "."]


QUESTION_ANSWERING = FinetuningTask(
    name=NAME,
    help="question-answering: the span of a context that answers a question (SQuAD), scored "
    "by exact match and F1",
    stage_name="answerer",
    head_classes=("QuestionAnswerer",),
    end_to_end_classes=("EndToEndAnswerer",),
    reads_source=is_squad_file,
    check_flags=check_flags,
    load_data=load_data,
    baseline=baseline_lines,
    describe=describe,
    check_config=one_device("question answering"),
    # A question and its context, one row; a backbone pretrained on single texts gets a
    # segment table, started at zero (`minibert.models.backbone.with_segment_embedding`).
    reads_segments=lambda data, config: True,
    grows_segments=True,
    make_examples=make_examples,
    token_ids=lambda token_ids: [token_ids],
    make_batches=answer_batches,
    build_model=new_answerer,
    compile_model=compile_answerer,
    evaluate=validation_report,
    format_report=format_answer_report,
    build_end_to_end=end_to_end_answerer,
    predict=predict_lines,
    # A question table's own column names.
    input_columns=("question", "context"),
    evaluate_saved=evaluate_saved,
    # SQuAD's F1 itself, decoded after each validation (a pass of its own,
    # about 20 s for 7,382 questions on 2 cores): what users read, where the
    # span loss need not follow it.
    monitor=("val_f1", "max"),
    monitor_from_report=True,
    card_data=card_data,
    card_settings=lambda finetune: "",  # an answerer reads every token: it pools nothing
    card_results=card_results,
    card_use=(
        "questions and contexts in, answers out as spans of the context: `python -m minibert "
        "predict RUN --question \"Who directed Jaws?\" --context \"...\"`, `predict RUN --input "
        "FILE` (question and context columns), `export RUN --output DIR`",
        'model.answer(["Who directed Jaws?"], ["Jaws is a 1975 film directed by Steven '
        'Spielberg."])  # [[Span(text, start, end, score), ...]]',
    ),
)
