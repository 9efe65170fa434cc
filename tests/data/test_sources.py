"""Behaviours of `minibert.data.sources.load_dataset` on small files made in tmp_path."""

import json

import numpy as np
import pandas as pd
import pytest

from minibert.data import amazon, imdb
from minibert.data.sources import TextClassificationData, load_dataset
from minibert.data.tables import DataSourceError


def _reviews(count: int, label: int) -> list[str]:
    word = "great" if label == 1 else "awful"
    return [f"review {label}-{index}: a {word} film" for index in range(count)]


def _labelled_frame(positives: int, negatives: int) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "text": _reviews(positives, 1) + _reviews(negatives, 0),
            "label": [1] * positives + [0] * negatives,
            "file": [f"{index}_7.txt" for index in range(positives + negatives)],
        }
    )


def _write_tree(root, split, label_folder, texts):
    folder = root / split / label_folder
    folder.mkdir(parents=True, exist_ok=True)
    for index, text in enumerate(texts):
        (folder / f"{index}_5.txt").write_text(text, encoding="utf-8")


def _assert_frames_have_the_promised_shape(data: TextClassificationData):
    for frame in (data.train, data.validation):
        assert list(frame.columns) == ["text", "label"]
        assert frame["label"].dtype == np.int64
        assert isinstance(frame.index, pd.RangeIndex)
        assert all(isinstance(text, str) for text in frame["text"])
        assert set(frame["label"]) <= set(range(len(data.label_names)))
    assert list(data.unlabeled.columns) == ["text"]
    assert isinstance(data.unlabeled.index, pd.RangeIndex)


def test_aclimdb_tree_reads_train_test_and_unsup_with_test_as_validation(tmp_path):
    root = tmp_path / "download" / "aclImdb"
    _write_tree(root, "train", "pos", ["good movie", "loved it"])
    _write_tree(root, "train", "neg", ["bad movie"])
    _write_tree(root, "train", "unsup", ["some text", "more text", "even more"])
    _write_tree(root, "test", "pos", ["fine"])
    _write_tree(root, "test", "neg", ["dull", "boring"])

    # The parent of aclImdb/ is accepted too.
    data = load_dataset("imdb", data_dir=str(tmp_path / "download"))

    _assert_frames_have_the_promised_shape(data)
    assert data.name == "imdb"
    assert data.label_names == ("negative", "positive")
    assert data.validation_is_test
    assert sorted(zip(data.train["text"], data.train["label"])) == [
        ("bad movie", 0),
        ("good movie", 1),
        ("loved it", 1),
    ]
    assert sorted(zip(data.validation["text"], data.validation["label"])) == [
        ("boring", 0),
        ("dull", 0),
        ("fine", 1),
    ]
    assert len(data.unlabeled) == 3


def test_imdb_split_folder_carves_seeded_stratified_validation(tmp_path):
    folder = tmp_path / "IMDb_copy"
    folder.mkdir()
    _labelled_frame(50, 50).to_parquet(folder / "train.parquet")
    pd.DataFrame({"text": ["unlabelled one", "unlabelled two"], "file": ["a", "b"]}).to_parquet(
        folder / "unsup.parquet"
    )

    data = load_dataset(str(folder), validation_size=0.2, seed=7)
    again = load_dataset(str(folder), validation_size=0.2, seed=7)

    _assert_frames_have_the_promised_shape(data)
    assert data.name == "IMDb_copy"
    assert data.label_names == ("negative", "positive")  # the folder name says IMDb
    assert not data.validation_is_test
    assert (len(data.train), len(data.validation), len(data.unlabeled)) == (80, 20, 2)
    assert data.validation["label"].value_counts().to_dict() == {0: 10, 1: 10}
    assert set(data.train["text"]).isdisjoint(data.validation["text"])
    pd.testing.assert_frame_equal(data.validation, again.validation)
    pd.testing.assert_frame_equal(data.train, again.train)


def test_validation_size_of_one_or_more_is_a_row_count(tmp_path):
    folder = tmp_path / "imdb"
    folder.mkdir()
    _labelled_frame(30, 30).to_parquet(folder / "train.parquet")

    data = load_dataset("imdb", data_dir=str(folder), validation_size=10)

    assert (len(data.train), len(data.validation)) == (50, 10)
    with pytest.raises(DataSourceError, match="--validation-size"):
        load_dataset("imdb", data_dir=str(folder), validation_size=60)


def test_csv_split_folder_uses_its_test_file_and_unlabeled_file(tmp_path):
    folder = tmp_path / "reviews"
    folder.mkdir()
    _labelled_frame(4, 4).to_csv(folder / "train.csv", index=False)
    _labelled_frame(2, 1).to_csv(folder / "test.csv", index=False)
    pd.DataFrame({"text": ["just text"]}).to_csv(folder / "unlabeled.csv", index=False)

    data = load_dataset(str(folder))

    _assert_frames_have_the_promised_shape(data)
    assert data.validation_is_test
    assert (len(data.train), len(data.validation), len(data.unlabeled)) == (8, 3, 1)
    assert data.label_names == ("0", "1")  # integer labels outside IMDb are named by value


def test_jsonl_file_reads_the_chosen_columns_and_ignores_others(tmp_path):
    path = tmp_path / "tweets.jsonl"
    rows = [{"body": f"tweet {index}", "mood": index % 2, "id": index} for index in range(10)]
    path.write_text("\n".join(json.dumps(row) for row in rows) + "\n", encoding="utf-8")

    data = load_dataset(str(path), text_column="body", label_column="mood", validation_size=0.4)

    _assert_frames_have_the_promised_shape(data)
    assert data.name == "tweets.jsonl"
    assert (len(data.train), len(data.validation)) == (6, 4)
    assert len(data.unlabeled) == 0


def test_a_tsv_file_or_split_folder_is_read_as_a_csv_with_tabs(tmp_path):
    frame = _labelled_frame(5, 5)
    frame.loc[0, "text"] = 'a "quoted", comma\ttabbed review'
    frame.to_csv(tmp_path / "reviews.tsv", sep="\t", index=False)
    folder = tmp_path / "folder"
    folder.mkdir()
    frame.to_csv(folder / "train.tsv", sep="\t", index=False)
    frame.iloc[3:7].to_csv(folder / "test.tsv", sep="\t", index=False)

    for data in (load_dataset(str(tmp_path / "reviews.tsv")), load_dataset(str(folder))):
        _assert_frames_have_the_promised_shape(data)
        every_text = set(pd.concat([data.train, data.validation])["text"])
        assert 'a "quoted", comma\ttabbed review' in every_text
    assert len(data.validation) == 4  # the folder's test.tsv


def test_a_jsonl_line_that_is_not_json_is_named_by_file_and_line(tmp_path):
    path = tmp_path / "reviews.jsonl"
    lines = [json.dumps({"text": f"review {index}", "label": index % 2}) for index in range(400)]
    lines[299] = '{"text": "review 299, "label": 1}'
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")

    with pytest.raises(DataSourceError) as raised:
        load_dataset(str(path))
    message = str(raised.value)
    assert message.startswith(
        f"{path} line 300 is not valid JSON (Expecting ',' delimiter: column 24); "
    )
    assert "fix or remove that line" in message and "\n" not in message


def _write_hub_parquet(path, labels, titles, contents):
    pd.DataFrame({"label": labels, "title": titles, "content": contents}).to_parquet(path)


def test_amazon_downloads_hub_parquet_through_get_file(tmp_path, monkeypatch):
    served = tmp_path / "served"
    served.mkdir()
    _write_hub_parquet(served / "train-0.parquet", [0, 1], ["Bad", ""], ["broke.", "works well"])
    _write_hub_parquet(served / "train-1.parquet", [1, 0], ["Great CD", None], ["love it", "meh"])
    _write_hub_parquet(served / "test-0.parquet", [0, 1], ["No", "Yes"], ["bad", "good"])
    monkeypatch.setattr(
        amazon,
        "AMAZON_POLARITY_URLS",
        {
            "train": (f"file://{served}/train-0.parquet", f"file://{served}/train-1.parquet"),
            "test": (f"file://{served}/test-0.parquet",),
        },
    )
    cache_dir = tmp_path / "new" / "cache"  # get_file needs it to exist; the loader makes it

    data = load_dataset("amazon-polarity", cache_dir=str(cache_dir))

    _assert_frames_have_the_promised_shape(data)
    assert (cache_dir / "amazon_polarity" / "train-1.parquet").is_file()
    assert data.name == "amazon-polarity"
    assert data.label_names == ("negative", "positive")
    assert data.validation_is_test
    assert list(zip(data.train["text"], data.train["label"])) == [
        ("Bad. broke.", 0),
        ("works well", 1),
        ("Great CD. love it", 1),
        ("meh", 0),
    ]
    assert list(data.validation["text"]) == ["No. bad", "Yes. good"]


def test_amazon_download_failure_names_the_url_and_data_dir(tmp_path, monkeypatch):
    missing = f"file://{tmp_path}/nowhere/train-0.parquet"
    monkeypatch.setattr(amazon, "AMAZON_POLARITY_URLS", {"train": (missing,), "test": ()})

    with pytest.raises(DataSourceError) as raised:
        load_dataset("amazon-polarity", cache_dir=str(tmp_path / "cache"))

    message = str(raised.value)
    assert "\n" not in message
    assert missing in message
    assert "--data-dir PATH" in message


def test_amazon_original_csv_maps_labels_1_2_to_0_1_and_caps_rows(tmp_path):
    folder = tmp_path / "amazon_review_polarity_csv"
    folder.mkdir()
    lines = [f'"{1 + index % 2}","Title {index}","Content {index}"' for index in range(60)]
    (folder / "train.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (folder / "test.csv").write_text('"2","Nice","works"\n"1","","broke"\n', encoding="utf-8")

    data = load_dataset("amazon-polarity", data_dir=str(tmp_path), max_train_rows=20)

    _assert_frames_have_the_promised_shape(data)
    assert len(data.train) == 20
    assert data.train["label"].value_counts().to_dict() == {0: 10, 1: 10}
    for text, label in zip(data.train["text"], data.train["label"]):
        index = int(text.split()[1].rstrip("."))
        assert text == f"Title {index}. Content {index}"
        assert label == index % 2  # row index writes "1" (negative) when even, "2" when odd
    assert list(zip(data.validation["text"], data.validation["label"])) == [
        ("Nice. works", 1),
        ("broke", 0),
    ]


def test_sampling_is_deterministic_for_a_seed(tmp_path):
    path = tmp_path / "reviews.parquet"
    _labelled_frame(100, 100).to_parquet(path)

    def sample(seed):
        return load_dataset(str(path), max_train_rows=30, max_validation_rows=8, seed=seed)

    first, second, other = sample(1), sample(1), sample(2)

    assert (len(first.train), len(first.validation)) == (30, 8)
    pd.testing.assert_frame_equal(first.train, second.train)
    pd.testing.assert_frame_equal(first.validation, second.validation)
    assert list(first.train["text"]) != list(other.train["text"])


def test_string_labels_map_in_sorted_order_and_become_the_names(tmp_path):
    path = tmp_path / "moods.csv"
    moods = ["neutral", "positive", "negative"] * 10
    pd.DataFrame({"text": [f"text {index}" for index in range(30)], "y": moods}).to_csv(path)

    data = load_dataset(str(path), label_column="y")

    assert data.label_names == ("negative", "neutral", "positive")
    every_row = pd.concat([data.train, data.validation])
    assert every_row.set_index("text").loc["text 1", "label"] == 2  # "positive"


def test_labels_differing_only_by_whitespace_are_one_class(tmp_path):
    path = tmp_path / "moods.csv"
    moods = ["pos", " pos", "pos ", "neg", "neg\t", "  "] * 5
    pd.DataFrame({"text": [f"text {index}" for index in range(30)], "y": moods}).to_csv(path)

    data = load_dataset(str(path), label_column="y")

    assert data.label_names == ("neg", "pos")
    assert data.dropped_rows == 5  # a blank label is no label


def test_labels_differing_only_by_case_are_named_in_one_warning_line(tmp_path, capsys):
    path = tmp_path / "moods.csv"
    moods = ["pos", "POS", "neg", "Neg", "meh"] * 6
    pd.DataFrame({"text": [f"text {index}" for index in range(30)], "y": moods}).to_csv(path)

    data = load_dataset(str(path), label_column="y")

    assert data.label_names == ("Neg", "POS", "meh", "neg", "pos")  # kept apart, as given
    lines = capsys.readouterr().out.splitlines()
    assert lines == [
        "warning: labels 'Neg' and 'neg', 'POS' and 'pos' of 'moods.csv' differ only by case "
        "and are separate classes; spell each class one way in the data if they are one"
    ]


def test_a_label_column_of_ids_is_refused_naming_the_column_and_the_flag(tmp_path):
    path = tmp_path / "reviews.csv"
    frame = _labelled_frame(300, 300)
    frame["id"] = range(600)
    frame.to_csv(path, index=False)

    with pytest.raises(DataSourceError) as raised:
        load_dataset(str(path), label_column="id")
    assert str(raised.value) == (
        "label column 'id' of 'reviews.csv' has 600 classes in 600 rows, 600 of them with a single "
        "row, which no classifier can learn; pass --label-column with the column of classes"
    )


def test_a_few_classes_of_one_row_are_named_in_a_warning_and_train(tmp_path, capsys):
    path = tmp_path / "moods.csv"
    moods = ["positive", "negative"] * 10 + ["postive"]
    pd.DataFrame({"text": [f"text {index}" for index in range(21)], "y": moods}).to_csv(path)

    data = load_dataset(str(path), label_column="y")

    assert data.label_names == ("negative", "positive", "postive")
    assert capsys.readouterr().out.splitlines() == [
        "warning: classes ['postive'] of label column 'y' of 'moods.csv' have a single row each, "
        "too few to learn; check their spelling or drop them"
    ]


def test_two_class_data_gets_no_label_warning(tmp_path, capsys):
    path = tmp_path / "reviews.csv"
    _labelled_frame(3, 2).to_csv(path, index=False)
    load_dataset(str(path))
    assert capsys.readouterr().out == ""


def test_integer_labels_outside_0_to_k_map_in_sorted_order(tmp_path):
    path = tmp_path / "signs.csv"
    pd.DataFrame({"text": [f"t{index}" for index in range(10)], "label": [-1, 1] * 5}).to_csv(path)

    data = load_dataset(str(path))

    assert data.label_names == ("-1", "1")
    every_row = pd.concat([data.train, data.validation]).set_index("text")
    assert every_row.loc["t0", "label"] == 0 and every_row.loc["t1", "label"] == 1


def test_label_names_argument_overrides_and_must_match_the_classes(tmp_path):
    path = tmp_path / "reviews.csv"
    _labelled_frame(5, 5).to_csv(path, index=False)

    data = load_dataset(str(path), label_names=["bad", "good"])
    assert data.label_names == ("bad", "good")

    with pytest.raises(DataSourceError, match="has 3 names but the data has 2 classes"):
        load_dataset(str(path), label_names=["bad", "meh", "good"])


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        (
            {"label_column": "y"},
            "label column 'y' not found in train.csv; columns are ['text', 'sentiment']; "
            "pass --label-column",
        ),
        (
            {"text_column": "review", "label_column": "sentiment"},
            "text column 'review' not found in train.csv; columns are ['text', 'sentiment']; "
            "pass --text-column",
        ),
    ],
)
def test_missing_column_error_names_the_columns_and_the_flag(tmp_path, arguments, expected):
    folder = tmp_path / "data"
    folder.mkdir()
    table = pd.DataFrame({"text": ["a", "b"], "sentiment": [0, 1]})
    table.to_csv(folder / "train.csv", index=False)

    with pytest.raises(DataSourceError) as raised:
        load_dataset(str(folder), **arguments)

    assert str(raised.value) == expected


def test_tfds_failure_is_one_line_naming_imdb_and_data_dir(monkeypatch):
    tfds = pytest.importorskip("tensorflow_datasets")

    def offline(*args, **kwargs):
        raise ConnectionError("Failed to resolve 'ai.stanford.edu'\nmore detail")

    monkeypatch.setattr(tfds, "load", offline)
    monkeypatch.setattr(imdb, "_unreachable_reason", lambda tfds, cache_dir: None)

    with pytest.raises(DataSourceError) as raised:
        load_dataset("imdb")

    message = str(raised.value)
    assert "\n" not in message
    assert message.startswith("could not load 'imdb' through tensorflow-datasets (imdb_reviews)")
    assert "Failed to resolve" in message
    assert "--data-dir PATH" in message


def test_offline_imdb_fails_in_seconds_naming_the_host_and_data_dir(monkeypatch):
    tfds = pytest.importorskip("tensorflow_datasets")

    class NotPrepared:
        def is_prepared(self):
            return False

    def no_network(address, timeout):
        raise OSError("Name or service not known")

    def must_not_download(*args, **kwargs):
        raise AssertionError("tfds.load called although the host is unreachable")

    monkeypatch.setattr(tfds, "builder", lambda name, data_dir: NotPrepared())
    monkeypatch.setattr(imdb.socket, "create_connection", no_network)
    monkeypatch.setattr(tfds, "load", must_not_download)

    with pytest.raises(DataSourceError) as raised:
        load_dataset("imdb")

    message = str(raised.value)
    assert "ai.stanford.edu is unreachable (Name or service not known)" in message
    assert "--data-dir PATH" in message and "\n" not in message


def test_tfds_splits_become_frames_with_decoded_text(monkeypatch):
    tfds = pytest.importorskip("tensorflow_datasets")
    import tensorflow as tf

    def fake_load(name, split, as_supervised, data_dir):
        assert name == "imdb_reviews" and as_supervised
        assert split == ["train", "test", "unsupervised"]
        return [
            tf.data.Dataset.from_tensor_slices((texts, labels))
            for texts, labels in [
                (["a good film".encode(), b"a bad film", "caf\u00e9".encode()], [1, 0, 1]),
                ([b"fine", b"dull"], [1, 0]),
                ([b"unlabelled", b""], [-1, -1]),
            ]
        ]

    monkeypatch.setattr(tfds, "load", fake_load)
    monkeypatch.setattr(imdb, "_unreachable_reason", lambda tfds, cache_dir: None)

    data = load_dataset("imdb")

    _assert_frames_have_the_promised_shape(data)
    assert data.validation_is_test
    assert data.label_names == ("negative", "positive")
    assert list(data.train["text"]) == ["a good film", "a bad film", "caf\u00e9"]
    assert list(data.validation["label"]) == [1, 0]
    assert list(data.unlabeled["text"]) == ["unlabelled"]
    assert data.dropped_rows == 1  # the empty unlabelled review


def test_rows_without_text_or_label_are_dropped_and_counted(tmp_path):
    path = tmp_path / "messy.jsonl"
    rows = [{"text": f"fine {index}", "label": index % 2} for index in range(6)]
    rows += [
        {"text": None, "label": 1},
        {"text": "", "label": 0},
        {"text": "   \n", "label": 1},
        {"text": "no label", "label": None},
        {"text": 12345, "label": 0},  # numbers are text too
    ]
    path.write_text("\n".join(json.dumps(row) for row in rows), encoding="utf-8")

    data = load_dataset(str(path), validation_size=2)

    assert data.dropped_rows == 4
    every_text = set(data.train["text"]) | set(data.validation["text"])
    assert "12345" in every_text and len(every_text) == 7


def test_pretraining_text_excludes_validation_unless_asked():
    data = TextClassificationData(
        name="tiny",
        train=pd.DataFrame({"text": ["train a", "train b"], "label": [0, 1]}),
        validation=pd.DataFrame({"text": ["held out"], "label": [1]}),
        unlabeled=pd.DataFrame({"text": ["spare"]}),
        label_names=("negative", "positive"),
        validation_is_test=True,
    )

    assert data.pretraining_text() == ["train a", "train b", "spare"]
    assert data.pretraining_text(include_validation=True) == [
        "train a",
        "train b",
        "spare",
        "held out",
    ]


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        ({"text": ["a", "b", "c"], "label": [1, 1, 1]}, "has a single class"),
        ({"text": ["", " "], "label": [0, 1]}, "has no training rows"),
    ],
)
def test_single_class_or_empty_data_is_an_error(tmp_path, rows, expected):
    path = tmp_path / "bad.csv"
    pd.DataFrame(rows).to_csv(path, index=False)

    with pytest.raises(DataSourceError, match=expected):
        load_dataset(str(path))


def test_unknown_dataset_lists_the_accepted_values(tmp_path):
    with pytest.raises(DataSourceError) as raised:
        load_dataset(str(tmp_path / "nothing-here"))

    message = str(raised.value)
    assert "'imdb'" in message and "'amazon-polarity'" in message and ".jsonl" in message


def test_imdb_data_dir_that_is_not_a_folder_is_an_error(tmp_path):
    with pytest.raises(DataSourceError, match="--data-dir PATH"):
        load_dataset("imdb", data_dir=str(tmp_path / "missing"))


# === Text pairs ===


def _pair_table(tmp_path, rows=40):
    frame = pd.DataFrame(
        {
            "premise": [f"premise {index}" for index in range(rows)],
            "hypothesis": [f"hypothesis {index}" for index in range(rows)],
            "relation": ["entails", "contradicts"] * (rows // 2),
        }
    )
    frame.loc[3, "hypothesis"] = " "  # no second text: dropped like a missing text
    path = tmp_path / "pairs.csv"
    frame.to_csv(path, index=False)
    return path


def test_a_text_pair_column_gives_frames_of_two_texts_and_pretraining_text_of_both(tmp_path):
    data = load_dataset(
        str(_pair_table(tmp_path)), text_column="premise", text_pair_column="hypothesis",
        label_column="relation", validation_size=10,
    )
    assert data.has_pairs
    for frame in (data.train, data.validation):
        assert list(frame.columns) == ["text", "text_pair", "label"]
        assert frame["text"].str.startswith("premise").all()
        assert frame["text_pair"].str.startswith("hypothesis").all()
        # Each row keeps its own pair.
        assert (frame["text"].str.split().str[1] == frame["text_pair"].str.split().str[1]).all()
    assert data.dropped_rows == 1 and len(data.train) + len(data.validation) == 39
    assert data.label_names == ("contradicts", "entails")
    texts = data.pretraining_text()
    assert len(texts) == 2 * len(data.train)
    assert "premise 0" in texts and "hypothesis 0" in texts


def test_single_text_data_has_no_pairs(tmp_path):
    path = tmp_path / "reviews.csv"
    _labelled_frame(10, 10).to_csv(path, index=False)
    assert not load_dataset(str(path)).has_pairs


def test_a_missing_text_pair_column_names_the_columns_and_the_flag(tmp_path):
    with pytest.raises(DataSourceError, match=r"text pair column 'second'.*--text-pair-column"):
        load_dataset(
            str(_pair_table(tmp_path)), text_column="premise", text_pair_column="second",
            label_column="relation",
        )


def test_a_named_single_text_dataset_refuses_a_text_pair_column():
    with pytest.raises(DataSourceError, match="one text per row"):
        load_dataset("imdb", text_pair_column="other")


def _films_parquet(tmp_path, films=60, seed=0):
    """A folder whose train.parquet has 1 to 9 reviews per film, labels mixed within films."""
    rng = np.random.default_rng(seed)
    rows = []
    for film in range(films):
        for review in range(int(rng.integers(1, 10))):
            rows.append((f"review {review} of film {film}", (film + review) % 2, f"tt{film:07d}"))
    folder = tmp_path / "films"
    folder.mkdir()
    pd.DataFrame(rows, columns=["text", "label", "movie"]).to_parquet(folder / "train.parquet")
    return folder, len(rows)


def test_group_column_holds_out_whole_films_that_train_never_sees(tmp_path):
    folder, total = _films_parquet(tmp_path)
    data = load_dataset(str(folder), group_column="movie", validation_size=0.2, seed=3)
    _assert_frames_have_the_promised_shape(data)  # the group column is not handed on
    film_of = lambda frame: {text.rsplit(" ", 1)[1] for text in frame["text"]}  # noqa: E731
    assert not film_of(data.train) & film_of(data.validation)
    assert len(data.validation) == round(total * 0.2)
    assert len(data.train) + len(data.validation) == total
    assert data.validation_groups == len(film_of(data.validation)) and data.group_column == "movie"
    again = load_dataset(str(folder), group_column="movie", validation_size=0.2, seed=3)
    assert again.validation["text"].tolist() == data.validation["text"].tolist()
    other = load_dataset(str(folder), group_column="movie", validation_size=0.2, seed=4)
    assert other.validation["text"].tolist() != data.validation["text"].tolist()


def test_without_a_group_column_a_random_split_shares_films_with_train(tmp_path):
    # What the group column is for: the stratified split mixes films across the two.
    folder, _ = _films_parquet(tmp_path)
    data = load_dataset(str(folder), validation_size=0.2, seed=3)
    film_of = lambda frame: {text.rsplit(" ", 1)[1] for text in frame["text"]}  # noqa: E731
    assert film_of(data.train) & film_of(data.validation)


def test_rows_without_a_group_are_groups_of_one(tmp_path):
    frame = pd.DataFrame({
        "text": [f"review {i}" for i in range(40)], "label": [i % 2 for i in range(40)],
        "movie": ["tt1"] * 10 + [None] * 30,
    })
    frame.to_csv(tmp_path / "reviews.csv", index=False)
    data = load_dataset(str(tmp_path / "reviews.csv"), group_column="movie", validation_size=10)
    assert len(data.validation) == 10 and len(data.train) == 30


@pytest.mark.parametrize(
    "dataset, layout, expected",
    [
        ("imdb", None, "has no group column"),
        ("folder", "no column", "group column 'movie' not found"),
        ("folder", "test split", "drop it"),
    ],
)
def test_a_group_column_that_cannot_split_fails_in_one_line(tmp_path, dataset, layout, expected):
    if dataset == "folder":
        folder, _ = _films_parquet(tmp_path)
        dataset = str(folder)
        frame = pd.read_parquet(folder / "train.parquet")
        if layout == "no column":
            frame.drop(columns="movie").to_parquet(folder / "train.parquet")
        else:
            frame.to_parquet(folder / "test.parquet")
    with pytest.raises(DataSourceError, match=expected) as error:
        load_dataset(dataset, group_column="movie")
    assert "\n" not in str(error.value)
