"""Behaviours of `minibert.tasks.token_classification.tagged_words`: sentences with a tag per word, from small files
written in tmp_path."""

import ast
import json
import pathlib

import pandas as pd
import pytest

from minibert.data.tables import DataSourceError
from minibert.tasks.token_classification.tagged_words import (
    TaggedWordsData,
    detect_scheme,
    is_conll_source,
    load_tagged_words,
)

# Three sentences, IOB2, as (word, tag) pairs.
SENTENCES = [
    [("Ada", "B-PER"), ("Lovelace", "I-PER"), ("wrote", "O"), ("notes", "O")],
    [("She", "O"), ("lived", "O"), ("in", "O"), ("London", "B-LOC")],
    [("Babbage", "B-PER"), ("met", "O"), ("her", "O"), ("in", "O"), ("London", "B-LOC")],
]


def _conll(sentences, separator="\t", sentence_break="\n") -> str:
    return sentence_break.join(
        "".join(f"{word}{separator}{tag}\n" for word, tag in sentence) for sentence in sentences
    )


def _write(path: pathlib.Path, text: str) -> str:
    path.write_text(text, encoding="utf-8")
    return str(path)


def _error(source, **arguments) -> str:
    """The message of the DataSourceError that loading raises, checked to be one line."""
    with pytest.raises(DataSourceError) as error:
        load_tagged_words(source, **arguments)
    message = str(error.value)
    assert "\n" not in message
    return message


def _assert_frames_have_the_promised_shape(data: TaggedWordsData):
    for frame in (data.train, data.validation):
        assert list(frame.columns) == ["words", "tags"]
        assert isinstance(frame.index, pd.RangeIndex)
        for words, tags in zip(frame["words"], frame["tags"]):
            assert isinstance(words, list) and isinstance(tags, list)
            assert len(words) == len(tags) > 0
            assert all(isinstance(text, str) for text in words + tags)
    assert list(data.unlabeled.columns) == ["text"]


def _all_sentences(data: TaggedWordsData) -> list:
    return [list(zip(words, tags)) for frame in (data.train, data.validation)
            for words, tags in zip(frame["words"], frame["tags"])]


# Text files.


@pytest.mark.parametrize("separator", ["\t", " ", "  \t "], ids=["tab", "space", "mixed"])
def test_two_column_files_read_whatever_spaces_or_tabs_separate_the_columns(tmp_path, separator):
    path = _write(tmp_path / "tiny.conll", _conll(SENTENCES, separator))
    data = load_tagged_words(path, validation_size=1)
    _assert_frames_have_the_promised_shape(data)
    assert sorted(_all_sentences(data)) == sorted([[tuple(pair) for pair in s] for s in SENTENCES])
    assert data.name == "tiny.conll" and not data.validation_is_test
    assert data.validation_split is None


def test_conll_2003_columns_give_the_last_as_tag_and_skip_docstart_lines(tmp_path):
    text = (
        "-DOCSTART- -X- -X- O\n\n"
        "EU NNP B-NP B-ORG\nrejects VBZ B-VP O\nGerman JJ B-NP B-MISC\n\n"
        "-DOCSTART- -X- -X- O\n\n"
        "Peter NNP B-NP B-PER\nBlackburn NNP I-NP I-PER\n\n"
        "BRUSSELS NNP B-NP B-LOC\n"
    )
    data = load_tagged_words(_write(tmp_path / "eng.train.txt", text), validation_size=1)
    sentences = sorted(_all_sentences(data))
    assert sentences == [
        [("BRUSSELS", "B-LOC")],
        [("EU", "B-ORG"), ("rejects", "O"), ("German", "B-MISC")],
        [("Peter", "B-PER"), ("Blackburn", "I-PER")],
    ]


def test_tag_first_files_read_with_column_indices(tmp_path):
    text = "B-PER Ada\nO wrote\n\nB-LOC London\n\nO fine\n"
    path = _write(tmp_path / "tags_first.iob", text)
    data = load_tagged_words(path, tag_column=0, word_column=1, validation_size=1)
    assert sorted(_all_sentences(data)) == [
        [("Ada", "B-PER"), ("wrote", "O")], [("London", "B-LOC")], [("fine", "O")],
    ]


def test_whitespace_only_lines_end_sentences_as_in_wnut_17s_train_file(tmp_path):
    # WNUT-17's train file separates sentences by lines of a single tab; some files end
    # lines with \r\n or start with a byte order mark.
    text = "\ufeff" + _conll(SENTENCES, "\t", sentence_break="\t\n").replace("\n", "\r\n")
    data = load_tagged_words(_write(tmp_path / "train.conll", text), validation_size=1)
    assert len(data.train) + len(data.validation) == 3
    assert sorted(_all_sentences(data))[0][0] == ("Ada", "B-PER")


def test_a_word_that_is_unicode_whitespace_other_than_space_or_tab_is_kept(tmp_path):
    # Columns split on spaces and tabs only: a no-break space is a (strange) word.
    text = "Ada\tB-PER\n\u00a0\tO\n\nLondon\tB-LOC\n\nfine\tO\n"
    data = load_tagged_words(_write(tmp_path / "odd.conll", text), validation_size=1)
    assert ["Ada", "\u00a0"] in [list(words) for words in pd.concat(
        [data.train, data.validation])["words"]]


def test_a_line_with_too_few_columns_is_named_by_file_and_line(tmp_path):
    path = _write(tmp_path / "short.conll", "Ada\tB-PER\nwrote\n\nLondon\tB-LOC\n")
    message = _error(path)
    assert "short.conll line 2 has 1 column ('wrote')" in message
    assert "--word-column / --tag-column" in message
    message = _error(path, word_column=0, tag_column=3)
    assert "short.conll line 1 has 2 columns" in message and "need 4" in message


def test_a_file_that_is_not_utf_8_is_named_with_its_line(tmp_path):
    path = tmp_path / "latin.conll"
    path.write_bytes("Ada\tB-PER\n\nZ\u00fcrich\tB-LOC\n".encode("latin-1"))
    message = _error(str(path))
    assert "latin.conll line 3 is not UTF-8" in message and "iconv" in message


@pytest.mark.parametrize("text", ["", "\n\n \t\n", "-DOCSTART- O\n\n"],
                         ids=["empty", "blank_lines", "only_docstart"])
def test_a_file_without_sentences_fails_naming_it(tmp_path, text):
    message = _error(_write(tmp_path / "empty.conll", text))
    assert "empty.conll holds no sentences" in message


def test_a_path_that_is_neither_file_nor_folder_fails_in_one_line(tmp_path):
    message = _error(str(tmp_path / "missing.conll"))
    assert "no such file or folder" in message and "hf:NAME" in message


# Tag schemes.


@pytest.mark.parametrize("tags, scheme", [
    ([["B-PER", "I-PER", "O", "B-LOC"], ["B-LOC", "B-LOC", "I-LOC"]], "IOB2"),
    ([["O", "O"]], "IOB2"),  # no entities: nothing says otherwise
    ([["I-PER", "I-PER", "O"]], "IOB1"),  # an entity that opens a sentence with I-
    ([["O", "I-LOC"]], "IOB1"),  # ... that follows O
    ([["B-PER", "I-LOC"]], "IOB1"),  # ... that follows another type
    ([["I-LOC", "B-LOC", "O"]], "IOB1"),  # IOB1's B- only parts two of a type
    ([["S-PER", "O"]], "IOBES"),
    ([["B-LOC", "E-LOC"], ["I-PER"]], "IOBES"),  # any S-/E- decides, whatever else is there
], ids=["iob2", "no_entities", "iob1_first", "iob1_after_o", "iob1_after_other_type",
        "iob1_with_b", "iobes_single", "iobes_end"])
def test_detect_scheme_tells_the_schemes_apart(tags, scheme):
    assert detect_scheme(tags) == scheme


def test_auto_detects_the_scheme_and_a_given_one_is_kept(tmp_path):
    iob1 = [[("Ada", "I-PER"), ("wrote", "O")], [("London", "I-LOC")], [("fine", "O")]]
    path = _write(tmp_path / "iob1.bio", _conll(iob1))
    assert load_tagged_words(path, validation_size=1).scheme == "IOB1"
    assert load_tagged_words(path, validation_size=1, scheme="IOB2").scheme == "IOB2"
    iobes = [[("Ada", "S-PER")], [("New", "B-LOC"), ("York", "E-LOC")], [("fine", "O")]]
    path = _write(tmp_path / "iobes.conll", _conll(iobes))
    assert load_tagged_words(path, validation_size=1).scheme == "IOBES"


def test_an_unknown_scheme_name_fails_in_one_line(tmp_path):
    path = _write(tmp_path / "tiny.conll", _conll(SENTENCES))
    message = _error(path, scheme="BILOU")
    assert "unknown tag scheme 'BILOU'" in message and "tiny.conll" in message
    assert "--tag-scheme auto, IOB1, IOB2 or IOBES" in message


@pytest.mark.parametrize("tag, arguments, expected", [
    ("PER", {}, "fix the tag"),
    ("B-", {}, "fix the tag"),
    ("U-PER", {}, "BILOU's U-/L- are IOBES's S-/E-"),
    ("3", {}, "tags must be names"),
    ("S-PER", {"scheme": "IOB2"}, "is IOBES's, not IOB2's; pass --tag-scheme IOBES or auto"),
])
def test_a_tag_outside_the_scheme_names_file_line_and_tag(tmp_path, tag, arguments, expected):
    sentences = [[("Ada", "O"), ("Lovelace", tag)], [("London", "B-LOC")], [("fine", "O")]]
    message = _error(_write(tmp_path / "bad.conll", _conll(sentences)), **arguments)
    assert f"bad.conll line 2: tag {tag!r}" in message and expected in message


def test_a_validation_tag_never_seen_in_train_names_the_tag_and_the_split(tmp_path):
    _write(tmp_path / "train.conll", _conll(SENTENCES))
    _write(tmp_path / "test.conll", "Paris\tB-LOC\n\nApple\tB-ORG\nsells\tO\n")
    message = _error(str(tmp_path))
    assert "test.conll line 3: tag 'B-ORG' in the test split never appears in train" in message


# Splits.


def test_a_folder_takes_its_test_split_before_dev_as_validation(tmp_path):
    _write(tmp_path / "train.conll", _conll(SENTENCES))
    _write(tmp_path / "dev.conll", _conll(SENTENCES[:1]))
    _write(tmp_path / "test.conll", _conll(SENTENCES[1:]))
    data = load_tagged_words(str(tmp_path))
    _assert_frames_have_the_promised_shape(data)
    assert data.name == tmp_path.name
    assert len(data.train) == 3 and len(data.validation) == 2
    assert data.validation_is_test and data.validation_split == "test"


def test_a_folder_validates_on_the_file_named_and_refuses_one_it_lacks(tmp_path):
    _write(tmp_path / "train.conll", _conll(SENTENCES))
    _write(tmp_path / "dev.conll", _conll(SENTENCES[:1]))
    _write(tmp_path / "test.conll", _conll(SENTENCES[1:]))
    data = load_tagged_words(str(tmp_path), validation_file="dev")
    assert len(data.validation) == 1 and data.validation_split == "dev"
    assert not data.validation_is_test
    with pytest.raises(DataSourceError, match=r"no valid file in .* to validate on; pass another"):
        load_tagged_words(str(tmp_path), validation_file="valid")


def test_a_folder_without_test_validates_on_dev_and_says_so(tmp_path):
    _write(tmp_path / "train.txt", _conll(SENTENCES))
    _write(tmp_path / "dev.txt", _conll(SENTENCES[:1]))
    data = load_tagged_words(str(tmp_path))
    assert len(data.train) == 3 and len(data.validation) == 1
    assert not data.validation_is_test and data.validation_split == "dev"


def test_a_folder_with_train_alone_carves_validation_and_one_without_train_fails(tmp_path):
    _write(tmp_path / "train.conll", _conll(SENTENCES))
    data = load_tagged_words(str(tmp_path), validation_size=1)
    assert len(data.train) == 2 and len(data.validation) == 1 and data.validation_split is None
    (tmp_path / "train.conll").rename(tmp_path / "test.conll")
    assert "no train file in" in _error(str(tmp_path))


def _numbered_sentences(count):
    """`count` sentences, each naming its number, every one tagged B-PER / O."""
    return [[(f"person{index}", "B-PER"), ("spoke", "O")] for index in range(count)]


def test_validation_is_carved_by_whole_sentences_seeded(tmp_path):
    path = _write(tmp_path / "many.conll", _conll(_numbered_sentences(50)))
    data = load_tagged_words(path, validation_size=0.2, seed=1)
    assert len(data.train) == 40 and len(data.validation) == 10
    assert sorted(_all_sentences(data)) == sorted(_numbered_sentences(50))
    again = load_tagged_words(path, validation_size=0.2, seed=1)
    other = load_tagged_words(path, validation_size=0.2, seed=2)
    assert again.validation["words"].tolist() == data.validation["words"].tolist()
    assert other.validation["words"].tolist() != data.validation["words"].tolist()
    assert "leaves none of the 50 sentences" in _error(path, validation_size=50)
    assert "must be a share in (0, 1)" in _error(path, validation_size=2.5)


def test_carving_leaves_in_train_every_tag_s_last_sentence(tmp_path):
    # B-ORG is in one sentence: whatever the seed, it stays in train.
    sentences = _numbered_sentences(9) + [[("Apple", "B-ORG")]]
    path = _write(tmp_path / "rare.conll", _conll(sentences))
    for seed in range(10):
        data = load_tagged_words(path, validation_size=0.5, seed=seed)
        assert ["Apple"] in data.train["words"].tolist()
        assert "B-ORG" in data.tag_names


def test_tag_names_are_sorted_with_o_first_and_survive_sampling(tmp_path):
    path = _write(tmp_path / "tiny.conll", _conll(SENTENCES * 4))
    data = load_tagged_words(path, validation_size=2, max_train_rows=3, seed=0)
    assert data.tag_names == ("O", "B-LOC", "B-PER", "I-PER")
    assert len(data.train) == 3
    assert "max_train_rows must be at least 1" in _error(path, max_train_rows=0)


def test_pretraining_text_is_train_s_sentences_and_validation_s_only_when_asked(tmp_path):
    _write(tmp_path / "train.conll", _conll(SENTENCES[:2]))
    _write(tmp_path / "test.conll", _conll(SENTENCES[2:]))
    data = load_tagged_words(str(tmp_path))
    assert data.pretraining_text() == ["Ada Lovelace wrote notes", "She lived in London"]
    assert data.pretraining_text(include_validation=True)[-1] == "Babbage met her in London"


def test_pretraining_holds_out_the_test_split_and_scores_on_its_joined_sentences(tmp_path):
    from minibert.runs import DataSummary

    _write(tmp_path / "train.conll", _conll(SENTENCES[:2]))
    _write(tmp_path / "test.conll", _conll(SENTENCES[2:]))
    data = load_tagged_words(str(tmp_path))
    assert data.pretraining_text() == ["Ada Lovelace wrote notes", "She lived in London"]
    assert data.held_out_texts(1000) == ["Babbage met her in London"]
    summary = DataSummary.of(data)
    assert summary.validation_is_test and not summary.pairs and summary.scheme == "IOB2"


def test_conll_suffixes_mark_a_tagged_source_and_a_folder_by_its_train_file(tmp_path):
    assert is_conll_source(_write(tmp_path / "tiny.conll", _conll(SENTENCES)))
    assert not is_conll_source(str(tmp_path))  # no train file
    _write(tmp_path / "train.iob", _conll(SENTENCES))
    assert is_conll_source(str(tmp_path))
    # A .txt may hold any text: it reads as tagged words only when the task says so.
    text_folder = tmp_path / "text"
    text_folder.mkdir()
    assert not is_conll_source(_write(text_folder / "train.txt", _conll(SENTENCES)))
    assert not is_conll_source(str(text_folder)) and not is_conll_source("reviews.csv")


# Tables.


def _table(rows) -> pd.DataFrame:
    return pd.DataFrame({"tokens": [[word for word, _ in row] for row in rows],
                         "labels": [[tag for _, tag in row] for row in rows]})


def _write_table(frame: pd.DataFrame, path: pathlib.Path) -> str:
    if path.suffix == ".parquet":
        frame.to_parquet(path)
    else:
        frame.to_json(path, orient="records", lines=True)
    return str(path)


@pytest.mark.parametrize("suffix", [".parquet", ".jsonl"])
def test_tables_of_word_lists_and_tag_lists_read_and_drop_rows_without_words(tmp_path, suffix):
    frame = _table(SENTENCES)
    frame.loc[len(frame)] = [[], []]  # a row with no words: nothing to tag
    path = _write_table(frame, tmp_path / f"sentences{suffix}")
    data = load_tagged_words(path, words_column="tokens", tags_column="labels", validation_size=1)
    _assert_frames_have_the_promised_shape(data)
    assert sorted(_all_sentences(data)) == sorted([[tuple(pair) for pair in s] for s in SENTENCES])
    assert data.dropped_rows == 1
    assert "words column 'words' not found" in _error(path, tags_column="labels")


@pytest.mark.parametrize("suffix", [".parquet", ".jsonl"])
def test_a_row_whose_word_and_tag_counts_differ_names_file_and_row(tmp_path, suffix):
    frame = _table(SENTENCES)
    frame.at[1, "labels"] = ["O", "O"]
    path = _write_table(frame, tmp_path / f"uneven{suffix}")
    message = _error(path, words_column="tokens", tags_column="labels")
    assert f"uneven{suffix} row 2 has 4 words but 2 tags" in message


def test_a_table_in_a_folder_reads_and_text_file_column_flags_do_not_apply_to_it(tmp_path):
    _write_table(_table(SENTENCES).rename(columns={"tokens": "words", "labels": "tags"}),
                 tmp_path / "train.jsonl")
    _write(tmp_path / "test.conll", _conll(SENTENCES[:1]))
    data = load_tagged_words(str(tmp_path))
    assert len(data.train) == 3 and data.validation_split == "test"
    message = _error(str(tmp_path), word_column=1)
    assert "--word-column / --tag-column are for CoNLL text files" in message


def test_a_cell_that_is_text_not_a_list_names_file_row_and_column(tmp_path):
    path = tmp_path / "flat.jsonl"
    path.write_text(json.dumps({"words": "Ada wrote", "tags": ["B-PER", "O"]}) + "\n")
    assert "flat.jsonl row 1: column 'words' holds a str, not a list" in _error(str(path))


# Hugging Face.


def _write_hub_folder(folder, splits: dict, tag_names=("O", "B-PER", "I-PER", "B-LOC")):
    """A data set as the hub keeps one: a parquet file per split, whose features name the
    tags, and a README whose YAML names the splits."""
    datasets = pytest.importorskip("datasets")
    features = datasets.Features({
        "tokens": datasets.Sequence(datasets.Value("string")),
        "ner_tags": datasets.Sequence(datasets.ClassLabel(names=list(tag_names))),
    })
    entries = []
    for split, rows in splits.items():
        table = {"tokens": [[word for word, _ in row] for row in rows],
                 "ner_tags": [[tag_names.index(tag) if tag else -1 for _, tag in row]
                              for row in rows]}
        datasets.Dataset.from_dict(table, features=features).to_parquet(
            str(folder / f"{split}.parquet"))
        entries.append(f"  - split: {split}\n    path: {split}.parquet\n")
    (folder / "README.md").write_text(
        "---\nconfigs:\n- config_name: default\n  data_files:\n" + "".join(entries) + "---\n"
    )
    return f"hf:{folder}"


@pytest.fixture
def offline(monkeypatch):
    # No network here, nor in CI: datasets must answer from disk, not wait on the hub.
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")


def test_hugging_face_tag_names_come_from_the_class_label_feature(tmp_path, offline):
    hidden = [[("Who", None), ("knows", None)]]  # a test split whose tags the hub hides
    # conll2003 on the hub keeps its -DOCSTART- lines as rows.
    train = [[("-DOCSTART-", "O")]] + SENTENCES
    name = _write_hub_folder(tmp_path, {"train": train, "validation": SENTENCES[:1],
                                        "test": hidden})
    data = load_tagged_words(name, words_column="tokens", tags_column="ner_tags",
                             cache_dir=str(tmp_path / "cache"))
    _assert_frames_have_the_promised_shape(data)
    assert data.tag_names == ("O", "B-LOC", "B-PER", "I-PER") and data.scheme == "IOB2"
    assert len(data.train) == 3 and data.dropped_rows == 1
    assert data.validation_split == "validation" and not data.validation_is_test
    assert data.train["tags"][0] == ["B-PER", "I-PER", "O", "O"]


def test_hugging_face_reads_fail_in_one_line(tmp_path, offline):
    name = _write_hub_folder(tmp_path, {"train": SENTENCES + [[("Who", None)]]})
    cache = str(tmp_path / "cache")
    assert "words column 'words' not found in hf:" in _error(name, cache_dir=cache)
    message = _error(name, words_column="tokens", tags_column="ner_tags", cache_dir=cache)
    assert "train split row 4: column 'ner_tags' has a missing value at position 0" in message
    message = _error(name, words_column="tokens", tags_column="ner_tags", word_column=0,
                     cache_dir=cache)
    assert "--word-column / --tag-column are for CoNLL text files" in message


# The layer.


def test_the_module_reads_without_tensorflow_or_keras():
    # Token classification's data loads where the config and --help do: without TensorFlow.
    package = pathlib.Path(__file__).resolve().parents[2] / "minibert"
    # The reader, what it reads with, and the packages the parser imports it through.
    for module in ("tasks/token_classification/tagged_words", "data/tables", "data/hugging_face",
                   "tasks/__init__", "tasks/token_classification/__init__", "tasks/task"):
        tree = ast.parse((package / f"{module}.py").read_text(encoding="utf-8"))
        imported = {alias.name.split(".")[0] for node in ast.walk(tree)
                    if isinstance(node, ast.Import) for alias in node.names}
        imported |= {node.module.split(".")[0] for node in ast.walk(tree)
                     if isinstance(node, ast.ImportFrom) and node.module}
        assert not imported & {"tensorflow", "keras", "keras_hub"}, module
