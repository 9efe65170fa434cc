"""Shared fixtures: a tiny generated review corpus, and tiny runs trained once per session."""

import contextlib
import io
import os
import random
import shutil
import struct

# Quiet TensorFlow's start-up logs in every test process (and the subprocesses
# the CLI tests start, which inherit the environment).
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import pandas as pd
import pytest

POSITIVE_WORDS = "good great wonderful superb lovely fun brilliant".split()
NEGATIVE_WORDS = "bad awful boring terrible dull poor worst".split()
FILLER_WORDS = "the movie film was plot actor story and it a this i watched".split()


def make_reviews(num_rows=200, seed=0) -> pd.DataFrame:
    """Reviews whose label is given away by three sentiment words among filler."""
    rng = random.Random(seed)
    rows = []
    for index in range(num_rows):
        label = index % 2
        words = rng.choices(FILLER_WORDS, k=12)
        words += rng.choices(POSITIVE_WORDS if label else NEGATIVE_WORDS, k=3)
        rng.shuffle(words)
        rows.append((" ".join(words), label))
    return pd.DataFrame(rows, columns=["text", "label"])


TOPIC_WORDS = {
    "business": "market shares profit bank trade".split(),
    "science": "space research climate study planet".split(),
    "sports": "match goal season team coach".split(),
    "world": "election minister war border summit".split(),
}
NEWS_FILLER_WORDS = "the a report said on in today after new of".split()


def make_news(num_rows=320, seed=0) -> pd.DataFrame:
    """Headlines whose topic (a string label, 4 classes) is given away by three topic words."""
    rng = random.Random(seed)
    topics = sorted(TOPIC_WORDS)
    rows = []
    for index in range(num_rows):
        topic = topics[index % len(topics)]
        words = rng.choices(NEWS_FILLER_WORDS, k=8) + rng.choices(TOPIC_WORDS[topic], k=3)
        rng.shuffle(words)
        rows.append((" ".join(words), topic))
    return pd.DataFrame(rows, columns=["headline", "topic"])


def make_headline_pairs(num_rows=320, seed=0) -> pd.DataFrame:
    """Two headlines per row, labelled "same" when they share a topic, else "different"."""
    rng = random.Random(seed)
    topics = sorted(TOPIC_WORDS)

    def headline(topic):
        words = rng.choices(NEWS_FILLER_WORDS, k=6) + rng.choices(TOPIC_WORDS[topic], k=3)
        rng.shuffle(words)
        return " ".join(words)

    rows = []
    for index in range(num_rows):
        first = rng.choice(topics)
        second = first if index % 2 else rng.choice([t for t in topics if t != first])
        rows.append((headline(first), headline(second), "same" if index % 2 else "different"))
    return pd.DataFrame(rows, columns=["headline", "other_headline", "relation"])


def make_topic_documents(num_rows=320, seed=0) -> pd.DataFrame:
    """Documents of 3 to 6 sentences on one news topic each, labelled by topic.

    A sentence that follows another in its document shares its topic; one
    from a random document mostly does not, so next-sentence prediction has
    something to learn.
    """
    rng = random.Random(seed)
    topics = sorted(TOPIC_WORDS)
    rows = []
    for index in range(num_rows):
        topic = topics[index % len(topics)]
        sentences = []
        for _ in range(rng.randint(3, 6)):
            words = rng.choices(NEWS_FILLER_WORDS, k=4) + rng.choices(TOPIC_WORDS[topic], k=2)
            rng.shuffle(words)
            sentences.append(" ".join(words).capitalize() + ".")
        rows.append((" ".join(sentences), topic))
    return pd.DataFrame(rows, columns=["text", "label"])


def png_size(path) -> tuple[int, int]:
    """(width, height) from a PNG's header: the IHDR chunk opens right after the signature."""
    with open(path, "rb") as file:
        header = file.read(24)
    assert header[:8] == b"\x89PNG\r\n\x1a\n" and header[12:16] == b"IHDR", f"{path} is not a PNG"
    return struct.unpack(">II", header[16:24])


@pytest.fixture
def reviews() -> pd.DataFrame:
    return make_reviews()


@pytest.fixture
def reviews_csv(tmp_path) -> str:
    path = tmp_path / "reviews.csv"
    make_reviews().to_csv(path, index=False)
    return str(path)


def train_in_process(*arguments) -> str:
    """`python -m minibert ARGUMENTS` in this process (no TensorFlow start-up); what it printed."""
    from minibert.cli import main

    stdout = io.StringIO()
    with contextlib.redirect_stdout(stdout):
        returncode = main(list(arguments))
    assert returncode == 0, f"minibert {arguments} failed:\n{stdout.getvalue()}"
    return stdout.getvalue()


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory) -> dict:
    """One run of `train --preset tiny` on 240 reviews, for every test that only reads a run.

    Trained once per session, where each module used to train its own:
    predict, evaluate, embed, fill-mask, export, plots and the model card all
    read this folder. Two pretraining epochs, a fill-mask sentence and
    TensorBoard logs give the tests of those something to read. A test that
    would change the folder works on `copy_of_tiny_run` instead.
    """
    folder = tmp_path_factory.mktemp("tiny_run")
    csv = folder / "reviews.csv"
    make_reviews(240).to_csv(csv, index=False)
    run = folder / "run"
    stdout = train_in_process(
        "train", "--dataset", str(csv), "--preset", "tiny", "--output", str(run),
        "--mlm-epochs", "2", "--fill-mask-sentence", "the [mask] was great", "--tensorboard",
    )
    return {"run": run, "csv": csv, "stdout": stdout}


@pytest.fixture
def copy_of_tiny_run(tiny_run, tmp_path) -> dict:
    """`tiny_run` with its folder copied, for a test that writes into or deletes from it."""
    run = tmp_path / "run"
    shutil.copytree(tiny_run["run"], run)
    return dict(tiny_run, run=run)
