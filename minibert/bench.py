"""`python -m minibert bench`: the notebook's training step and the fast path, side by side.

Every configuration runs in a fresh process of its own (its own dtype policy,
its own compiled functions, its own peak memory), on the same token ids and
the same model size, and is timed after warm-up. Each row adds one lever to
the row above, so the table shows what each one buys.

Tokens per second are counted as the notebook counts them: batch x
sequence_length per step, whatever the padding, so rows compare as reviews
per second.
"""

import dataclasses
import multiprocessing
import resource
import time

import keras
import numpy as np


@dataclasses.dataclass(frozen=True)
class Setup:
    """One way to run the same model."""

    name: str
    # The notebook's head: a softmax over the whole vocabulary at every position.
    dense_softmax: bool = False
    static_masking: bool = False
    tie_weights: bool = False
    # Keras' default, as the notebook compiled: XLA under JAX and on GPUs, not
    # for TensorFlow on a CPU.
    jit_compile: bool | str = "auto"
    precision: str = "float32"
    dynamic_padding: bool = False
    num_sampled: int = 0


NOTEBOOK = Setup("notebook: dense softmax, static masks, float32", dense_softmax=True, static_masking=True)
# The defaults of `python -m minibert train` (PretrainConfig, RunConfig).
FAST_PATH = Setup(
    "+ sampled softmax, 2,048 words: fast path", tie_weights=True, dynamic_padding=True,
    num_sampled=2048,
)
PRETRAINING_SETUPS = (
    NOTEBOOK,
    Setup("+ logits at masked positions only", static_masking=True),
    Setup("+ fresh masks in tf.data"),
    Setup("+ tied embeddings", tie_weights=True),
    Setup("+ dynamic padding", tie_weights=True, dynamic_padding=True),
    FAST_PATH,
    # Levers measured on top of the fast path and left off by default: on
    # this CPU (AVX512-BF16, no AMX) XLA made the step slower and
    # mixed_bfloat16 was within noise of float32.
    dataclasses.replace(FAST_PATH, name="fast path + XLA jit_compile", jit_compile=True),
    dataclasses.replace(FAST_PATH, name="fast path + mixed_bfloat16", precision="mixed_bfloat16"),
)


class StepTimer(keras.callbacks.Callback):
    """Wall-clock time at the end of every training batch."""

    def on_train_begin(self, logs=None):
        self.times = [time.perf_counter()]

    def on_train_batch_end(self, batch, logs=None):
        self.times.append(time.perf_counter())


def _step_seconds(times, warmup_steps):
    """Mean step time after warm-up, leaving out steps that compiled a new shape.

    With dynamic padding a new batch width compiles once; such a step takes
    many times the median and says nothing about the steady state.
    """
    steps = np.diff(times)[warmup_steps:]
    kept = steps[steps <= 4 * np.median(steps)]
    return float(kept.mean()), int(len(steps) - len(kept))


def _peak_memory_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def _notebook_dense_batches(dataset):
    """The notebook's targets: labels and weights at every position (B, T)."""
    import tensorflow as tf

    def densify(inputs, labels, weights):
        positions = inputs["mask_positions"]
        batch_index = tf.broadcast_to(
            tf.range(tf.shape(positions)[0])[:, tf.newaxis], tf.shape(positions)
        )
        index = tf.stack([batch_index, positions], axis=-1)
        shape = tf.shape(inputs["token_ids"])
        dense_labels = tf.scatter_nd(index, labels * tf.cast(weights > 0, labels.dtype), shape)
        dense_weights = tf.scatter_nd(index, weights, shape)
        return inputs["token_ids"], dense_labels, dense_weights

    return dataset.map(densify)


def _notebook_masked_lm(backbone, jit_compile):
    """The notebook's model: Dense(vocabulary, softmax) over every position."""
    token_ids = keras.Input(shape=(None,), dtype="int32")
    probabilities = keras.layers.Dense(
        backbone.vocabulary_size, activation="softmax", dtype="float32"
    )(backbone(token_ids))
    model = keras.Model(token_ids, probabilities)
    model.compile(
        optimizer=keras.optimizers.Adam(1e-3),
        loss=keras.losses.SparseCategoricalCrossentropy(),
        # The notebook compiled with Keras' default, "auto".
        jit_compile=jit_compile,
    )
    return model


def _timed_fit(model, dataset, steps, warmup_steps):
    """Trains warm-up + timed steps; returns `_step_seconds` of the timed ones."""
    timer = StepTimer()
    model.fit(
        dataset.repeat(), steps_per_epoch=warmup_steps + steps, epochs=1,
        callbacks=[timer], verbose=0, shuffle=False,
    )
    return _step_seconds(timer.times, warmup_steps)


def time_pretraining(setup: Setup, token_ids, model_kwargs, batch_size, steps, warmup_steps):
    """Runs in a child process: ms per pretraining step of one setup."""
    from minibert.data.pipeline import mlm_dataset
    from minibert.models import Backbone, MaskedLanguageModel
    from minibert.training.pretraining import compile_masked_lm

    keras.mixed_precision.set_global_policy(setup.precision)
    keras.utils.set_random_seed(0)
    backbone = Backbone(**model_kwargs)
    dataset = mlm_dataset(
        token_ids, batch_size=batch_size, vocabulary_size=backbone.vocabulary_size,
        static_masking=setup.static_masking, dynamic_padding=setup.dynamic_padding,
    )
    if setup.dense_softmax:
        model = _notebook_masked_lm(backbone, setup.jit_compile)
        dataset = _notebook_dense_batches(dataset)
    else:
        model = MaskedLanguageModel(
            backbone, tie_weights=setup.tie_weights, num_sampled=setup.num_sampled, seed=0
        )
        compile_masked_lm(model, 1e-3, setup.jit_compile)
    seconds, compiling_steps = _timed_fit(model, dataset, steps, warmup_steps)
    return {"seconds_per_step": seconds, "compiling_steps_left_out": compiling_steps,
            "peak_memory_mib": _peak_memory_mib()}


def time_finetuning(setup: Setup, token_ids, labels, model_kwargs, batch_size, steps, warmup_steps):
    """Runs in a child process: ms per classifier step, backbone unfrozen."""
    from minibert.data.pipeline import classification_dataset
    from minibert.models import Backbone, Classifier
    from minibert.training.finetuning import compile_classifier

    keras.mixed_precision.set_global_policy(setup.precision)
    keras.utils.set_random_seed(0)
    classifier = Classifier(Backbone(**model_kwargs))
    compile_classifier(classifier, 1e-4, setup.jit_compile)
    dataset = classification_dataset(
        token_ids, labels, batch_size=batch_size, shuffle=True, dynamic_padding=setup.dynamic_padding
    )
    seconds, _ = _timed_fit(classifier, dataset, steps, warmup_steps)
    return {"seconds_per_step": seconds, "peak_memory_mib": _peak_memory_mib()}


def time_inference(setup: Setup, texts, vocabulary, model_kwargs, batch_size=256):
    """Runs in a child process: raw reviews per second through the end-to-end model."""
    from minibert.data.tokenizer import new_vectorizer
    from minibert.models import Backbone, Classifier, EndToEndClassifier

    keras.mixed_precision.set_global_policy(setup.precision)
    vectorizer = new_vectorizer(model_kwargs["sequence_length"], vocabulary)
    model = EndToEndClassifier(
        vectorizer, Classifier(Backbone(**model_kwargs)), ["negative", "positive"]
    )
    model.predict(texts[:batch_size], batch_size=batch_size, verbose=0)  # warm-up
    start = time.perf_counter()
    model.predict(texts, batch_size=batch_size, verbose=0)
    seconds = time.perf_counter() - start
    return {"reviews_per_second": len(texts) / seconds, "peak_memory_mib": _peak_memory_mib()}


def _warmup(setup: Setup, warmup_steps):
    # Dynamic padding traces (and with XLA compiles) one step per batch width: warm them up.
    return warmup_steps * (8 if setup.dynamic_padding else 1)


def _in_child(function, *arguments):
    """Runs `function` in a fresh spawned process and returns its result."""
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        return pool.apply(function, arguments)


def run_bench(data, model_config, batch_size=32, steps=20, warmup_steps=3, setups=PRETRAINING_SETUPS,
              fast_path=FAST_PATH, num_texts=4096, print_fn=print) -> dict:
    """Times every setup; returns the results (and prints a table as it goes)."""
    from minibert.data.tokenizer import build_vectorizer, vectorize
    from minibert.inspection.baseline import tfidf_baseline

    texts = data.pretraining_text()[:num_texts]
    vectorizer = build_vectorizer(
        data.pretraining_text()[:20_000], model_config.vocabulary_size, model_config.sequence_length
    )
    vocabulary = [str(token) for token in vectorizer.get_vocabulary()]
    token_ids = vectorize(vectorizer, texts)
    model_kwargs = dataclasses.replace(
        model_config, vocabulary_size=len(vocabulary)
    ).backbone_kwargs()
    tokens_per_step = batch_size * model_config.sequence_length
    results = {"model": model_kwargs, "batch_size": batch_size, "steps": steps, "pretraining": [],
               "finetuning": [], "inference": []}

    print_fn(f"{'pretraining step':<48} {'ms/step':>8} {'tokens/s':>9} {'speed-up':>8} {'peak MiB':>9}")
    for setup in setups:
        row = _in_child(time_pretraining, setup, token_ids, model_kwargs, batch_size, steps,
                        _warmup(setup, warmup_steps))
        row.update(name=setup.name, setup=dataclasses.asdict(setup),
                   tokens_per_second=tokens_per_step / row["seconds_per_step"])
        row["speed_up"] = results["pretraining"][0]["seconds_per_step"] / row["seconds_per_step"] \
            if results["pretraining"] else 1.0
        results["pretraining"].append(row)
        print_fn(f"{setup.name:<48} {1000 * row['seconds_per_step']:>8.0f} "
                 f"{row['tokens_per_second']:>9.0f} {row['speed_up']:>7.1f}x {row['peak_memory_mib']:>9.0f}")

    labels = np.asarray(data.train["label"])[: len(token_ids)]
    classifier_ids = vectorize(vectorizer, data.train["text"][: len(labels)])
    for name, setup in [("notebook", NOTEBOOK), ("fast", fast_path)]:
        row = _in_child(time_finetuning, setup, classifier_ids, labels, model_kwargs,
                        batch_size, steps, _warmup(setup, warmup_steps))
        row.update(name=name, tokens_per_second=tokens_per_step / row["seconds_per_step"])
        results["finetuning"].append(row)
        print_fn(f"fine-tuning step, {name:<30} {1000 * row['seconds_per_step']:>8.0f} ms/step")
        row = _in_child(time_inference, setup, np.asarray(texts, dtype=object), vocabulary, model_kwargs)
        row.update(name=name)
        results["inference"].append(row)
        print_fn(f"end-to-end inference, {name:<26} {row['reviews_per_second']:>8.0f} reviews/s")

    try:
        results["tfidf_baseline"] = tfidf_baseline(data)
        baseline = results["tfidf_baseline"]
        print_fn(f"TF-IDF + logistic regression: validation accuracy "
                 f"{baseline['validation_accuracy']:.4f} in {baseline['seconds']:.0f} s")
    except ImportError:
        print_fn("TF-IDF baseline skipped: pip install 'minibert[bench]' (scikit-learn)")
    return results
