"""`--task` and the flags that read sentences of tagged words: what each command reads, what it
refuses, the most-frequent-tag baseline and pretraining on a tagged corpus."""

import json

import pytest
from conftest import make_reviews

from minibert.cli import build_parser, main
from minibert.cli.commands import data_task, load_data
from minibert.cli.run_flags import destination
from minibert.tasks import TASK_NAMES, classification, token_classification
from minibert.tasks.token_classification.tagged_words import SCHEMES, TaggedWordsData

TASK_COMMANDS = ("train", "finetune", "baseline")
# Sentences of tagged words, IOB2: people and places, enough for a tiny run.
NAMES = [("Ada", "Lovelace"), ("Grace", "Hopper"), ("Alan", "Turing"), ("Edsger", "Dijkstra")]
PLACES = ["London", "Paris", "Vienna", "Boston"]


def _sentences(count):
    sentences = []
    for index in range(count):
        first, last = NAMES[index % len(NAMES)]
        place = PLACES[index // len(NAMES) % len(PLACES)]
        sentences.append([(first, "B-person"), (last, "I-person"), ("lived", "O"), ("in", "O"),
                          (place, "B-location")])
    return sentences


def _write_conll(path, sentences, tag_first=False):
    path.write_text("\n".join(
        "".join(f"{tag} {word}\n" if tag_first else f"{word}\t{tag}\n" for word, tag in sentence)
        for sentence in sentences
    ), encoding="utf-8")
    return str(path)


def _arguments(command, *flags):
    """Parsed flags of `command` (finetune gets its required --from)."""
    return build_parser().parse_args(
        [command, *(["--from", "RUN"] if command == "finetune" else []), *flags]
    )


def _refusal(args) -> str:
    with pytest.raises(ValueError) as error:
        data_task(args)
    assert "\n" not in str(error.value)
    return str(error.value)


def test_task_names_are_the_tables_in_its_order_classification_first():
    from minibert.tasks.table import TASKS

    assert tuple(TASKS) == TASK_NAMES and TASK_NAMES[0] == "classification"
    assert all(TASKS[name].name == name for name in TASK_NAMES)


@pytest.mark.parametrize("command", TASK_COMMANDS)
def test_task_takes_the_task_names_and_defaults_to_classification(command):
    assert _arguments(command).task == "classification"
    assert _arguments(command, "--task", "token-classification").task == "token-classification"
    with pytest.raises(SystemExit):
        _arguments(command, "--task", "tagging")


def test_commands_that_read_no_tagged_words_take_none_of_their_flags():
    for command in (["embed", "RUN"], ["bench"]):
        for flag in ("--task", "--word-column"):
            with pytest.raises(SystemExit):
                build_parser().parse_args([*command, flag, "1"])
    # evaluate reads its run's task, and the tagged words' flags with it.
    with pytest.raises(SystemExit):
        build_parser().parse_args(["evaluate", "RUN", "--task", "token-classification"])
    assert build_parser().parse_args(["evaluate", "RUN", "--word-column", "1"]).word_column == 1


def test_tag_scheme_takes_auto_and_the_readers_schemes():
    for scheme in ("auto", *SCHEMES):
        assert _arguments("train", "--tag-scheme", scheme).tag_scheme == scheme
    with pytest.raises(SystemExit):
        _arguments("train", "--tag-scheme", "BILOU")


# A value each of the tagged-words flags takes.
TAGGED_WORDS_VALUES = {"--word-column": "1", "--tag-column": "0", "--words-column": "tokens",
                       "--tags-column": "ner_tags", "--tag-scheme": "IOB1"}


@pytest.mark.parametrize("flag", tuple(token_classification.DATA_FLAGS))
@pytest.mark.parametrize("command", TASK_COMMANDS + ("pretrain",))
def test_a_tagged_words_flag_with_the_classification_task_is_refused(command, flag):
    args = _arguments(command, "--dataset", "reviews.csv", flag, TAGGED_WORDS_VALUES[flag])
    assert f"{flag} reads sentences of tagged words; pass --task token-classification" in _refusal(args)


@pytest.mark.parametrize("flag, value", [
    ("--text-column", "review"), ("--label-column", "stars"), ("--text-pair-column", "b"),
    ("--group-column", "movie"), ("--label-names", "bad"), ("--max-validation-rows", "5"),
    ("--data-dir", "imdb"),
])
def test_a_classification_flag_with_token_classification_is_refused(flag, value):
    # The refusal knows each flag's default: left at it, a flag counts as not given.
    assert getattr(_arguments("train"), destination(flag)) == classification.DATA_FLAGS[flag]
    args = _arguments("train", "--task", "token-classification", "--dataset", "ner", flag, value)
    message = _refusal(args)
    assert f"{flag} is for classification data, not --task token-classification" in message
    assert "--words-column/--tags-column" in message


def test_a_conll_source_with_the_classification_task_points_to_the_task_flag(tmp_path):
    conll = _write_conll(tmp_path / "wnut.conll", _sentences(4))
    for args in (_arguments("train", "--dataset", conll),
                 _arguments("pretrain", "--task", "classification", "--dataset", conll)):
        assert _refusal(args) == (f"{conll} holds tagged words (CoNLL-style); pass --task "
                                  "token-classification to tag its words")


def test_commands_without_the_task_flag_refuse_a_conll_source_as_not_theirs(tmp_path):
    conll = _write_conll(tmp_path / "wnut.conll", _sentences(4))
    for command in (["evaluate", "RUN"], ["embed", "RUN"], ["bench"]):
        args = build_parser().parse_args([*command, "--dataset", conll])
        assert _refusal(args) == (f"{conll} holds tagged words (CoNLL-style); {command[0]} reads "
                                  "texts and labels")


def test_pretrain_reads_a_conll_source_as_tagged_words_without_the_task_flag(tmp_path):
    _write_conll(tmp_path / "train.conll", _sentences(4))
    assert data_task(_arguments("pretrain", "--dataset", str(tmp_path))).name == "token-classification"
    assert data_task(_arguments("pretrain", "--dataset", "reviews.csv")).name == "classification"
    # Tables of word lists carry no telling suffix: the flag says how to read them.
    tagged_table = _arguments("pretrain", "--task", "token-classification", "--dataset", "x.jsonl")
    assert data_task(tagged_table).name == "token-classification"


def test_load_data_reads_tagged_words_with_every_flag_passed_through(tmp_path):
    conll = _write_conll(tmp_path / "tags_first.txt", _sentences(20), tag_first=True)
    args = _arguments(
        "train", "--task", "token-classification", "--dataset", conll, "--word-column", "1",
        "--tag-column", "0", "--tag-scheme", "IOB1", "--validation-size", "5",
        "--max-train-rows", "8", "--seed", "3",
    )
    data = load_data(args, seed=3)
    assert isinstance(data, TaggedWordsData)
    assert data.scheme == "IOB1" and len(data.validation) == 5 and len(data.train) == 8
    assert all(words[2:4] == ["lived", "in"] for words in data.train["words"])
    assert data.tag_names == ("O", "B-location", "B-person", "I-person")
    # The same seed carves the same sentences; another seed others.
    assert load_data(args, seed=3).validation["words"].tolist() == data.validation["words"].tolist()
    assert load_data(args, seed=4).validation["words"].tolist() != data.validation["words"].tolist()


def test_train_and_finetune_hand_the_task_and_its_data_to_the_recipe(tmp_path, monkeypatch):
    import minibert.training
    from minibert.cli import commands
    from minibert.config import get_preset

    conll = _write_conll(tmp_path / "people.conll", _sentences(10))
    received = []

    def recipe(data, *_, **keywords):
        received.append((data, keywords["task"].name))

    monkeypatch.setattr(minibert.training, "run", recipe)
    monkeypatch.setattr(minibert.training, "finetune_run", recipe)
    pretrained = type("Pretrained", (), {"read_config": lambda self: get_preset("tiny")})()
    monkeypatch.setattr(commands, "pretrained_run", lambda path: pretrained)
    tagged = ["--task", "token-classification", "--dataset", conll, "--output", str(tmp_path)]
    commands.command_train(_arguments("train", "--preset", "tiny", *tagged))
    commands.command_finetune(_arguments("finetune", *tagged))
    reviews = tmp_path / "reviews.csv"
    make_reviews(40).to_csv(reviews, index=False)
    commands.command_train(_arguments("train", "--preset", "tiny", "--dataset", str(reviews)))
    assert [task for _, task in received] == ["token-classification"] * 2 + ["classification"]
    assert all(isinstance(data, TaggedWordsData) for data, _ in received[:2])
    assert list(received[2][0].train.columns) == ["text", "label"]


def test_embed_refuses_a_token_classification_run_in_one_line(tmp_path, capsys):
    command = "embed"
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.json").write_text(json.dumps({"task": "token-classification", "seed": 42}))
    conll = _write_conll(tmp_path / "wnut.conll", _sentences(4))
    assert main([command, str(run), "--dataset", conll]) == 2
    assert capsys.readouterr().err == (
        f"error: {command} reads classification runs, and {run} is a token-classification run; "
        f"its validation figures are in {run / 'metrics.json'}\n"
    )


def test_a_column_flag_that_does_not_fit_the_source_fails_in_one_line(tmp_path, capsys):
    conll = _write_conll(tmp_path / "wnut.conll", _sentences(4))
    assert main(["baseline", "--task", "token-classification", "--dataset", conll,
                 "--words-column", "tokens"]) == 2
    error = capsys.readouterr().err.strip()
    assert error == (f"error: --words-column/--tags-column name a table's columns, not those of "
                     f"the CoNLL-style {conll}; pass --word-column/--tag-column (indices)")
    table = tmp_path / "sentences.jsonl"
    table.write_text('{"words": ["Ada"], "tags": ["B-person"]}\n')
    assert main(["baseline", "--task", "token-classification", "--dataset", str(table),
                 "--word-column", "1"]) == 2
    error = capsys.readouterr().err.strip()
    assert "--word-column / --tag-column are for CoNLL text files" in error and "\n" not in error


def test_baseline_tags_each_word_with_its_most_frequent_tag_and_scores_by_entity(tmp_path, capsys):
    _write_conll(tmp_path / "train.conll", _sentences(8))
    # Test: a known person, places known (one only lowercased), a person never seen in train.
    _write_conll(tmp_path / "test.conll", [
        [("Ada", "B-person"), ("Lovelace", "I-person"), ("lived", "O"), ("in", "O"),
         ("paris", "B-location")],
        [("Barbara", "B-person"), ("Liskov", "I-person"), ("lived", "O"), ("in", "O"),
         ("London", "B-location")],
    ])
    assert main(["baseline", "--task", "token-classification", "--dataset", str(tmp_path)]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    # 3 of 4 entities found (Liskov's unseen name is not), none wrong.
    assert lines[0] == (
        f"most frequent tag per word on {tmp_path.name}: entity F1 0.8571 (precision 1.0000, "
        "recall 0.7500), token accuracy 0.8000 on 2 sentences (the test split), trained on 8 in 0 s"
    )
    assert lines[1:] == [
        "  location: F1 1.0000 (precision 1.0000, recall 1.0000; 2 entities)",
        "  person: F1 0.6667 (precision 1.0000, recall 0.5000; 2 entities)",
    ]


@pytest.mark.slow
def test_pretrain_on_a_conll_file_pretrains_on_its_sentences(tmp_path):
    conll = _write_conll(tmp_path / "people.conll", _sentences(40))
    run = tmp_path / "run"
    assert main(["pretrain", "--dataset", conll, "--preset", "tiny", "--validation-size", "8",
                 "--output", str(run)]) == 0
    assert (run / "mlm.keras").is_file()
    config = json.loads((run / "config.json").read_text())
    assert config["data"]["name"] == "people.conll"
    assert (config["data"]["train"], config["data"]["validation"]) == (32, 8)
    vocabulary = (run / "vocabulary.txt").read_text().split("\n")
    # The words, not the tags, are what it read.
    assert "lovelace" in {word.lower() for word in vocabulary}
    assert not {"b-person", "i-person"} & {word.lower() for word in vocabulary}
