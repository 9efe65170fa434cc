"""Entity spans, entity-level precision, recall and F1, and the most-frequent-tag baseline.

The figures are counted by hand from conlleval's rules: an entity is correct only when its
type, first word and last word all match a true entity.
"""

import json

import pytest

from minibert.tasks.token_classification.baseline import most_frequent_tag_baseline
from minibert.tasks.token_classification.metrics import (
    entities,
    format_tagging_report,
    tagging_report,
)


def test_iob2_entities_start_at_b_and_end_before_o_b_or_another_type():
    tags = ["B-person", "I-person", "O", "B-location", "B-location", "I-location", "B-group"]
    assert entities(tags) == [
        ("person", 0, 2), ("location", 3, 4), ("location", 4, 6), ("group", 6, 7),
    ]


def test_an_i_tag_after_o_or_another_type_starts_an_entity_as_in_conlleval():
    assert entities(["O", "I-person", "I-person"]) == [("person", 1, 3)]
    assert entities(["I-person"]) == [("person", 0, 1)]
    assert entities(["B-person", "I-location", "I-location"]) == [
        ("person", 0, 1), ("location", 1, 3),
    ]


def test_iob1_separates_touching_entities_of_one_type_with_b():
    tags = ["I-person", "I-person", "B-person", "O", "I-location", "I-group"]
    assert entities(tags, scheme="IOB1") == [
        ("person", 0, 2), ("person", 2, 3), ("location", 4, 5), ("group", 5, 6),
    ]


def test_iobes_s_is_one_word_and_e_ends_an_entity():
    tags = ["S-person", "S-person", "B-location", "I-location", "E-location", "O", "E-group"]
    assert entities(tags, scheme="IOBES") == [
        ("person", 0, 1), ("person", 1, 2), ("location", 2, 5), ("group", 6, 7),
    ]
    # After E-, an I- or E- starts a new entity; so does one after S-.
    assert entities(["B-product", "E-product", "I-product", "S-product", "E-product"], "IOBES") == [
        ("product", 0, 2), ("product", 2, 3), ("product", 3, 4), ("product", 4, 5),
    ]


def test_types_may_hold_hyphens():
    assert entities(["B-creative-work", "I-creative-work", "O"]) == [("creative-work", 0, 2)]


def test_tags_outside_the_scheme_are_refused_in_one_line():
    with pytest.raises(ValueError, match=r"tag 'S-person' at word 1 is not 'O' or B-/I-") as error:
        entities(["O", "S-person"], scheme="IOB2")
    assert "\n" not in str(error.value) and "IOBES" in str(error.value)
    with pytest.raises(ValueError, match=r"tag 'person' at word 0"):
        entities(["person"])
    with pytest.raises(ValueError, match=r"scheme 'BIO' is not one of \['IOB1', 'IOB2', 'IOBES'\]"):
        entities(["O"], scheme="BIO")


TRUE_TAGS = [
    ["B-person", "I-person", "O", "B-location", "O"],  # person 0-2, location 3-4
    ["B-group", "I-group", "O", "B-person", "O"],  # group 0-2, person 3-4
]
PREDICTED_TAGS = [
    ["B-person", "I-person", "O", "B-group", "O"],  # person right; right span, wrong type
    ["B-group", "O", "O", "B-person", "B-person"],  # group cut short; person right; one extra
]


def test_per_type_and_micro_figures_match_hand_counts():
    report = tagging_report(TRUE_TAGS, PREDICTED_TAGS)
    # person: 2 true, 3 predicted, 2 correct. location: 1 true, none predicted.
    # group: 1 true, 2 predicted (a wrong type, a partial span), none correct.
    assert report["per_type"] == {
        "group": {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1, "predicted": 2,
                  "correct": 0},
        "location": {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1, "predicted": 0,
                     "correct": 0},
        "person": {"precision": pytest.approx(2 / 3), "recall": 1.0, "f1": pytest.approx(0.8),
                   "support": 2, "predicted": 3, "correct": 2},
    }
    # Micro: 2 correct of 5 predicted and of 4 true.
    assert report["precision"] == pytest.approx(0.4) and report["recall"] == pytest.approx(0.5)
    assert report["f1"] == pytest.approx(2 * 0.4 * 0.5 / 0.9)
    assert (report["support"], report["predicted"], report["correct"]) == (4, 5, 2)
    # 10 words, 3 tags differ (B-location/B-group, I-group/O, O/B-person).
    assert report["token_accuracy"] == pytest.approx(0.7)
    assert (report["sentences"], report["words"], report["scheme"]) == (2, 10, "IOB2")
    assert json.loads(json.dumps(report)) == report


def test_the_right_span_with_the_wrong_type_counts_as_wrong():
    report = tagging_report([["O", "B-person", "I-person"]], [["O", "B-location", "I-location"]])
    assert (report["precision"], report["recall"], report["f1"]) == (0.0, 0.0, 0.0)
    assert report["per_type"]["location"]["predicted"] == 1
    assert report["per_type"]["person"]["support"] == 1


@pytest.mark.parametrize(
    "predicted",
    [
        ["B-person", "I-person", "O", "O"],  # too short
        ["O", "B-person", "I-person", "O"],  # starts late
        ["B-person", "I-person", "I-person", "I-person"],  # too long
        ["O", "I-person", "I-person", "O"],  # conlleval starts it at the I-: one word late
    ],
)
def test_partial_spans_count_as_wrong(predicted):
    report = tagging_report([["B-person", "I-person", "I-person", "O"]], [predicted])
    assert report["correct"] == 0 and report["f1"] == 0.0


def test_an_i_tag_after_o_is_scored_as_the_entity_it_starts():
    # A strict reading would drop the predicted entity; conlleval counts it correct.
    report = tagging_report([["O", "B-person", "I-person"]], [["O", "I-person", "I-person"]])
    assert (report["precision"], report["recall"], report["f1"]) == (1.0, 1.0, 1.0)


def test_iob1_and_iobes_reports_count_their_own_entities():
    iob1 = tagging_report([["I-person", "B-person"]], [["I-person", "I-person"]], scheme="IOB1")
    assert (iob1["support"], iob1["predicted"], iob1["correct"]) == (2, 1, 0)
    iobes = tagging_report(
        [["S-person", "B-group", "E-group"]], [["S-person", "B-group", "I-group"]], scheme="IOBES"
    )
    # The predicted group has no E- yet still ends at the sentence's end, as in conlleval.
    assert (iobes["support"], iobes["predicted"], iobes["correct"]) == (2, 2, 2)
    assert iobes["token_accuracy"] == pytest.approx(2 / 3)


def test_no_entities_at_all_scores_zero_without_dividing_by_zero():
    report = tagging_report([["O", "O"], ["O"]], [["O", "O"], ["O"]])
    assert (report["precision"], report["recall"], report["f1"]) == (0.0, 0.0, 0.0)
    assert report["per_type"] == {} and report["token_accuracy"] == 1.0
    empty = tagging_report([], [])
    assert (empty["f1"], empty["token_accuracy"], empty["words"]) == (0.0, 0.0, 0)


def test_mismatched_lengths_are_refused_in_one_line():
    with pytest.raises(ValueError, match=r"sentence 1 has 3 true tags but 2 predicted tags; "):
        tagging_report([["O"], ["O", "O", "B-person"]], [["O"], ["O", "O"]])
    with pytest.raises(ValueError, match=r"true_tags has 2 sentences but predicted_tags has 1; "):
        tagging_report([["O"], ["O"]], [["O"]])
    with pytest.raises(ValueError, match=r"predicted_tags\[0\] is the string 'O', not a list"):
        tagging_report([["O"]], ["O"])
    with pytest.raises(ValueError, match=r"predicted_tags\[1\]: tag 'PER' at word 0") as error:
        tagging_report([["O"], ["O"]], [["O"], ["PER"]])
    assert "\n" not in str(error.value)


def test_format_tagging_report_is_the_validation_line():
    report = tagging_report(TRUE_TAGS, PREDICTED_TAGS)
    assert format_tagging_report(report) == (
        "entity F1 0.4444 (precision 0.4000, recall 0.5000), token accuracy 0.7000"
    )


TRAIN_WORDS = [["Paris", "is", "nice"], ["Paris", "Hilton", "sings"], ["I", "love", "Paris"],
               ["apple", "pie"], ["Apple", "shares"], ["Apple", "Music"]]
TRAIN_TAGS = [["B-location", "O", "O"], ["B-person", "I-person", "O"], ["O", "O", "B-location"],
              ["O", "O"], ["B-corporation", "O"], ["B-product", "I-product"]]


def test_baseline_tags_each_word_with_its_most_frequent_training_tag():
    predicted = most_frequent_tag_baseline(
        TRAIN_WORDS, TRAIN_TAGS, [["Paris", "Hilton", "is", "nice"], ["Zorblax", "sings"]]
    )
    # Paris: B-location twice, B-person once. Zorblax was never seen: O.
    assert predicted == [["B-location", "I-person", "O", "O"], ["O", "O"]]


def test_baseline_breaks_ties_by_the_tag_seen_first():
    # Apple: B-corporation once, then B-product once.
    assert most_frequent_tag_baseline(TRAIN_WORDS, TRAIN_TAGS, [["Apple"]]) == [["B-corporation"]]


def test_baseline_looks_words_up_as_written_then_lowercased():
    # "apple" was seen as written (O), so its case-sensitive tag wins over "Apple"'s.
    # "PARIS" and "music" were not: their lowercased forms pool every case seen in training.
    predicted = most_frequent_tag_baseline(TRAIN_WORDS, TRAIN_TAGS, [["apple", "PARIS", "music"]])
    assert predicted == [["O", "B-location", "I-product"]]


def test_baseline_refuses_training_words_and_tags_that_do_not_pair():
    with pytest.raises(ValueError, match=r"training sentence 1 has 2 words but 1 tags; "):
        most_frequent_tag_baseline([["a"], ["b", "c"]], [["O"], ["O"]], [["a"]])
    with pytest.raises(ValueError, match=r"train_words has 2 sentences but train_tags has 1; "):
        most_frequent_tag_baseline([["a"], ["b"]], [["O"]], [["a"]])
