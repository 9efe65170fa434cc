"""Sentence classification: one label per text, or per pair of texts (siamese or packed).

The head pools the backbone's vectors into one per text (`Classifier`), or
reads both texts of a pair through the same backbone (`PairClassifier`,
"siamese"), or one `[cls] a [sep] b [sep]` sequence ("packed"). Its metrics
are accuracy, precision, recall, F1 and the confusion matrix; its raw-text
model is `EndToEndClassifier`.
"""


import keras

from minibert.config import RunConfig
from minibert.data.labels import align_labels
from minibert.data.masking import masked_noise
from minibert.data.pipeline import classification_dataset
from minibert.data.sources import load_dataset
from minibert.inspection.model_card import labelled_data_line
from minibert.layers import PairPacker
from minibert.models.replicas import batch_multiple, on_this_process, process_rows
from minibert.models.serialization import inference_copy
from minibert.tasks import token_classification
from minibert.tasks.classification import NAME
from minibert.tasks.classification.baseline import tfidf_baseline
from minibert.tasks.classification.classifier import Classifier
from minibert.tasks.classification.end_to_end_classifier import (
    EndToEndClassifier,
    classifier_token_ids,
)
from minibert.tasks.classification.metrics import classification_report, format_report
from minibert.tasks.classification.pair_classifier import PairClassifier
from minibert.tasks.task import FinetuningTask, given_flags
from minibert.tasks.token_classification.tagged_words import is_conll_source

# The mean over the rows that weigh: data-parallel batches are padded with
# rows of weight 0 (minibert.data.pipeline.pad_batches), which Keras'
# default mean would count, shrinking that batch's gradient.
_LOSSES = {"binary_crossentropy": keras.losses.BinaryCrossentropy,
           "sparse_categorical_crossentropy": keras.losses.SparseCategoricalCrossentropy}


def check_flags(args, has_task_flag: bool) -> None:
    """Refuses a tagged-words flag, and a CoNLL-style data set, in one line."""
    given = given_flags(args, token_classification.DATA_FLAGS)
    if given:
        raise ValueError(f"{given[0]} reads sentences of tagged words; pass --task "
                         "token-classification, or drop it for a table of texts and labels")
    dataset = getattr(args, "dataset", None)
    if dataset is not None and is_conll_source(dataset):
        way_out = ("pass --task token-classification to tag its words" if has_task_flag else
                   f"{getattr(args, 'command', 'this command')} reads texts and labels")
        raise ValueError(f"{dataset} holds tagged words (CoNLL-style); {way_out}")


def load_data(args, seed: int, group_column):
    """The `TextClassificationData` the data flags name (`minibert.data.sources.load_dataset`)."""
    return load_dataset(
        args.dataset,
        data_dir=args.data_dir,
        text_column=args.text_column,
        label_column=args.label_column,
        text_pair_column=args.text_pair_column,
        group_column=group_column,
        label_names=args.label_names,
        validation_size=args.validation_size,
        max_train_rows=args.max_train_rows,
        max_validation_rows=args.max_validation_rows,
        labels=getattr(args, "labels", None),
        unlabeled_file=getattr(args, "unlabeled", None),
        seed=seed,
        cache_dir=args.cache_dir,
    )


def baseline_lines(data) -> list[str]:
    """TF-IDF + logistic regression's validation accuracy, on the split `train` would carve."""
    if data.has_pairs:
        raise ValueError("the TF-IDF baseline reads one text per row; drop --text-pair-column")
    try:
        result = tfidf_baseline(data)
    except ImportError as error:
        raise ValueError(f"the baseline needs scikit-learn ({error}); pip install scikit-learn") from error
    split = (f"{data.validation_groups} whole {data.group_column} groups" if data.group_column
             else "the test split" if data.validation_is_test else "a stratified random split")
    return [f"TF-IDF (uni+bigrams) + logistic regression on {data.name}: validation accuracy "
            f"{result['validation_accuracy']:.4f} on {len(data.validation)} rows ({split}), "
            f"trained on {len(data.train)} in {result['seconds']:.0f} s"]


def check_config(data, config: RunConfig) -> None:
    """Every setting trains a classifier; self-training's own checks are the recipe's."""


def reads_segments(data, config: RunConfig) -> bool:
    """Packed pairs read `[cls] a [sep] b [sep]` rows."""
    return data.has_pairs and config.finetune.pair_encoding == "packed"


def describe(data, config: RunConfig) -> str:
    return "stage classifier: backbone frozen, then unfrozen" + (
        f"; text pairs, {config.finetune.pair_encoding}" if data.has_pairs else ""
    )


def make_examples(vectorizer, frame, data, config: RunConfig):
    """`(token_ids, labels)` of one split's rows."""
    return classifier_inputs(vectorizer, frame, config.finetune.pair_encoding), frame["label"].to_numpy()


def classifier_inputs(vectorizer, frame, pair_encoding="siamese"):
    """The token ids a classifier takes for `frame`'s `text` (and `text_pair`) column.

    One text per row: an array (rows, tokens). Pairs, "siamese": a dict of
    both texts' ids, for a `PairClassifier`; "packed": one array of
    `[cls] text [sep] text_pair [sep]` (`minibert.layers.PairPacker`).
    """
    if "text_pair" not in frame:
        return classifier_token_ids(vectorizer, frame["text"])
    packer = None
    if pair_encoding == "packed":
        packer = PairPacker(vectorizer.get_config()["output_sequence_length"])
    return classifier_token_ids(vectorizer, frame, packer)


def token_ids(inputs) -> list:
    """The arrays of token ids among a classifier's inputs: one, or a siamese pair's two."""
    return list(inputs.values()) if isinstance(inputs, dict) else [inputs]


def classifier_batches(examples, config: RunConfig, shuffle: bool):
    """`(token_ids, labels)` batched as the fine-tuning config says; in training, with
    `mask_rate`, each text's words masked 80/10/10 as noise."""
    dataset = classification_dataset(
        *examples, batch_size=config.finetune.batch_size, shuffle=shuffle, seed=config.seed,
        dynamic_padding=config.finetune.dynamic_padding, rows_multiple=batch_multiple(),
        pad_to_multiple=config.pad_to_multiple, process_rows=process_rows(),
    )
    if shuffle and config.finetune.mask_rate > 0 and not isinstance(examples[0], dict):
        dataset = dataset.map(masked_noise(config.finetune.mask_rate,
                                           config.model.vocabulary_size, config.seed))
    return dataset


def new_classifier(backbone, examples, data, config: RunConfig):
    """The classifier `config` describes on `backbone`: a `PairClassifier` for siamese pairs."""
    finetune_config = config.finetune
    model_class = PairClassifier if isinstance(examples[0], dict) else Classifier
    return model_class(
        backbone,
        num_classes=len(data.label_names),
        pooling=finetune_config.pooling,
        hidden_units=finetune_config.hidden_units,
        dropout=finetune_config.dropout,
    )


def compile_classifier(classifier, optimizer, jit_compile="auto"):
    classifier.compile(
        jit_compile=jit_compile,
        optimizer=optimizer,
        loss=_LOSSES[classifier.loss_name()](reduction="mean_with_sample_weight"),
        metrics=["accuracy"],
    )


def validation_report(classifier, examples, data, config: RunConfig) -> dict:
    """`minibert.inspection.metrics.classification_report` of `classifier` on `(token_ids, labels)`."""
    with on_this_process(classifier) as model:
        batches = classifier_batches(examples, config, shuffle=False)
        # Data-parallel batches end with padding rows: keep the real ones.
        probabilities = model.predict(batches, verbose=0)[: len(examples[1])]
    return classification_report(examples[1], probabilities, data.label_names)


def end_to_end_classifier(vectorizer, classifier, data, config: RunConfig, report: dict):
    packed_pairs = data.has_pairs and config.finetune.pair_encoding == "packed"
    # For inference: the classifier's weights without its optimizer's state.
    return EndToEndClassifier(
        vectorizer, inference_copy(classifier), data.label_names,
        pair_packer=PairPacker(config.model.sequence_length) if packed_pairs else None,
        name="end_to_end",
    )


def predict_lines(model, texts, text_pairs=None) -> list[str]:
    """`label<TAB>confidence<TAB>text` for each text (a pair model: one `text_pairs` per text)."""
    if model.pairs or text_pairs:
        if not model.pairs:
            raise ValueError("this run classifies single texts; drop --text-pair")
        if len(text_pairs or ()) != len(texts):
            raise ValueError(
                f"a pair model needs one --text-pair per text: {len(texts)} texts, "
                f"{len(text_pairs or ())} --text-pair"
            )
        texts = list(zip(texts, text_pairs))
    return [
        f"{label}\t{confidence:.4f}\t{' ||| '.join(text) if model.pairs else text}"
        for text, (label, confidence) in zip(texts, model.predict_labels(texts))
    ]


def evaluate_saved(model, frame, data, split) -> list[str]:
    """The loss and `classification_report` of a saved `EndToEndClassifier` on `frame`'s rows."""
    if model.pairs and not data.has_pairs:
        raise ValueError("this run classifies text pairs; pass --text-pair-column")
    if data.has_pairs and not model.pairs:
        raise ValueError("this run classifies single texts; drop --text-pair-column")
    # The data's label ids follow its own sorted classes; the model's may differ.
    labels = align_labels(frame["label"].to_numpy(), data.label_names, model.label_names)
    texts = frame if model.pairs else frame["text"]
    probabilities = model.predict(texts, batch_size=256, verbose=0)
    # One sigmoid column wants (rows, 1) targets; a softmax takes label ids.
    targets = labels.reshape(-1, 1) if probabilities.shape[-1] == 1 else labels
    loss = float(keras.ops.mean(keras.losses.get(model.loss_name())(targets, probabilities)))
    report = classification_report(labels, probabilities, model.label_names)
    return [f"{data.name} {split} ({len(frame)} rows): loss {loss:.4f}, {format_report(report)}"]


def card_results(report, validation_rows, frozen) -> list[str]:
    """The model card's validation headline."""
    return [f"Validation accuracy **{report['accuracy']:.4f}** on {validation_rows:,} rows"
            + (f"; the frozen stage alone {frozen:.4f}" if frozen is not None else "") + "."]


CLASSIFICATION = FinetuningTask(
    name=NAME,
    help="classification: one label per text or text pair (sentiment, topic, entailment)",
    stage_name="classifier",
    head_classes=("Classifier", "PairClassifier"),
    end_to_end_classes=("EndToEndClassifier",),
    monitor=("val_accuracy", "max"),
    reads_source=lambda dataset: False,  # the default: any table of texts and labels
    check_flags=check_flags,
    load_data=load_data,
    baseline=baseline_lines,
    describe=describe,
    check_config=check_config,
    reads_segments=reads_segments,
    grows_segments=False,
    make_examples=make_examples,
    token_ids=token_ids,
    make_batches=classifier_batches,
    build_model=new_classifier,
    compile_model=compile_classifier,
    evaluate=validation_report,
    format_report=format_report,
    build_end_to_end=end_to_end_classifier,
    predict=predict_lines,
    input_columns=("text", None),
    evaluate_saved=evaluate_saved,
    card_data=labelled_data_line,
    card_settings=lambda finetune: f", {finetune.get('pooling')} pooling",
    card_results=card_results,
    card_use=(
        "raw strings in, probabilities out: `python -m minibert predict RUN \"text\"`, "
        "`predict RUN --input FILE`, `export RUN --output DIR`",
        'model.predict_labels(["A wonderful, moving film."])  # [(label, probability)]',
    ),
)
