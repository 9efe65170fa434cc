"""`python -m minibert bench`: the notebook's training step and the fast path, side by side.

Every configuration runs in a fresh process of its own (its own dtype policy,
its own compiled functions, its own peak memory), on the same token ids and
the same model size, and is timed after warm-up. Each row adds one lever to
the row above, so the table shows what each one buys.

Tokens per second are counted as the notebook counts them: batch x
sequence_length per step, whatever the padding, so rows compare as reviews
per second.

`bench_preset` then times the preset's own pretraining step (its batch,
precision, XLA setting) at the full sequence length, and gives its tokens/s,
achieved TFLOPS and model FLOPs utilization (`minibert.utilization`), and the
rate at which the recipe's input pipeline alone makes batches on the host.
The whole recipe's time is the GPU script's to measure
(`benchmarks/gpu/measure.py`): it runs `train` itself.
"""

import dataclasses
import multiprocessing
import resource
import time

import keras
import numpy as np

from minibert.allocator import allocator_in_use
from minibert.reporting import report
from minibert.training.callbacks import StepTimer, steady_step_seconds


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
    # Levers timed on top of the fast path and left off by default
    # (benchmarks/README.md says why).
    dataclasses.replace(FAST_PATH, name="fast path + XLA jit_compile", jit_compile=True),
    dataclasses.replace(FAST_PATH, name="fast path + mixed_bfloat16", precision="mixed_bfloat16"),
)


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


# Above this share of the timed steps' CPU time in the kernel, the bench warns.
KERNEL_SHARE_WARNING = 0.10


def _cpu_usage() -> dict:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {"wall": time.perf_counter(), "user": usage.ru_utime, "system": usage.ru_stime,
            "faults": usage.ru_minflt}


class CpuTimer(StepTimer):
    """A `StepTimer` that also reads the process's CPU seconds and page faults over the timed steps.

    `usage()` gives the user and system seconds and the minor page faults
    a second between the end of the warm-up steps and the end of training:
    where the system share is high, the kernel is mapping the memory that
    an allocator handed back (`minibert.allocator`).
    """

    def __init__(self, warmup_steps):
        super().__init__()
        self.warmup_steps = warmup_steps

    def on_train_begin(self, logs=None):
        super().on_train_begin(logs)
        self.start = _cpu_usage()

    def on_train_batch_end(self, batch, logs=None):
        super().on_train_batch_end(batch, logs)
        if batch + 1 == self.warmup_steps:
            self.start = _cpu_usage()

    def on_train_end(self, logs=None):
        self.end = _cpu_usage()

    def usage(self) -> dict:
        spent = {name: self.end[name] - self.start[name] for name in self.start}
        cpu = spent["user"] + spent["system"]
        return {"user_seconds": spent["user"], "system_seconds": spent["system"],
                "kernel_share": spent["system"] / cpu if cpu else 0.0,
                "faults_per_second": spent["faults"] / spent["wall"] if spent["wall"] else 0.0,
                "allocator": allocator_in_use()}


def kernel_lines(name, usage) -> list[str]:
    """The CPU line of a timed row, and a warning where the kernel took over 10% of it.

    Example:
    >>> usage = {"user_seconds": 9.0, "system_seconds": 6.0, "kernel_share": 0.4,
    ...          "faults_per_second": 200_000, "allocator": "glibc malloc"}
    >>> for line in kernel_lines("fast path", usage): print(line)
    fast path: user 9.0 s, system 6.0 s (40% in the kernel), 200,000 page faults/s, glibc malloc
    warning: the kernel took 40% of the CPU time of fast path: memory handed back and faulted in again; python -m minibert runs under mimalloc unless MINIBERT_ALLOCATOR=system (minibert.allocator)
    """
    lines = [f"{name}: user {usage['user_seconds']:.1f} s, system {usage['system_seconds']:.1f} s "
             f"({usage['kernel_share']:.0%} in the kernel), {usage['faults_per_second']:,.0f} page "
             f"faults/s, {usage['allocator']}"]
    if usage["kernel_share"] > KERNEL_SHARE_WARNING:
        lines.append(f"warning: the kernel took {usage['kernel_share']:.0%} of the CPU time of {name}: "
                     "memory handed back and faulted in again; python -m minibert runs under "
                     "mimalloc unless MINIBERT_ALLOCATOR=system (minibert.allocator)")
    return lines


def _timed_fit(model, dataset, steps, warmup_steps):
    """Trains warm-up + timed steps; returns `steady_step_seconds` of the timed ones and their
    CPU usage (`CpuTimer.usage`)."""
    timer = CpuTimer(warmup_steps)
    model.fit(
        dataset.repeat(), steps_per_epoch=warmup_steps + steps, epochs=1,
        callbacks=[timer], verbose=0, shuffle=False,
    )
    return (*steady_step_seconds(timer.times, warmup_steps), timer.usage())


def setup_config(setup: Setup, batch_size: int, seed: int = 0):
    """The `RunConfig` whose pretraining `setup` times: its masking, padding, head and precision."""
    from minibert.config import ModelConfig, PretrainConfig, RunConfig

    return RunConfig(
        model=ModelConfig(tie_weights=setup.tie_weights),
        pretrain=PretrainConfig(batch_size=batch_size, static_masking=setup.static_masking,
                                dynamic_padding=setup.dynamic_padding,
                                num_sampled=setup.num_sampled),
        jit_compile=setup.jit_compile, precision=setup.precision, seed=seed,
    )


def time_pretraining(setup: Setup, token_ids, model_kwargs, batch_size, steps, warmup_steps):
    """Runs in a child process: ms per pretraining step of one setup."""
    from minibert.models import Backbone
    from minibert.training.pretraining import pretraining_setup

    keras.mixed_precision.set_global_policy(setup.precision)
    keras.utils.set_random_seed(0)
    backbone = Backbone(**model_kwargs)
    # The recipe's own set-up, with this setup's masking, padding and head.
    pretraining = pretraining_setup(backbone, None, None, setup_config(setup, batch_size),
                                    examples=(token_ids, None))
    if setup.dense_softmax:
        model = _notebook_masked_lm(backbone, setup.jit_compile)
        dataset = _notebook_dense_batches(pretraining.batches)
    else:
        model = pretraining.compile(1e-3)
        dataset = pretraining.batches
    seconds, compiling_steps, usage = _timed_fit(model, dataset, steps, warmup_steps)
    return {"seconds_per_step": seconds, "compiling_steps_left_out": compiling_steps,
            "peak_memory_mib": _peak_memory_mib(), "cpu": usage}


def time_finetuning(setup: Setup, token_ids, labels, model_kwargs, batch_size, steps, warmup_steps):
    """Runs in a child process: ms per classifier step, backbone unfrozen."""
    from minibert.data.pipeline import classification_dataset
    from minibert.models import Backbone
    from minibert.tasks.classification.classifier import Classifier
    from minibert.tasks.classification.task import compile_classifier
    from minibert.training.optimization import make_optimizer

    keras.mixed_precision.set_global_policy(setup.precision)
    keras.utils.set_random_seed(0)
    classifier = Classifier(Backbone(**model_kwargs))
    compile_classifier(classifier, make_optimizer(1e-4), setup.jit_compile)
    dataset = classification_dataset(
        token_ids, labels, batch_size=batch_size, shuffle=True, dynamic_padding=setup.dynamic_padding
    )
    seconds, _, usage = _timed_fit(classifier, dataset, steps, warmup_steps)
    return {"seconds_per_step": seconds, "peak_memory_mib": _peak_memory_mib(), "cpu": usage}


def time_inference(setup: Setup, texts, vocabulary, model_kwargs, batch_size=256):
    """Runs in a child process: raw reviews per second through the end-to-end model."""
    from minibert.data.tokenizer import new_vectorizer
    from minibert.models import Backbone
    from minibert.tasks.classification.classifier import Classifier
    from minibert.tasks.classification.end_to_end_classifier import EndToEndClassifier

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


def time_preset_pretraining(config, token_ids, model_kwargs, steps, warmup_steps, pipeline_batches):
    """Runs in a child process: the preset's own pretraining step, and its input pipeline alone.

    The step is timed at the full sequence length (no dynamic padding), so
    every token counted is computed and the FLOPs are exact; the input
    pipeline is timed as the recipe builds it (dynamic padding, the preset's
    pad_to_multiple), iterated on the host without a model.
    """
    from minibert.models import Backbone
    from minibert.training.devices import find_accelerator, resolve_precision
    from minibert.training.pretraining import masked_batches, pretraining_setup

    accelerator = find_accelerator()
    precision = resolve_precision(config.precision, accelerator)
    keras.mixed_precision.set_global_policy(precision)
    keras.utils.set_random_seed(0)
    pretrain = config.pretrain
    pipeline = masked_batches(token_ids, config, model_kwargs["vocabulary_size"],
                              dynamic_padding=pretrain.dynamic_padding).repeat()
    start = time.perf_counter()
    for _ in pipeline.take(pipeline_batches):
        pass
    pipeline_seconds = time.perf_counter() - start

    backbone = Backbone(**model_kwargs)
    whole_length = dataclasses.replace(config, pretrain=dataclasses.replace(
        pretrain, dynamic_padding=False))
    pretraining = pretraining_setup(backbone, None, None, whole_length,
                                    examples=(token_ids, None))
    masked_lm = pretraining.compile(pretrain.learning_rate)
    if pretrain.dropout is not None:
        backbone.set_dropout(pretrain.dropout)
    seconds, _, usage = _timed_fit(masked_lm, pretraining.batches, steps, warmup_steps)
    return {"seconds_per_step": seconds, "precision": precision, "cpu": usage,
            "device": accelerator.name if accelerator else "CPU",
            "host_batches_per_second": pipeline_batches / pipeline_seconds,
            "peak_memory_mib": _peak_memory_mib()}


def bench_preset(data, config, preset_name, steps=20, warmup_steps=3, peak=None,
                 num_texts=4096) -> dict:
    """Times the preset's pretraining step: tokens/s, model FLOPs utilization, the input pipeline.

    `peak` (TFLOPS) overrides the data-sheet figure for the device
    (`minibert.utilization.PEAK_TFLOPS`); without either, MFU is not given.
    """
    from minibert.utilization import (
        PEAK_SOURCE,
        peak_tflops,
        pretraining_step_flops,
        utilization,
    )

    token_ids, _, vocabulary = _token_ids(data, config.model, num_texts)
    model = dataclasses.replace(config.model, vocabulary_size=len(vocabulary))
    pretrain = config.pretrain
    row = _in_child(time_preset_pretraining, config, token_ids, model.backbone_kwargs(), steps,
                    warmup_steps, 4 * (warmup_steps + steps))
    width = model.sequence_length
    flops = pretraining_step_flops(model, pretrain.batch_size, width, pretrain.mask_rate,
                                   pretrain.num_sampled, model.vocabulary_size)
    if peak is None:
        peak, source = peak_tflops(row["device"], row["precision"]), PEAK_SOURCE
    else:
        source = "--peak-tflops"
    steps_per_second = 1 / row["seconds_per_step"]
    row.update(
        name=f"preset {preset_name}", batch_size=pretrain.batch_size, width=width,
        vocabulary_size=model.vocabulary_size,
        tokens_per_second=pretrain.batch_size * width * steps_per_second,
        flops_per_step=flops, achieved_tflops=flops * steps_per_second / 1e12,
        peak_tflops=peak, peak_source=source if peak is not None else None,
        mfu=utilization(flops, row["seconds_per_step"], peak),
        steps_per_second=steps_per_second,
    )
    mfu = "MFU not known (no peak for this device: pass --peak-tflops)" if row["mfu"] is None else (
        f"MFU {row['mfu']:.1%} of {peak:g} TFLOPS ({source})")
    report(f"preset {preset_name} pretraining step on {row['device']}, {row['precision']}, "
           f"batch {pretrain.batch_size} x {width} tokens: {1000 * row['seconds_per_step']:.1f} "
           f"ms/step, {row['tokens_per_second']:,.0f} tokens/s, "
           f"{row['achieved_tflops']:.2f} TFLOPS; {mfu}")
    verdict = ("the pipeline keeps up" if row["host_batches_per_second"] >= 1.2 * steps_per_second
               else "the pipeline is too slow: the device waits on the host")
    report(f"input pipeline alone: {row['host_batches_per_second']:,.1f} batches/s on the host "
           f"against {steps_per_second:,.1f} steps/s; {verdict}")
    for line in kernel_lines(f"preset {preset_name}'s timed steps", row["cpu"]):
        report(line)
    return row


def _token_ids(data, model_config, num_texts):
    """The first `num_texts` pretraining texts as token ids, the vectorizer and its vocabulary."""
    from minibert.data.tokenizer import build_vectorizer, vectorize

    vectorizer = build_vectorizer(
        data.pretraining_text()[:20_000], model_config.vocabulary_size, model_config.sequence_length
    )
    vocabulary = [str(token) for token in vectorizer.get_vocabulary()]
    return vectorize(vectorizer, data.pretraining_text()[:num_texts]), vectorizer, vocabulary


def _warmup(setup: Setup, warmup_steps):
    # Dynamic padding traces (and with XLA compiles) one step per batch width: warm them up.
    return warmup_steps * (8 if setup.dynamic_padding else 1)


def _in_child(function, *arguments):
    """Runs `function` in a fresh spawned process and returns its result."""
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        return pool.apply(function, arguments)


def run_bench(data, model_config, batch_size=32, steps=20, warmup_steps=3, setups=PRETRAINING_SETUPS,
              fast_path=FAST_PATH, num_texts=4096) -> dict:
    """Times every setup; returns the results (and reports a table as it goes)."""
    from minibert.data.tokenizer import vectorize
    from minibert.tasks.classification.baseline import tfidf_baseline

    texts = data.pretraining_text()[:num_texts]
    token_ids, vectorizer, vocabulary = _token_ids(data, model_config, num_texts)
    model_kwargs = dataclasses.replace(
        model_config, vocabulary_size=len(vocabulary)
    ).backbone_kwargs()
    tokens_per_step = batch_size * model_config.sequence_length
    results = {"model": model_kwargs, "batch_size": batch_size, "steps": steps, "pretraining": [],
               "finetuning": [], "inference": []}

    report(f"{'pretraining step':<48} {'ms/step':>8} {'tokens/s':>9} {'speed-up':>8} "
           f"{'peak MiB':>9} {'kernel':>7}")
    for setup in setups:
        row = _in_child(time_pretraining, setup, token_ids, model_kwargs, batch_size, steps,
                        _warmup(setup, warmup_steps))
        row.update(name=setup.name, setup=dataclasses.asdict(setup),
                   tokens_per_second=tokens_per_step / row["seconds_per_step"])
        row["speed_up"] = results["pretraining"][0]["seconds_per_step"] / row["seconds_per_step"] \
            if results["pretraining"] else 1.0
        results["pretraining"].append(row)
        report(f"{setup.name:<48} {1000 * row['seconds_per_step']:>8.0f} "
               f"{row['tokens_per_second']:>9.0f} {row['speed_up']:>7.1f}x {row['peak_memory_mib']:>9.0f} "
               f"{row['cpu']['kernel_share']:>7.0%}")
    fast = next((row for row in results["pretraining"] if row["name"] == fast_path.name),
                results["pretraining"][-1])
    for line in kernel_lines(f"{fast['name']}, timed steps", fast["cpu"]):
        report(line)

    labels = np.asarray(data.train["label"])[: len(token_ids)]
    classifier_ids = vectorize(vectorizer, data.train["text"][: len(labels)])
    for name, setup in [("notebook", NOTEBOOK), ("fast", fast_path)]:
        row = _in_child(time_finetuning, setup, classifier_ids, labels, model_kwargs,
                        batch_size, steps, _warmup(setup, warmup_steps))
        row.update(name=name, tokens_per_second=tokens_per_step / row["seconds_per_step"])
        results["finetuning"].append(row)
        report(f"fine-tuning step, {name:<30} {1000 * row['seconds_per_step']:>8.0f} ms/step")
        row = _in_child(time_inference, setup, np.asarray(texts, dtype=object), vocabulary, model_kwargs)
        row.update(name=name)
        results["inference"].append(row)
        report(f"end-to-end inference, {name:<26} {row['reviews_per_second']:>8.0f} reviews/s")

    try:
        results["tfidf_baseline"] = tfidf_baseline(data)
        baseline = results["tfidf_baseline"]
        report(f"TF-IDF + logistic regression: validation accuracy "
               f"{baseline['validation_accuracy']:.4f} in {baseline['seconds']:.0f} s")
    except ImportError:
        report("TF-IDF baseline skipped: pip install 'minibert[bench]' (scikit-learn)")
    return results
