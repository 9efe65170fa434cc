"""`--dataset hf:NAME[:CONFIG]`: Hugging Face data sets, read from folders the tests write."""

import os

# No network here, nor in CI: datasets must answer from disk, not wait on the hub.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["HF_DATASETS_OFFLINE"] = "1"

import sys  # noqa: E402

import datasets  # noqa: E402  (the test extra installs it)
import pytest  # noqa: E402

from minibert.data.sources import load_dataset  # noqa: E402
from minibert.data.tables import DataSourceError  # noqa: E402
from minibert.tasks.question_answering.questions import load_questions  # noqa: E402


def write_hub_folder(folder, splits: dict, label_names=("neg", "pos")):
    """A data set as the hub keeps one: a parquet file per split (with its features) and a
    README whose YAML names the splits."""
    features = datasets.Features({"review": datasets.Value("string"),
                                  "label": datasets.ClassLabel(names=list(label_names))})
    entries = []
    for split, labels in splits.items():
        texts = [("a good film " if label == 1 else "a bad film ") + str(index)
                 for index, label in enumerate(labels)]
        datasets.Dataset.from_dict({"review": texts, "label": labels}, features=features).to_parquet(
            str(folder / f"{split}.parquet"))
        entries.append(f"  - split: {split}\n    path: {split}.parquet\n")
    (folder / "README.md").write_text(
        "---\nconfigs:\n- config_name: default\n  data_files:\n" + "".join(entries) + "---\n"
    )
    return f"hf:{folder}"


def test_the_splits_and_class_names_map_onto_minibert_s(tmp_path):
    name = write_hub_folder(tmp_path, {"train": [0, 1] * 20, "test": [1, 0] * 5,
                                       "unsupervised": [-1] * 6})
    data = load_dataset(name, text_column="review", cache_dir=str(tmp_path / "cache"))
    assert data.label_names == ("neg", "pos")
    assert data.validation_is_test and len(data.validation) == 10 and len(data.train) == 40
    assert len(data.unlabeled) == 6
    assert data.train["text"].str.startswith("a ").all()
    assert (data.train["label"] == data.train["text"].str.contains("good").astype(int)).all()


def test_a_test_split_with_hidden_labels_gives_way_to_validation(tmp_path):
    # GLUE's test labels are -1: the validation split is the one that can score.
    name = write_hub_folder(tmp_path, {"train": [0, 1] * 20, "validation": [0, 1] * 4,
                                       "test": [-1] * 6})
    data = load_dataset(name, text_column="review", cache_dir=str(tmp_path / "cache"))
    assert data.validation_is_test and len(data.validation) == 8


@pytest.mark.parametrize("case", ["unknown_name", "no_text_column", "not_installed"])
def test_what_cannot_be_read_fails_in_one_line(tmp_path, monkeypatch, case):
    name = write_hub_folder(tmp_path, {"train": [0, 1] * 5})
    text_column = "review"
    if case == "unknown_name":
        name = "hf:minibert-tests/no-such-data-set"
    elif case == "no_text_column":
        text_column = "text"
    else:
        monkeypatch.setitem(sys.modules, "datasets", None)  # as if not installed
    with pytest.raises(DataSourceError) as error:
        load_dataset(name, text_column=text_column, cache_dir=str(tmp_path / "cache"))
    message = str(error.value)
    assert "\n" not in message
    expected = {"unknown_name": "could not load hf:minibert-tests/no-such-data-set",
                "no_text_column": "text column 'text' not found",
                "not_installed": 'pip install "minibert[hf]"'}[case]
    assert expected in message


def test_the_command_line_takes_an_hf_name(tmp_path):
    from test_cli import minibert

    name = write_hub_folder(tmp_path, {"train": [0, 1] * 30, "test": [1, 0] * 10})
    result = minibert("baseline", "--dataset", name, "--text-column", "review",
                      "--cache-dir", str(tmp_path / "cache"))
    assert "validation accuracy" in result.stdout and "on 20 rows (the test split)" in result.stdout


def test_squad_features_read_as_questions_with_the_validation_split_kept(tmp_path):
    # hf:squad's layout: answers a sequence of {text, answer_start}; v2's unanswerable empty.
    features = datasets.Features({
        "id": datasets.Value("string"), "title": datasets.Value("string"),
        "context": datasets.Value("string"), "question": datasets.Value("string"),
        "answers": datasets.Sequence({"text": datasets.Value("string"),
                                      "answer_start": datasets.Value("int32")}),
    })
    context = "Ada Lovelace wrote the notes in London."
    entries = []
    for split, count in (("train", 6), ("validation", 2)):
        rows = {"id": [f"{split}-{i}" for i in range(count)], "title": ["Ada"] * count,
                "context": [context] * count, "question": ["Who wrote the notes?"] * count,
                "answers": [{"text": ["Ada Lovelace"], "answer_start": [0]}] * (count - 1)
                + [{"text": [], "answer_start": []}]}
        datasets.Dataset.from_dict(rows, features=features).to_parquet(
            str(tmp_path / f"{split}.parquet"))
        entries.append(f"  - split: {split}\n    path: {split}.parquet\n")
    (tmp_path / "README.md").write_text(
        "---\nconfigs:\n- config_name: default\n  data_files:\n" + "".join(entries) + "---\n")
    data = load_questions(f"hf:{tmp_path}", cache_dir=str(tmp_path / "cache"))
    assert data.validation_is_test and data.group_column is None
    assert len(data.train) == 6 and list(data.validation["id"]) == ["validation-0", "validation-1"]
    assert data.train["answers"][0] == ["Ada Lovelace"] and data.train["answer_starts"][0] == [0]
    assert data.unanswerable and data.validation["answers"][1] == []
