"""Shared fixtures: a tiny generated review corpus and a tiny run configuration."""

import os
import random

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


@pytest.fixture
def reviews() -> pd.DataFrame:
    return make_reviews()


@pytest.fixture
def reviews_csv(tmp_path) -> str:
    path = tmp_path / "reviews.csv"
    make_reviews().to_csv(path, index=False)
    return str(path)
