"""Extractive question answering: SQuAD data in, windows of a context, spans back as the
context's own characters, the metrics the field reports, and the task through the recipe."""

import dataclasses
import json
import random

import keras
import numpy as np
import pandas as pd
import pytest
import tensorflow as tf
from test_cli import minibert
from test_resume import stopped_and_resumed

from minibert import runs
from minibert.config import get_preset
from minibert.data.tables import DataSourceError
from minibert.data.vectorizers import build_run_vectorizer
from minibert.reporting import reporting_to
from minibert.tasks.question_answering.answer_windows import (
    Span,
    answer_windows,
    best_spans,
    max_question_tokens,
)
from minibert.tasks.question_answering.baseline import sliding_window_answers
from minibert.tasks.question_answering.end_to_end_answerer import (
    NO_ANSWER,
    EndToEndAnswerer,
    abstained,
)
from minibert.tasks.question_answering.metrics import answer_report, normalize_answer
from minibert.tasks.question_answering.questions import (
    QuestionAnswerData,
    is_squad_file,
    load_questions,
)
from minibert.tasks.question_answering.task import best_threshold, training_windows
from minibert.tasks.table import TASKS
from minibert.training import finetune_run, run

PEOPLE = "Ada Lovelace|Grace Hopper|Alan Turing|Linus Torvalds|Barbara Liskov|Edsger Dijkstra".split("|")
WORKS = "the Engine Notes|the Compiler|the Machine|the Kernel|the Substitution|the Shortest Path".split("|")
CITIES = "London|Paris|Berlin|Rome|Oslo|Lima".split("|")
FILLER = "It was a long year. Many people read it later. The weather was mild.".split(". ")


def make_contexts(num_contexts=48, seed=0, unanswerable=False) -> list[dict]:
    """SQuAD-layout articles: each context says who wrote what where and when, among filler;
    three questions per context (with `unanswerable`, a fourth about a city it does not name)."""
    rng = random.Random(seed)
    articles = []
    for article in range(num_contexts // 4):
        paragraphs = []
        for _ in range(4):
            person, work, city = rng.choice(PEOPLE), rng.choice(WORKS), rng.choice(CITIES)
            year = str(rng.randrange(1800, 2000))
            fact = f"{person} wrote {work} in {city} in {year}."
            sentences = rng.sample(FILLER, 2)
            context = f"{sentences[0]}. {fact} {sentences[1]}."
            start = context.index(fact)

            def answer(text, offset=0):
                return {"text": text, "answer_start": start + fact.index(text, offset)}

            questions = [
                {"id": f"{article}-{len(paragraphs)}-who", "question": f"Who wrote {work}?",
                 "answers": [answer(person)]},
                {"id": f"{article}-{len(paragraphs)}-where",
                 "question": f"Where did {person} write {work}?",
                 "answers": [answer(city, len(person) + len(work))]},
                {"id": f"{article}-{len(paragraphs)}-when",
                 "question": f"When did {person} write {work}?", "answers": [answer(year)]},
            ]
            if unanswerable:
                other = rng.choice([name for name in CITIES if name != city])
                questions.append({"id": f"{article}-{len(paragraphs)}-none",
                                  "question": f"Who was born in {other}?", "answers": [],
                                  "is_impossible": True})
            paragraphs.append({"context": context, "qas": questions})
        articles.append({"title": f"Article {article}", "paragraphs": paragraphs})
    return articles


def write_squad(path, articles, version="1.1") -> str:
    path.write_text(json.dumps({"version": version, "data": articles}))
    return str(path)


def tiny_config(tokenizer="word", unfrozen_epochs=1, mlm_epochs=0):
    config = get_preset("tiny")
    return dataclasses.replace(
        config, tokenizer=tokenizer,
        model=dataclasses.replace(config.model, sequence_length=48),
        pretrain=dataclasses.replace(config.pretrain, epochs=mlm_epochs, fill_mask_sentences=()),
        finetune=dataclasses.replace(config.finetune, frozen_epochs=1,
                                     unfrozen_epochs=unfrozen_epochs, learning_rate=1e-2,
                                     unfrozen_learning_rate=3e-3, window_stride=8),
    )


# --- data -------------------------------------------------------------------------------------


def test_squad_json_is_read_one_row_per_question_and_split_by_whole_articles(tmp_path):
    source = write_squad(tmp_path / "train.json", make_contexts())
    assert is_squad_file(source)
    data = load_questions(source, validation_size=0.25, seed=1)
    assert len(data.train) + len(data.validation) == 48 * 3
    assert data.group_column == "title" and data.validation_groups == 3
    assert not set(data.train["title"]) & set(data.validation["title"])
    assert not set(data.train["context"]) & set(data.validation["context"])
    row = data.train.iloc[0]
    assert row["context"][row["answer_starts"][0]:][:len(row["answers"][0])] == row["answers"][0]
    # Pretraining reads train's contexts, each once, never validation's.
    assert data.pretraining_text() == list(dict.fromkeys(data.train["context"]))
    assert not data.unanswerable


def test_squad_2_unanswerable_questions_have_no_answers(tmp_path):
    source = write_squad(tmp_path / "train.json", make_contexts(unanswerable=True), "v2.0")
    data = load_questions(source, validation_size=0.25)
    frame = pd.concat([data.train, data.validation])
    assert data.unanswerable
    assert (frame["answers"].map(len) == 0).sum() == 48


@pytest.mark.parametrize("layout", ["hugging_face", "list_of_answers"])
def test_question_tables_are_read_and_carved_by_context_without_titles(tmp_path, layout):
    rows = []
    for article in make_contexts():
        for paragraph in article["paragraphs"]:
            for question in paragraph["qas"]:
                answers = question["answers"]
                cell = ({"text": [a["text"] for a in answers],
                         "answer_start": [a["answer_start"] for a in answers]}
                        if layout == "hugging_face" else answers)
                rows.append({"question": question["question"], "context": paragraph["context"],
                             "answers": cell})
    path = tmp_path / "questions.jsonl"
    pd.DataFrame(rows).to_json(path, orient="records", lines=True)
    data = load_questions(str(path), validation_size=0.25)
    assert data.group_column == "context" and len(data.train) + len(data.validation) == len(rows)
    assert not set(data.train["context"]) & set(data.validation["context"])


def test_bad_question_data_is_refused_in_one_line(tmp_path):
    articles = make_contexts(8)
    articles[0]["paragraphs"][1]["qas"][0]["answers"][0]["answer_start"] += 1
    with pytest.raises(DataSourceError, match=r"^row 3 \(id 0-1-who\) of train: the answer .* is "
                       r"not at character \d+ of its context \(found .*\); fix its answer_start$"):
        load_questions(write_squad(tmp_path / "train.json", articles))
    articles = make_contexts(8)
    articles[0]["paragraphs"][0]["context"] = " "
    with pytest.raises(DataSourceError, match=r"^row 0 \(id 0-0-who\) of train.json has an empty "
                       "context; fill it in or drop the row$"):
        load_questions(write_squad(tmp_path / "train.json", articles))
    table = tmp_path / "questions.jsonl"
    pd.DataFrame({"question": ["Who?"], "text": ["Ada."]}).to_json(table, orient="records",
                                                                  lines=True)
    with pytest.raises(DataSourceError, match="context") as error:
        load_questions(str(table))
    assert "\n" not in str(error.value) and "name them question, context and answers" in str(
        error.value)


def test_an_answering_run_across_devices_is_refused_before_its_folder_is_made(tmp_path):
    source = write_squad(tmp_path / "train.json", make_contexts())
    refused = minibert("train", "--task", "question-answering", "--dataset", source, "--preset",
                       "tiny", "--distribute", "mirrored", "--output", str(tmp_path / "run"),
                       check=False)
    assert refused.returncode == 2
    assert "question answering fine-tunes on one device; drop --distribute" in refused.stderr
    assert not (tmp_path / "run").exists()


def test_the_command_line_reads_a_squad_file_for_its_task_and_refuses_other_tasks_flags(tmp_path):
    source = write_squad(tmp_path / "train.json", make_contexts())
    refused = minibert("baseline", "--task", "question-answering", "--dataset", source,
                       "--label-column", "y", check=False)
    assert refused.returncode == 2 and "--label-column is not read by --task question-answering" \
        in refused.stderr
    printed = minibert("baseline", "--task", "question-answering", "--dataset", source).stdout
    assert printed.startswith("sliding-window word overlap on train: exact match ")


# --- windows and offsets ----------------------------------------------------------------------


def word_vectorizer(texts, sequence_length):
    return build_run_vectorizer("word", texts, 200, sequence_length)


def test_an_answer_across_a_window_edge_is_learned_only_where_a_window_holds_it_whole():
    # 30 filler tokens, then "ada" (token 30) and "lovelace" (token 31).
    context = " ".join(f"w{index}" for index in range(30)) + " Ada Lovelace wrote it."
    vectorizer = word_vectorizer([context, "who wrote it"], 20)
    start = context.index("Ada")
    windows = answer_windows(vectorizer, ["who wrote it then"], [context],
                             [(start, start + 12)], 20, stride=6)
    room = 20 - 3 - 4  # four question tokens ("then" is [UNK])
    assert list(windows.window_start) == [0, 6, 12, 18, 24]
    assert list(windows.window_length) == [room] * 4 + [34 - 24]
    # The window of tokens 18..30 holds "Ada" but not "Lovelace": it learns [cls], not half
    # the answer; the one of tokens 24..33 holds both and learns them.
    assert windows.targets[3].tolist() == [0, 0]
    assert windows.characters(4, *windows.targets[4]) == (start, start + 12)
    assert (windows.targets[:3] == 0).all()


def test_a_context_of_exactly_the_room_is_one_window_and_a_long_question_is_cut():
    vectorizer = word_vectorizer(["a b c d e f g h i j k l m n o p"], 16)
    question_room = max_question_tokens(16)
    context = "a b c d e f g h i j k"  # 11 tokens
    exact = answer_windows(vectorizer, ["a b"], [context], [(0, 1)], 16, stride=4)
    assert len(exact.token_ids) == 1 and exact.window_length[0] == 16 - 3 - 2
    long_question = " ".join("abcdefghijklmnop")  # 16 tokens, longer than the row
    windows = answer_windows(vectorizer, [long_question], [context], [(20, 21)], 16, stride=4)
    assert windows.context_offset[0] == question_room + 2
    assert (windows.token_ids[:, 0] == 3).all()  # [cls]
    assert all(windows.characters(window, *windows.targets[window]) == (20, 21)
               for window in np.flatnonzero(windows.targets[:, 0] > 0))
    assert len(windows.token_ids) > 1


@pytest.mark.parametrize("tokenizer", ["word", "wordpiece"])
def test_spans_map_back_to_the_contexts_own_characters_through_accents_emoji_and_punctuation(
        tokenizer):
    contexts = ["Le café «Zoë's» ouvrit en 1990, à Montréal 🎉 — près du fleuve!",
                "In 1990, the U.S. team (led by Zoë Ångström) won; émigrés cheered."]
    answers = [("Zoë's", "Montréal", "1990"), ("Zoë Ångström", "U.S", "émigrés cheered")]
    vectorizer = build_run_vectorizer(tokenizer, contexts * 3, 120, 48)
    questions, spans, texts = [], [], []
    for context, wanted in zip(contexts, answers):
        for text in wanted:
            start = context.index(text)
            questions.append("Which one?")
            spans.append((start, start + len(text)))
            texts.append((context, text))
    windows = answer_windows(vectorizer, questions, [c for c, _ in texts], spans, 48, stride=8)
    holding = windows.targets[:, 0] > 0
    assert set(windows.question_index[holding]) == set(range(len(questions)))
    for window in np.flatnonzero(holding):
        start, end = windows.targets[window]
        context, text = texts[windows.question_index[window]]
        first, last = windows.characters(window, start, end)
        assert context[first:last] == text


def test_the_best_span_starts_before_it_ends_is_short_enough_and_is_the_best_of_all_windows():
    context = " ".join(f"w{index}" for index in range(30))
    vectorizer = word_vectorizer([context, "q"], 12)
    windows = answer_windows(vectorizer, ["q"], [context], [None], 12, stride=4)
    logits = np.zeros((len(windows.token_ids), 12, 2), "float32")
    # An end before its start scores high, and a span too long: neither may win.
    last = len(windows.token_ids) - 1
    logits[0, 8, 0], logits[0, 4, 1] = 9.0, 9.0
    logits[1, 3, 0], logits[1, 10, 1] = 6.0, 6.0
    # The best allowed span: in the last window, 2 tokens.
    logits[last, 5, 0], logits[last, 6, 1] = 5.0, 5.0
    spans, null_scores = best_spans(windows, logits, [context], max_answer_tokens=3, top_k=3)
    best = spans[0][0]
    assert best.score == pytest.approx(10.0)
    first = windows.window_start[last] + 5 - windows.context_offset[last]
    assert best.text == f"w{first} w{first + 1}" == context[best.start:best.end]
    assert [span.score for span in spans[0]] == sorted((s.score for s in spans[0]), reverse=True)
    assert null_scores.shape == (1,)


def test_no_answer_wins_past_the_threshold_chosen_for_the_best_f1():
    spans = [[Span("Ada", 0, 3, 5.0)], [Span("Bob", 0, 3, 1.0)], [Span("Rome", 0, 4, 2.0)]]
    null_scores = np.array([1.0, 4.0, 3.5])
    gold = [["Ada"], [], ["Rome"]]
    threshold = best_threshold(spans, null_scores, gold)
    # Margins are -4, 3 and 1.5: abstaining on the second only is the best F1.
    assert 1.5 <= threshold < 3.0
    predicted = [abstained(found, null, threshold)[0].text for found, null in zip(spans, null_scores)]
    assert predicted == ["Ada", NO_ANSWER, "Rome"]
    report = answer_report(predicted, gold)
    assert report["f1"] == 100.0 and report["has_answer_questions"] == 2
    assert report["no_answer_exact_match"] == 100.0


def test_squad_metrics_normalize_and_take_the_best_gold_answer():
    assert normalize_answer("The Beatles!") == "beatles"
    report = answer_report(["the Beatles", "Paris, France", "x"],
                           [["Beatles"], ["France", "Paris"], ["y"]])
    assert report["exact_match"] == pytest.approx(100 / 3)
    assert report["f1"] == pytest.approx((100 + 100 * 2 / 3 + 0) / 3)


def test_training_keeps_the_windows_that_hold_answers_and_a_share_of_the_others():
    context = " ".join(f"w{index}" for index in range(40)) + " Ada."
    vectorizer = word_vectorizer([context, "who"], 16)
    start = context.index("Ada")
    frame = pd.DataFrame({"question": ["who", "who"], "context": [context, context],
                          "answers": [["Ada"], []], "answer_starts": [[start], []]})
    from minibert.tasks.question_answering.task import make_examples

    config = dataclasses.replace(tiny_config(), model=dataclasses.replace(
        tiny_config().model, sequence_length=16))
    data = QuestionAnswerData("tiny", frame, frame[:0], False)
    _, targets = make_examples(vectorizer, frame, data, config)
    windows = targets.windows
    answerable = windows.question_index == 0
    for share, expected in ((0.0, 1), (1.0, answerable.sum())):
        config = dataclasses.replace(config, finetune=dataclasses.replace(
            config.finetune, unanswered_window_share=share))
        kept = training_windows(targets, config)
        assert kept[answerable].sum() == expected
        assert kept[~answerable].all()  # an unanswerable question's windows teach [cls]


def test_the_sliding_window_baseline_answers_near_the_questions_rare_words():
    context = "It was cold. Grace Hopper wrote the Compiler in Paris in 1952. People cheered."
    assert sliding_window_answers(["Who wrote the Compiler in Paris?"], [context]) == [
        "Grace Hopper"]


def frame_context_slices(frame, text, start) -> bool:
    """Whether `text` stands at character `start` of one of `frame`'s contexts."""
    return any(context[start:start + len(text)] == text for context in frame["context"])


# --- the task through the recipe --------------------------------------------------------------


@pytest.fixture(scope="module")
def answering_run(tmp_path_factory):
    """The answering run the recipe's tests read: 96 contexts, twelve unfrozen epochs, stopped
    once the unfrozen stage saved its first, then run again, which resumes it.

    The word tokenizer here; WordPiece's offsets are checked above, without a run.
    """
    folder = tmp_path_factory.mktemp("answering")
    source = write_squad(folder / "train.json", make_contexts(96))
    data = load_questions(source, validation_size=0.25)
    output = folder / "run"

    def answering():
        return run(data, tiny_config(unfrozen_epochs=12), str(output), verbose=0, task=TASKS["question-answering"])

    metrics, _ = stopped_and_resumed(answering, output)
    return {"source": source, "data": data, "output": output, "metrics": metrics}


@pytest.mark.slow
def test_an_answerer_learns_saves_and_answers_from_its_files(answering_run, tmp_path):
    source, data = answering_run["source"], answering_run["data"]
    output, metrics = answering_run["output"], answering_run["metrics"]
    report = metrics["validation"]
    assert report["f1"] > 60 and report["questions"] == len(data.validation)
    assert report["no_answer_threshold"] is None
    # The weights kept are those of the best SQuAD F1 of any validation, not the least loss.
    history = pd.read_csv(output / runs.HISTORY_FILE)
    assert report["f1"] == pytest.approx(history["val_f1"].max(), abs=1e-4)
    config = json.loads((output / runs.CONFIG_FILE).read_text())
    assert config["task"] == "question-answering" and config["model"]["num_segments"] == 2
    assert "Validation exact match **" in (output / runs.MODEL_CARD_FILE).read_text()
    # Reloads with plain load_model; every span is the context's own characters.
    model = keras.models.load_model(output / runs.END_TO_END_FILE)
    assert isinstance(model, EndToEndAnswerer)
    frame = data.validation
    answers = model.answer(frame["question"], frame["context"], top_k=5)
    for found, context in zip(answers, frame["context"]):
        assert 1 <= len(found) <= 5
        assert all(span.text == context[span.start:span.end] for span in found)
    # evaluate scores the saved model as fine-tuning scored validation.
    printed = minibert("evaluate", str(output), "--dataset", source, "--validation-size",
                       "0.25").stdout
    assert f"exact match {report['exact_match']:.2f}, F1 {report['f1']:.2f}" in printed
    context = "It was cold. Grace Hopper wrote the Compiler in Paris in 1952."
    printed = minibert("predict", str(output), "--question", "Who wrote the Compiler?",
                       "--context", context).stdout.splitlines()
    assert printed[0] == "# Who wrote the Compiler?" and 2 <= len(printed) <= 6
    for rank, line in enumerate(printed[1:], start=1):
        number, span, score, text = line.split("\t")
        start, end = map(int, span.split("-"))
        assert int(number) == rank and context[start:end] == text
    # predict --input reads question and context columns and adds the answer's.
    table, scored = tmp_path / "questions.csv", tmp_path / "scored.csv"
    frame[["question", "context"]].head(5).to_csv(table, index=False)
    minibert("predict", str(output), "--input", str(table), "--output", str(scored))
    answered = pd.read_csv(scored, keep_default_na=False)
    assert list(answered.columns[-4:]) == ["answer", "answer_start", "answer_end", "answer_score"]
    for row in answered.itertuples():
        assert row.context[row.answer_start:row.answer_end] == row.answer
    # export serves (question, context) strings: the answers the Python model gives.
    exported = tmp_path / "exported"
    printed = minibert("export", str(output), "--output", str(exported)).stdout
    assert "serve(questions, contexts) -> the best answer" in printed
    loaded = tf.saved_model.load(str(exported))
    served = loaded.serve(tf.constant(frame["question"].tolist()),
                          tf.constant(frame["context"].tolist()))
    served_answers = [answer.decode() for answer in served["answers"].numpy()]
    for text, start in zip(served_answers, served["starts"].numpy()):
        assert frame_context_slices(frame, text, start)
    # The server reads a context's first window: where that is all of it, it answers alike.
    windows = answer_windows(model.vectorizer, frame["question"], frame["context"],
                             [None] * len(frame), 48, model.window_stride)
    whole = np.bincount(windows.question_index, minlength=len(frame)) == 1
    assert whole.sum() >= len(frame) // 2
    np.testing.assert_allclose(served["scores"].numpy()[whole],
                               [found[0].score for found in np.asarray(answers, object)[whole]],
                               atol=1e-3)
    for found, text in zip(np.asarray(answers, object)[whole], np.asarray(served_answers)[whole]):
        assert text == found[0].text or found[0].score - found[1].score < 1e-3  # a tie


@pytest.mark.slow
def test_squad_2_runs_choose_and_keep_a_no_answer_threshold(tmp_path):
    source = write_squad(tmp_path / "train.json", make_contexts(48, unanswerable=True), "v2.0")
    data = load_questions(source, validation_size=0.25)
    output = tmp_path / "run"
    # The frozen stage alone: the threshold is chosen on validation after fine-tuning.
    metrics = run(data, tiny_config(unfrozen_epochs=0), str(output), verbose=0, task=TASKS["question-answering"])
    report = metrics["validation"]
    assert report["no_answer_threshold"] is not None
    assert report["has_answer_questions"] + report["no_answer_questions"] == report["questions"]
    model = keras.models.load_model(output / runs.END_TO_END_FILE)
    assert model.no_answer_threshold == pytest.approx(report["no_answer_threshold"])


@pytest.mark.slow
def test_pretraining_reads_a_squad_files_contexts_and_fine_tuning_grows_segments(tmp_path):
    source = write_squad(tmp_path / "train.json", make_contexts())
    printed = minibert("pretrain", "--dataset", source, "--preset", "tiny", "--validation-size",
                       "0.25", "--output", str(tmp_path / "pretrained")).stdout
    assert "36 texts for pretraining" in printed  # 12 articles less 3 held out, 4 contexts each
    assert json.loads((tmp_path / "pretrained" / runs.CONFIG_FILE).read_text())[
        "model"]["num_segments"] == 0
    data = load_questions(source, validation_size=0.25)
    lines = []
    # The frozen stage alone: the segment embeddings are grown when the answerer is built.
    with reporting_to(lines.append):
        finetune_run(data, str(tmp_path / "pretrained"), str(tmp_path / "answerer"),
                     config=tiny_config(unfrozen_epochs=0), verbose=0,
                     task=TASKS["question-answering"])
    assert any("get one, started at zero" in line for line in lines)
    answerer = keras.models.load_model(tmp_path / "answerer" / runs.CLASSIFIER_FILE)
    assert answerer.backbone.num_segments == 2


@pytest.mark.slow
def test_a_stopped_answering_run_resumes_after_its_last_saved_epoch(answering_run):
    output = answering_run["output"]  # stopped after its first unfrozen epoch
    history = pd.read_csv(output / runs.HISTORY_FILE)
    # Every epoch once, the stopped run's first among them (the stage may end early: its best
    # validation score kept).
    epochs = list(history[history["stage"] == "unfrozen"]["epoch"])
    assert epochs == list(range(1, len(epochs) + 1)) and len(epochs) >= 2
    assert "f1" in json.loads((output / runs.METRICS_FILE).read_text())["validation"]
