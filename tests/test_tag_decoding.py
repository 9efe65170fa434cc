"""Constrained tag decoding: the most probable sequence of tags the scheme allows."""

import itertools

import numpy as np
import pytest
import tensorflow as tf

from minibert.tasks.token_classification.tag_decoding import (
    served_decode_tags,
    tag_decoder,
    transition_scores,
    viterbi,
)
from minibert.tasks.token_classification.tag_spans import entities

SCHEMES = {
    "IOB2": ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"],
    "IOB1": ["O", "I-PER", "B-PER", "I-LOC", "B-LOC"],
    "IOBES": ["O", "B-PER", "I-PER", "E-PER", "S-PER", "B-LOC", "I-LOC", "E-LOC", "S-LOC"],
}


def well_formed(tags, scheme) -> bool:
    """Whether `tags` is a sequence the scheme writes."""
    previous = "O"
    for tag in tags:
        prefix, _, entity_type = tag.partition("-")
        previous_prefix, _, previous_type = previous.partition("-")
        continues = entity_type == previous_type and previous_prefix in ("B", "I")
        if scheme == "IOB2" and prefix == "I" and not continues:
            return False
        if scheme == "IOB1" and prefix == "B" and not continues:
            return False
        if scheme == "IOBES":
            if prefix in ("I", "E") and not continues:
                return False
            if prefix in ("B", "S", "O") and previous_prefix in ("B", "I"):
                return False
        previous = tag
    return not (scheme == "IOBES" and previous.partition("-")[0] in ("B", "I"))


@pytest.mark.parametrize("scheme", sorted(SCHEMES))
def test_a_constrained_path_is_always_one_the_scheme_writes_and_the_most_probable_of_those(scheme):
    names = SCHEMES[scheme]
    decode = tag_decoder("viterbi", names, scheme)
    argmax = tag_decoder("argmax", names, scheme)
    rng = np.random.default_rng(0)
    ill_formed_argmax = 0
    for _ in range(60):
        words = int(rng.integers(1, 5))
        probabilities = rng.dirichlet(np.full(len(names), 0.3), size=words)
        path = [names[index] for index in decode(probabilities)]
        assert well_formed(path, scheme), path
        ill_formed_argmax += not well_formed([names[i] for i in argmax(probabilities)], scheme)
        # The best of every well-formed path, by brute force.
        best = max((candidate for candidate in itertools.product(names, repeat=words)
                    if well_formed(candidate, scheme)),
                   key=lambda candidate: sum(np.log(probabilities[position, names.index(tag)])
                                             for position, tag in enumerate(candidate)))
        assert path == list(best)
    assert ill_formed_argmax > 0  # the check above had ill-formed argmax paths to correct


def test_a_constrained_path_never_starts_with_i_and_keeps_the_entity_argmax_would_cut():
    names = SCHEMES["IOB2"]
    # The argmax reads `I-PER I-PER`: conlleval counts a person, a strict reading none.
    probabilities = np.array([[0.2, 0.3, 0.5, 0, 0], [0.1, 0.1, 0.8, 0, 0]]) + 1e-6
    path = [names[index] for index in tag_decoder("viterbi", names, "IOB2")(probabilities)]
    assert path == ["B-PER", "I-PER"] and entities(path) == [("PER", 0, 2)]
    start, transitions, end = transition_scores(names, "IOB2")
    assert viterbi(np.log(probabilities[:1]), start, transitions, end).tolist() == [1]


@pytest.mark.parametrize("scheme", sorted(SCHEMES))
def test_the_served_decoder_finds_the_paths_the_python_one_does(scheme):
    names = SCHEMES[scheme]
    rng = np.random.default_rng(1)
    probabilities = rng.dirichlet(np.ones(len(names)), size=(5, 6)).astype("float32")
    num_words = np.array([6, 3, 1, 0, 4])
    served = served_decode_tags(tf.constant(probabilities), tf.constant(num_words), "viterbi",
                                names, scheme).numpy()
    decode = tag_decoder("viterbi", names, scheme)
    for row, count in enumerate(num_words):
        assert served[row, :count].tolist() == decode(probabilities[row, :count]).tolist()
    no_words = served_decode_tags(tf.zeros((2, 0, len(names))), tf.constant([0, 0]), "viterbi",
                                  names, scheme)
    assert tuple(no_words.shape) == (2, 0)


def test_an_unknown_decoding_is_refused_in_one_line():
    with pytest.raises(ValueError, match="decoding 'crf' is not one of"):
        tag_decoder("crf", SCHEMES["IOB2"], "IOB2")
