"""The notebooks run as written: each in a fresh kernel, on a tiny generated corpus.

The notebooks read their parameters from MINIBERT_NOTEBOOK_* environment
variables (with real defaults), so the suite runs the committed files
unedited, on the `tiny` preset, in a temporary folder.
"""

import ast
import asyncio
import importlib.util
import json
import os
import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

import minibert
from conftest import make_reviews
from minibert.tasks.token_classification.tagged_words import load_tagged_words
from test_question_answering import make_contexts, write_squad
from test_token_classification import make_tagged_sentences

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
NAMES = ["01_quickstart.ipynb", "02_build_your_own.ipynb", "03_reuse_saved_models.ipynb",
         "04_tag_entities.ipynb", "05_answer_questions.ipynb"]
# Seconds any one cell may take: the tiny run's cells take a few, most of it tracing.
CELL_TIMEOUT = 300


async def execute(name, cwd, **parameters) -> str:
    """Runs `name` in a fresh kernel in `cwd` with MINIBERT_NOTEBOOK_<KEY> = value; what it printed."""
    notebook = nbformat.read(NOTEBOOKS / name, as_version=4)
    # The kernel imports minibert from this checkout, whatever is installed.
    python_path = [str(ROOT)] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(python_path))
    env.update({f"MINIBERT_NOTEBOOK_{key.upper()}": str(value) for key, value in parameters.items()})
    client = NotebookClient(
        notebook, timeout=CELL_TIMEOUT, kernel_name="python3",
        resources={"metadata": {"path": str(cwd)}},
    )
    await client.async_execute(env=env)
    return printed(notebook)


def printed(notebook) -> str:
    """Everything the code cells printed or displayed as text."""
    texts = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            if output.output_type == "stream" and output.name == "stdout":
                texts.append(output.text)
            elif output.output_type in ("execute_result", "display_data"):
                texts.append(output.data.get("text/plain", ""))
    return "\n".join(texts)


async def side_by_side(*executions) -> list:
    """What each execution returned, or the exception it raised, in order."""
    return await asyncio.gather(*executions, return_exceptions=True)


@pytest.fixture(scope="module")
def workspace(tmp_path_factory) -> Path:
    """A temporary working folder with a tiny review table."""
    folder = tmp_path_factory.mktemp("notebooks")
    make_reviews(200).to_csv(folder / "reviews.csv", index=False)
    return folder


def tagged_words_and_pretrained_run(folder) -> dict:
    """A tiny CoNLL folder (people and cities) and a `tiny` run pretrained on its sentences, for 04."""
    data_folder = folder / "ner"
    data_folder.mkdir()
    frame = make_tagged_sentences(160)
    for split, rows in (("train", frame[:112]), ("dev", frame[112:128]), ("test", frame[128:])):
        (data_folder / f"{split}.conll").write_text("".join(
            "".join(f"{word}\t{tag}\n" for word, tag in zip(words, tags)) + "\n"
            for words, tags in zip(rows["words"], rows["tags"])
        ))
    pretrained = folder / "pretrained_on_tags"
    minibert.pretrain_run(load_tagged_words(str(data_folder)), minibert.get_preset("tiny"),
                          pretrained, verbose=0)
    return {"data": data_folder, "pretrained": pretrained}


def questions_and_pretrained_run(folder) -> dict:
    """A tiny SQuAD file and a `tiny` run pretrained on its training articles' contexts, for 05."""
    source = write_squad(folder / "train.json", make_contexts(48))
    pretrained = folder / "pretrained_on_questions"
    minibert.pretrain_run(minibert.load_questions(source, validation_size=0.25),
                          minibert.get_preset("tiny"), pretrained, verbose=0)
    return {"data": source, "pretrained": pretrained}


@pytest.fixture(scope="module")
def executed(workspace) -> dict:
    """What each notebook printed, and the folders they wrote.

    The five run side by side, each in its own kernel (03 once 01, whose run
    it reads, is done; 04 and 05 once this process has pretrained their runs,
    which it does meanwhile): most of their time is single-threaded
    (importing TensorFlow, tracing the training steps), so on two cores they
    overlap. A notebook that failed fails its own tests only (`printed_by`).
    """
    reviews = workspace / "reviews.csv"
    folders = {"01": workspace / "quickstart", "02": workspace / "build_your_own",
               "04": workspace / "tag_entities", "05": workspace / "answer_questions"}

    async def quickstart_then_reuse():
        quickstart = await execute("01_quickstart.ipynb", workspace, dataset=reviews,
                                   preset="tiny", run=folders["01"])
        reuse = await side_by_side(execute("03_reuse_saved_models.ipynb", workspace,
                                           dataset=reviews, run=folders["01"]))
        return quickstart, reuse[0]

    async def pretrain_then_tag_and_answer():
        # One thread for both pretrainings: Keras' global state is not for two at once.
        tagging, answering = await asyncio.to_thread(lambda: (
            tagged_words_and_pretrained_run(workspace), questions_and_pretrained_run(workspace)))
        return await side_by_side(
            execute("04_tag_entities.ipynb", workspace, dataset=tagging["data"],
                    pretrained_run=tagging["pretrained"], output=folders["04"], frozen_epochs=1,
                    unfrozen_epochs=2),
            execute("05_answer_questions.ipynb", workspace, dataset=answering["data"],
                    validation_size=0.25, pretrained_run=answering["pretrained"],
                    output=folders["05"], frozen_epochs=1, unfrozen_epochs=2, learning_rate=1e-2),
        )

    first, build_your_own, last = asyncio.run(side_by_side(
        quickstart_then_reuse(),
        execute("02_build_your_own.ipynb", workspace, dataset=reviews, preset="tiny",
                output=folders["02"]),
        pretrain_then_tag_and_answer(),
    ))
    quickstart, reuse = first if isinstance(first, tuple) else (first, first)
    tag_entities, answer_questions = last if isinstance(last, list) else (last, last)
    return {"printed": {"01": quickstart, "02": build_your_own, "03": reuse, "04": tag_entities,
                        "05": answer_questions},
            "run": folders["01"], "output": folders["02"], "folders": folders}


def printed_by(executed, number) -> str:
    """What notebook `number` printed; its own error if it failed."""
    printed = executed["printed"][number]
    if isinstance(printed, BaseException):
        raise printed
    return printed


@pytest.mark.slow
def test_quickstart_runs_in_a_kernel_that_imports_this_checkout(executed):
    assert f"from {ROOT / 'minibert'}\n" in printed_by(executed, "01")


@pytest.mark.slow
def test_quickstart_trains_a_run_folder_and_predicts_raw_strings(executed):
    text = printed_by(executed, "01")
    names = set(os.listdir(executed["run"]))
    assert {"end_to_end.keras", "mlm.keras", "classifier.keras", "metrics.json"} <= names
    # One line per review: label (the CSV's labels are 0 and 1), probability, review.
    predictions = re.findall(r"^\s+([01]) (\d\.\d\d)  (.+)$", text, re.MULTILINE)
    assert [review for _, _, review in predictions] == [
        "A wonderful, moving film with a brilliant cast.",
        "Two hours of my life I will never get back. Awful.",
        "The plot was dull but the actors were great.",
    ]
    assert all(0.5 <= float(probability) <= 1 for _, probability, _ in predictions)


@pytest.mark.slow
def test_quickstart_fills_in_each_mask_with_five_words(executed):
    guesses = re.findall(r"\[mask\] -> (.+)", printed_by(executed, "01"))
    assert len(guesses) == 2
    assert all(len(re.findall(r"\S+ \(\d\.\d\d\)", line)) == 5 for line in guesses)


@pytest.mark.slow
def test_build_your_own_trains_saves_and_reloads_a_model(executed):
    text = printed_by(executed, "02")
    accuracy = re.search(r"validation accuracy after 2 epochs: (\d\.\d{4})", text)
    assert accuracy and 0 <= float(accuracy.group(1)) <= 1
    assert "the reloaded model predicts the same" in text
    assert {"my_classifier.keras", "vocabulary.txt"} <= set(os.listdir(executed["output"]))


@pytest.mark.slow
def test_reuse_evaluates_the_quickstart_run_and_finds_neighbours(executed):
    text = printed_by(executed, "03")
    # The DataFrame is the run's own validation split: the accuracy is the one it recorded.
    recorded = json.loads((executed["run"] / "metrics.json").read_text())["validation"]["accuracy"]
    accuracy = re.search(r"40 reviews: loss \d\.\d{4}, accuracy (\d\.\d{4})", text)
    assert accuracy and float(accuracy.group(1)) == pytest.approx(recorded, abs=1e-4)
    assert re.search(r"encoder frozen: +accuracy \d\.\d{4}", text)
    assert re.search(r"\d+\.\d% of each review's 10 nearest neighbours share its label", text)
    # Every probe word is in the tiny corpus, so each gets five neighbours.
    assert len(re.findall(r"^ *\w+: (\S+ \(-?\d\.\d\d\)(, )?){5}$", text, re.MULTILINE)) == 5


@pytest.mark.slow
def test_tag_entities_fine_tunes_a_tagger_and_finds_entities_in_raw_sentences(executed):
    text = printed_by(executed, "04")
    output = executed["folders"]["04"]
    assert {"end_to_end.keras", "classifier.keras", "metrics.json"} <= set(os.listdir(output))
    assert "ner: 112 training, 16 validation (its dev file) and 32 test sentences" in text
    # The floor and the tagger, each scored on entities, overall and per type.
    scores = r"entity F1 \d\.\d{4} \(precision \d\.\d{4}, recall \d\.\d{4}\)"
    assert len(re.findall(scores, text)) >= 2
    assert re.search(r"^  PER: F1 \d\.\d{4}", text, re.MULTILINE)
    recorded = json.loads((output / "metrics.json").read_text())["validation"]["f1"]
    assert f"tagger on dev: entity F1 {recorded:.4f}" in text
    assert re.search(r"tagger on test: entity F1 \d\.\d{4}", text)
    config = json.loads((output / "config.json").read_text())["finetune"]
    assert (config["frozen_epochs"], config["unfrozen_epochs"]) == (1, 2)
    # Each raw sentence is printed, then one line per entity: type, span, confidence, text.
    assert "Steven Spielberg filmed Jaws in Martha's Vineyard." in text
    entity_line = re.compile(r"^    \S+ +(\d+):(\d+) +\d\.\d\d  (.+)$", re.MULTILINE)
    for start, end, entity in entity_line.findall(text):
        assert any(sentence[int(start):int(end)] == entity for sentence in text.splitlines())
    # The per-word table of the first sentence: "Martha's" whole, the final dot a word apart.
    assert re.search(r"Martha's +32 +40 ", text) and re.search(r"\. +49 +50 ", text)


@pytest.mark.slow
def test_answer_questions_fine_tunes_an_answerer_and_answers_with_the_contexts_characters(
        executed):
    text = printed_by(executed, "05")
    output = executed["folders"]["05"]
    assert {"end_to_end.keras", "classifier.keras", "metrics.json"} <= set(os.listdir(output))
    assert "train: 108 training and 36 validation questions; validation: 3 whole articles" in text
    recorded = json.loads((output / "metrics.json").read_text())["validation"]
    assert f"answerer:       exact match {recorded['exact_match']:.2f}, F1 {recorded['f1']:.2f}" \
        in text
    assert re.search(r"sliding window: exact match \d+\.\d\d, F1 \d+\.\d\d", text)
    # Each question of section 4, then its top spans: offsets, score, the context's own text.
    assert "Who directed Jaws?" in text
    spans = re.findall(r"^ +(\d+):(\d+) +-?\d+\.\d\d  (.+)$", text, re.MULTILINE)
    assert len(spans) == 12  # the cell itself asserts each is context[start:end]


@pytest.mark.parametrize("name", NAMES)
def test_notebooks_define_no_classes(name):
    notebook = nbformat.read(NOTEBOOKS / name, as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            tree = ast.parse(cell.source)
            assert not [node for node in ast.walk(tree) if isinstance(node, ast.ClassDef)], cell.source


@pytest.mark.parametrize("name", NAMES)
def test_notebooks_are_committed_with_the_outputs_of_a_real_run(name):
    notebook = nbformat.read(NOTEBOOKS / name, as_version=4)
    nbformat.validate(notebook)
    record = notebook.metadata.get("minibert", {})
    assert record.get("outputs_from") == "notebooks/regenerate.py", "run notebooks/regenerate.py"
    assert record["seconds"] > 0
    if "pretrained_run" in record:  # 04 fine-tunes a run pretrained elsewhere
        tiny = minibert.get_preset("tiny").model
        assert record["pretrained_run"]["model"]["hidden_dim"] > tiny.hidden_dim
    else:
        assert record["preset_of_01"] != "tiny"
    # Every code cell ran, once, top to bottom, and none failed.
    code_cells = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert [cell.execution_count for cell in code_cells] == list(range(1, len(code_cells) + 1))
    assert not [output for cell in code_cells for output in cell.outputs
                if output.output_type == "error"]


def test_committed_outputs_name_no_machine_and_hold_no_progress_bar_frames():
    text = printed(nbformat.read(NOTEBOOKS / NAMES[0], as_version=4))
    assert "from ../minibert\n" in text
    assert "\r" not in text and "\b" not in text


# A folder of the machine a notebook ran on: an absolute path under tmp, home, work and the like
# (not "../minibert", the relative path a reader has).
ABSOLUTE_PATH = re.compile(r"(?<![\w.~])/(?:tmp|home|root|work|Users|usr|opt|var|mnt)/\S*")


@pytest.mark.parametrize("name", NAMES)
def test_committed_outputs_name_no_absolute_path(name):
    notebook = nbformat.read(NOTEBOOKS / name, as_version=4)
    outputs = [output for cell in notebook.cells for output in cell.get("outputs", [])]
    texts = [output.get("text", "") for output in outputs]
    texts += [output.data.get(kind, "") for output in outputs if "data" in output
              for kind in ("text/plain", "text/html")]
    assert not [path for text in texts for path in ABSOLUTE_PATH.findall(text)]


def test_regenerate_keeps_what_a_browser_shows():
    spec = importlib.util.spec_from_file_location("regenerate", NOTEBOOKS / "regenerate.py")
    regenerate = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(regenerate)
    bar = "1/3 [==>....] loss: 0.9\b\b\b\b\r2/3 [====>..] loss: 0.8\r3/3 [=======] loss: 0.7\n"
    assert regenerate.as_displayed("epoch 1\n" + bar + "done\n") == (
        "epoch 1\n3/3 [=======] loss: 0.7\ndone\n"
    )
    assert regenerate.as_displayed("abcd\b\bx\n") == "abx\n"
    assert regenerate.relative_paths("from /x/y/minibert", {"/x/y": ".."}) == "from ../minibert"
    # The kernel's messages, joined as displayed; TensorFlow's C++ log lines dropped.
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(outputs=[
        nbformat.v4.new_output("stream", name="stderr", text=(
            "I0000 00:00:1796223232.194580   20807 port.cc:153] oneDNN custom operations are on.\n"
        )),
        nbformat.v4.new_output("stream", name="stdout", text="1/2 [==>..]"),
        nbformat.v4.new_output("stream", name="stdout", text="\r2/2 [=====]\n"),
        nbformat.v4.new_output("stream", name="stderr", text="UserWarning: a real one\n"),
    ])])
    regenerate.tidy_outputs(notebook, {})
    assert [(output.name, output.text) for output in notebook.cells[0].outputs] == [
        ("stdout", "2/2 [=====]\n"), ("stderr", "UserWarning: a real one\n"),
    ]
