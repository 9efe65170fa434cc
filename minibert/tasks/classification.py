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
from minibert.inspection.metrics import classification_report, format_report
from minibert.layers import PairPacker
from minibert.models import Classifier, EndToEndClassifier, PairClassifier
from minibert.models.end_to_end import classifier_token_ids
from minibert.models.replicas import batch_multiple, on_this_process, process_rows
from minibert.models.serialization import inference_copy
from minibert.tasks.task import FinetuningTask

# The mean over the rows that weigh: data-parallel batches are padded with
# rows of weight 0 (minibert.data.pipeline.pad_batches), which Keras'
# default mean would count, shrinking that batch's gradient.
_LOSSES = {"binary_crossentropy": keras.losses.BinaryCrossentropy,
           "sparse_categorical_crossentropy": keras.losses.SparseCategoricalCrossentropy}


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


CLASSIFICATION = FinetuningTask(
    name="classification",
    help="classification: one label per text or text pair (sentiment, topic, entailment)",
    describe=describe,
    make_examples=make_examples,
    make_batches=classifier_batches,
    build_model=new_classifier,
    compile_model=compile_classifier,
    evaluate=validation_report,
    format_report=format_report,
    build_end_to_end=end_to_end_classifier,
    predict=predict_lines,
    evaluate_saved=evaluate_saved,
    monitor=("val_accuracy", "max"),
    model_classes=(("Classifier", "PairClassifier"), ("EndToEndClassifier",)),
    stage_name="classifier",
)
