"""Token classification: a tag per given word (named entities, chunks), scored on entities.

The data is `minibert.data.tagged_words.TaggedWordsData`: sentences as
lists of words, a tag per word. Each word is vectorized alone and its tag
learned and read at its first token (`minibert.data.word_alignment`); the
other tokens and the padding weigh 0 in the loss and the token accuracy.
The head is `TokenClassifier`; the report is conlleval's entity precision,
recall and F1 (`minibert.tasks.token_classification.metrics`) in the data's tag
scheme; the raw-text model is `EndToEndTagger`, which returns entities
with their character spans.
"""

import dataclasses
import time

import keras
import numpy as np
import tensorflow as tf

from minibert.config import RunConfig
from minibert.data.pipeline import batch_width, pad_batches, process_share
from minibert.data.tokenizer import PADDING_ID, UNKNOWN_ID
from minibert.data.word_alignment import AlignedWords, align_words
from minibert.data.word_shapes import WORD_SHAPES
from minibert.inspection.model_card import labelled_data_line
from minibert.models.replicas import batch_multiple, on_this_process, process_rows
from minibert.models.serialization import inference_copy
from minibert.tasks import classification
from minibert.tasks.task import (
    FinetuningTask,
    given_flags,
    refuse_few_label_flags,
    refuse_self_training,
)
from minibert.tasks.token_classification import NAME
from minibert.tasks.token_classification.baseline import most_frequent_tag_baseline
from minibert.tasks.token_classification.end_to_end_tagger import EndToEndTagger
from minibert.tasks.token_classification.metrics import (
    format_per_type,
    format_tagging_report,
    tagging_report,
)
from minibert.tasks.token_classification.tag_decoding import DECODINGS, tag_decoder
from minibert.tasks.token_classification.tagged_words import (
    is_conll_source,
    load_tagged_words,
)
from minibert.tasks.token_classification.token_classifier import TokenClassifier

OUTSIDE_TAG = "O"
# The weights of `O`'s probability a tagger's validation tries (`validation_report`).
OUTSIDE_WEIGHTS = (1.0, 0.5, 0.3, 0.2, 0.1, 0.05, 0.02)


@dataclasses.dataclass(frozen=True, eq=False)
class WordTargets:
    """What a tagger learns from one split, and what its predictions are read back with.

    `labels` and `weights` are (sentences, sequence_length): a word's tag id
    at its first token with weight 1, everything else weight 0. `aligned`
    finds each word's first token again; `tags` are the true tags per word.
    """

    labels: np.ndarray
    weights: np.ndarray
    aligned: AlignedWords
    tags: list


def check_flags(args, has_task_flag: bool) -> None:
    """Refuses classification's data flags, and a table's column names on a CoNLL-style file."""
    refuse_few_label_flags(args)
    dataset = getattr(args, "dataset", None)
    if (dataset is not None and is_conll_source(dataset)
            and (args.words_column is not None or args.tags_column is not None)):
        # The reader refuses index flags on a table; names on a text file it could only ignore.
        raise ValueError(f"--words-column/--tags-column name a table's columns, not those of "
                         f"the CoNLL-style {dataset}; pass --word-column/--tag-column (indices)")
    given = given_flags(args, classification.DATA_FLAGS)
    if given:
        raise ValueError(
            f"{given[0]} is for classification data, not --task {NAME}; sentences of tagged "
            "words name their columns with --word-column/--tag-column (CoNLL-style files) or "
            "--words-column/--tags-column (tables, hf:NAME)"
        )


def load_data(args, seed: int, group_column):
    """The `TaggedWordsData` the data flags name (`load_tagged_words`); `--group-column` is
    classification's, refused by `check_flags`."""
    # The flags given; load_tagged_words holds the defaults of those left out.
    given = {"word_column": args.word_column, "tag_column": args.tag_column,
             "words_column": args.words_column, "tags_column": args.tags_column,
             "scheme": args.tag_scheme}
    return load_tagged_words(
        args.dataset, **{name: value for name, value in given.items() if value is not None},
        validation_size=args.validation_size, seed=seed, max_train_rows=args.max_train_rows,
        cache_dir=args.cache_dir,
    )


def baseline_lines(data) -> list[str]:
    """Each word's most frequent training tag, scored by entity on the validation split."""
    start = time.perf_counter()
    predicted = most_frequent_tag_baseline(
        data.train["words"].tolist(), data.train["tags"].tolist(), data.validation["words"].tolist()
    )
    report = tagging_report(data.validation["tags"].tolist(), predicted, scheme=data.scheme)
    split = (f"the {data.validation_split} split" if data.validation_split
             else "a seeded random split of whole sentences")
    return [f"most frequent tag per word on {data.name}: {format_tagging_report(report)} on "
            f"{len(data.validation)} sentences ({split}), trained on {len(data.train)} in "
            f"{time.perf_counter() - start:.0f} s", *format_per_type(report)]


def check_config(data, config: RunConfig) -> None:
    refuse_self_training(config)


def describe(data, config: RunConfig) -> str:
    return (f"stage tagger: backbone frozen, then unfrozen; {len(data.tag_names)} tags "
            f"({data.scheme}), each word's tag at its first token"
            + ("; word shapes read beside the tokens" if config.finetune.word_shapes else "")
            + (f"; each word's characters read ({config.finetune.word_characters} at most)"
               if config.finetune.word_characters else ""))


def make_examples(vectorizer, frame, data, config: RunConfig):
    """`(inputs, WordTargets)` of one split's sentences (columns `words` and `tags`).

    The inputs are the token ids, or with `--word-shapes` or
    `--word-characters` a dict of them and the words' shape ids and/or
    character ids (`AlignedWords.inputs`).
    """
    tag_ids = {tag: index for index, tag in enumerate(data.tag_names)}
    tags = [list(sentence) for sentence in frame["tags"]]
    unknown = sorted({tag for sentence in tags for tag in sentence} - set(tag_ids))
    if unknown:
        raise ValueError(f"tags {unknown} are not among the data's tag_names {list(tag_ids)}; "
                         "list every tag in tag_names (load_tagged_words does)")
    finetune_config = config.finetune
    aligned = align_words(vectorizer, frame["words"], config.model.sequence_length,
                          characters_per_word=finetune_config.word_characters)
    labels, weights = aligned.first_token_targets(
        [[tag_ids[tag] for tag in sentence] for sentence in tags]
    )
    inputs = aligned.inputs(finetune_config.word_shapes, bool(finetune_config.word_characters))
    return inputs, WordTargets(labels, weights, aligned, tags)


def token_ids(inputs) -> list:
    """The token ids among a tagger's inputs (not the word shapes or characters)."""
    return [inputs["token_ids"] if isinstance(inputs, dict) else inputs]


def tagger_batches(examples, config: RunConfig, shuffle: bool):
    """Batches of `(inputs, labels, weights)`, each tensor cut to the same width.

    With dynamic padding a batch is cut to its longest sentence's
    `batch_width`, its labels and weights with it. Data-parallel batches are
    padded to a multiple of the devices with rows of weight 0.
    """
    inputs, targets = examples
    dataset = tf.data.Dataset.from_tensor_slices((inputs, targets.labels, targets.weights))
    if shuffle:
        dataset = dataset.shuffle(len(targets.labels), seed=config.seed,
                                  reshuffle_each_iteration=True)
    dataset = dataset.batch(config.finetune.batch_size)
    if shuffle and config.finetune.unknown_word_rate:
        dataset = dataset.map(unknown_words(config.finetune.unknown_word_rate, config.seed))
    if config.finetune.dynamic_padding:
        def cut(inputs, labels, weights):
            ids = inputs["token_ids"] if isinstance(inputs, dict) else inputs
            longest = tf.reduce_max(tf.reduce_sum(tf.cast(ids != 0, tf.int32), axis=1))
            width = batch_width(longest, tf.shape(ids)[1], config.pad_to_multiple)
            return tf.nest.map_structure(lambda tensor: tensor[:, :width],
                                         (inputs, labels, weights))

        dataset = dataset.map(cut)
    multiple = batch_multiple()
    if multiple > 1:
        dataset = process_share(pad_batches(dataset, multiple), process_rows())
    return dataset.prefetch(tf.data.AUTOTUNE)


def unknown_words(rate: float, seed: int):
    """A batch map that reads each word as `[UNK]` with probability `rate`, all its tokens.

    A word's tokens run from its first one (the one of weight 1) to the next
    word's. Fresh draws for every batch of every epoch, from a seeded generator.
    """
    generator = tf.random.Generator.from_seed(seed)

    def replace(inputs, labels, weights):
        ids = inputs["token_ids"] if isinstance(inputs, dict) else inputs
        # Each token's word: how many words start at or before it.
        word_index = tf.maximum(tf.cumsum(tf.cast(weights > 0, tf.int32), axis=1) - 1, 0)
        word_drawn = generator.uniform(tf.shape(ids)) < rate  # one draw per word index
        drawn = tf.logical_and(tf.gather(word_drawn, word_index, batch_dims=1), ids != PADDING_ID)
        ids = tf.where(drawn, tf.cast(UNKNOWN_ID, ids.dtype), ids)
        if isinstance(inputs, dict):
            return {**inputs, "token_ids": ids}, labels, weights
        return ids, labels, weights

    return replace


def new_tagger(backbone, examples, data, config: RunConfig):
    finetune_config = config.finetune
    return TokenClassifier(backbone, num_tags=len(data.tag_names), dropout=finetune_config.dropout,
                           num_shapes=len(WORD_SHAPES) if finetune_config.word_shapes else 0,
                           characters_per_word=finetune_config.word_characters)


def compile_tagger(tagger, optimizer, jit_compile="auto"):
    tagger.compile(
        jit_compile=jit_compile,
        optimizer=optimizer,
        # The mean over the words' first tokens: the other tokens and the
        # padding weigh 0, and a plain mean would count them.
        loss=keras.losses.SparseCategoricalCrossentropy(reduction="mean_with_sample_weight"),
        # Weighted, so that it is the share of words tagged right, not of tokens.
        weighted_metrics=["accuracy"],
    )


def token_probabilities(tagger, inputs, batch_size=256) -> np.ndarray:
    """The tagger's (sentences, tokens, tags) probabilities for one split's inputs."""
    dataset = tf.data.Dataset.from_tensor_slices(inputs).batch(batch_size)
    with on_this_process(tagger) as model:
        # Data-parallel batches end with padding rows: keep the real ones.
        probabilities = model.predict(pad_batches(dataset, batch_multiple()), verbose=0)
    return probabilities[: len(tf.nest.flatten(inputs)[0])]


def validation_report(tagger, examples, data, config: RunConfig) -> dict:
    """`minibert.tasks.token_classification.metrics.tagging_report` of `tagger` on one split's
    examples, decoded as gives the best entity F1: each word's tag alone or the sequence the
    scheme allows (`tag_decoding.DECODINGS`), at the `O` weight of `OUTSIDE_WEIGHTS`.

    A small tagger is often sure of `O` and finds few entities (high precision,
    low recall); weighing `O` down before decoding trades some precision for
    recall. The report records the choice (`decoding`, `outside_weight`),
    which the end-to-end model applies, the F1 of the plain argmax
    (`argmax_f1`) and each decoding's best F1 (`decoding_f1`).
    """
    inputs, targets = examples
    probabilities = token_probabilities(tagger, inputs, config.finetune.batch_size)
    outside_id = list(data.tag_names).index(OUTSIDE_TAG)
    reports = {}
    for decoding in DECODINGS:
        decode = tag_decoder(decoding, data.tag_names, data.scheme)
        for weight in OUTSIDE_WEIGHTS:
            predictions = targets.aligned.word_predictions(probabilities, outside_id, weight,
                                                           decode)
            reports[decoding, weight] = tagging_report(
                targets.tags, [[data.tag_names[index] for index in tag_ids]
                               for tag_ids, _ in predictions], data.scheme)
    # The first best: ties keep the argmax, and the weight nearest the plain one.
    best = max(reports, key=lambda choice: reports[choice]["f1"])
    return {**reports[best], "decoding": best[0], "outside_weight": best[1],
            "argmax_f1": reports["argmax", 1.0]["f1"],
            "decoding_f1": {decoding: max(report["f1"] for (chosen, _), report in reports.items()
                                          if chosen == decoding) for decoding in DECODINGS}}


def end_to_end_tagger(vectorizer, tagger, data, config: RunConfig, report: dict):
    # For inference: the tagger's weights without its optimizer's state.
    return EndToEndTagger(vectorizer, inference_copy(tagger), data.tag_names, data.scheme,
                          outside_weight=report.get("outside_weight", 1.0),
                          decoding=report.get("decoding", "argmax"), name="end_to_end")


def predict_lines(model, texts, text_pairs=None) -> list[str]:
    """`type<TAB>start-end<TAB>confidence<TAB>entity text` for each entity of each text.

    A text without entities gives one line `-<TAB>-<TAB>-<TAB>` and the text,
    so that every text is answered.
    """
    if text_pairs:
        raise ValueError("this run tags the words of single sentences; drop --text-pair")
    lines = []
    for text, entities in zip(texts, model.predict_entities(texts)):
        lines += [f"{entity.type}\t{entity.start}-{entity.end}\t{entity.confidence:.4f}\t"
                  f"{entity.text}" for entity in entities] or [f"-\t-\t-\t{text}"]
    return lines


def evaluate_saved(model, frame, data, split) -> list[str]:
    """Entity F1 overall and per type of a saved `EndToEndTagger` on `frame`'s sentences.

    The words are the data's own (not re-split from text), tagged and scored
    in the model's tag scheme, as fine-tuning scored its validation split.
    """
    predicted = model.tag_word_lists(frame["words"].tolist())
    report = tagging_report(frame["tags"].tolist(), [tags for tags, _ in predicted],
                            model.scheme)
    weighed = (f"; O weighed {model.outside_weight:g}, as fine-tuning chose"
               if model.outside_weight != 1.0 else "")
    weighed += f"; {model.decoding} decoding" if model.decoding != "argmax" else ""
    return [f"{data.name} {split} ({len(frame)} sentences): {format_tagging_report(report)}"
            f"{weighed}", *format_per_type(report)]


def card_results(report, validation_rows, frozen) -> list[str]:
    """The model card's entity F1, the `O` weight chosen, and F1 per entity type."""
    lines = [f"Validation entity F1 **{report['f1']:.4f}** (precision {report['precision']:.4f}, "
             f"recall {report['recall']:.4f}; token accuracy {report['token_accuracy']:.4f}) on "
             f"{validation_rows:,} rows"
             + (f"; the frozen stage alone {frozen:.4f} word accuracy" if frozen is not None
                else "") + "."]
    if report.get("outside_weight", 1.0) != 1.0 or report.get("decoding", "argmax") != "argmax":
        decoding = ("the tags of each sentence are decoded as a whole, as the scheme allows "
                    "(Viterbi)" if report.get("decoding") == "viterbi"
                    else "each word's most probable tag is taken")
        lines += ["", f"`O` is weighed {report['outside_weight']:g} and {decoding}: the "
                  "choice of best entity F1 on this validation split (the plain argmax: "
                  f"{report['argmax_f1']:.4f})."]
    lines += ["", "| entity type | F1 | precision | recall | entities |", "|---|---|---|---|---|"]
    lines += [f"| {name} | {figures['f1']:.4f} | {figures['precision']:.4f} | "
              f"{figures['recall']:.4f} | {figures['support']} |"
              for name, figures in report["per_type"].items()]
    return lines


TOKEN_CLASSIFICATION = FinetuningTask(
    name=NAME,
    help="token-classification: a tag per word (named entities, chunks), scored on entities",
    stage_name="tagger",
    head_classes=("TokenClassifier",),
    end_to_end_classes=("EndToEndTagger",),
    reads_source=is_conll_source,
    check_flags=check_flags,
    load_data=load_data,
    baseline=baseline_lines,
    describe=describe,
    check_config=check_config,
    reads_segments=lambda data, config: False,
    grows_segments=False,
    make_examples=make_examples,
    token_ids=token_ids,
    make_batches=tagger_batches,
    build_model=new_tagger,
    compile_model=compile_tagger,
    evaluate=validation_report,
    format_report=format_tagging_report,
    build_end_to_end=end_to_end_tagger,
    predict=predict_lines,
    input_columns=("text", None),
    evaluate_saved=evaluate_saved,
    # Entity F1 itself, computed after each validation: neither in-graph
    # score follows it (word accuracy is mostly `O`, and validation loss rose
    # from the first unfrozen epochs while F1 still climbed on WNUT-17).
    monitor=("val_f1", "max"),
    monitor_from_report=True,
    card_data=labelled_data_line,
    card_settings=lambda finetune: "",  # a tagger reads every token: it pools nothing
    card_results=card_results,
    card_use=(
        "raw sentences in, entities out with their character spans: `python -m minibert "
        "predict RUN \"text\"`, `predict RUN --input FILE`, `export RUN --output DIR`",
        'model.predict_entities(["Ada Lovelace was born in London."])  '
        "# [[Entity(type, start, end, text, confidence), ...]]",
    ),
)
