"""`python -m minibert bench` on a tiny model: the table's parts are there and sound."""

import dataclasses

import numpy as np
import pytest
import tensorflow as tf
from conftest import make_reviews

from minibert.allocator import allocator_in_use
from minibert.bench import (
    FAST_PATH,
    NOTEBOOK,
    PRETRAINING_SETUPS,
    _notebook_dense_batches,
    run_bench,
)
from minibert.config import ModelConfig, PretrainConfig, RunConfig, get_preset
from minibert.data.pipeline import mlm_dataset
from minibert.data.sources import TextClassificationData
from minibert.reporting import reporting_to
from minibert.training.callbacks import steady_step_seconds


def test_notebook_targets_sit_at_the_masked_positions():
    rng = np.random.default_rng(0)
    ids = rng.integers(5, 50, size=(8, 20)).astype("int32")
    ids[:, 12:] = 0
    dataset = mlm_dataset(ids, batch_size=8, vocabulary_size=50, static_masking=True)
    (inputs, labels, weights), = list(dataset)
    one_batch = tf.data.Dataset.from_tensors((inputs, labels, weights))
    (token_ids, dense_labels, dense_weights), = list(_notebook_dense_batches(one_batch))
    positions = inputs["mask_positions"].numpy()
    np.testing.assert_array_equal(token_ids.numpy(), inputs["token_ids"].numpy())
    gathered_weights = np.take_along_axis(dense_weights.numpy(), positions, axis=1)
    np.testing.assert_array_equal(gathered_weights, weights.numpy())
    chosen = weights.numpy() > 0
    gathered_labels = np.take_along_axis(dense_labels.numpy(), positions, axis=1)
    np.testing.assert_array_equal(gathered_labels[chosen], labels.numpy()[chosen])
    assert dense_weights.numpy().sum() == weights.numpy().sum()  # nothing else carries a loss


def test_steps_that_compiled_a_new_shape_are_left_out():
    times = np.cumsum([0, 5.0, 0.1, 0.1, 2.0, 0.1, 0.1])  # warm-up, then one compile
    seconds, left_out = steady_step_seconds(times, warmup_steps=1)
    assert seconds == pytest.approx(0.1) and left_out == 1


def test_the_benched_fast_path_is_what_train_runs_by_default():
    assert FAST_PATH in PRETRAINING_SETUPS and NOTEBOOK == PRETRAINING_SETUPS[0]
    assert not FAST_PATH.dense_softmax and NOTEBOOK.dense_softmax
    assert FAST_PATH.static_masking == PretrainConfig().static_masking
    assert FAST_PATH.dynamic_padding == PretrainConfig().dynamic_padding
    assert FAST_PATH.num_sampled == PretrainConfig().num_sampled > 0
    assert FAST_PATH.tie_weights == ModelConfig().tie_weights
    assert FAST_PATH.jit_compile == RunConfig().jit_compile
    assert FAST_PATH.precision == RunConfig().precision


# The bench itself: it compiles and times two pretraining setups, fine-tuning and
# inference, which costs as much as a whole run (about a minute on two cores).
@pytest.mark.slow
def test_bench_times_pretraining_finetuning_inference_and_the_baseline():
    reviews = make_reviews(400)
    data = TextClassificationData(
        name="generated", train=reviews[:300].reset_index(drop=True),
        validation=reviews[300:].reset_index(drop=True), unlabeled=reviews[["text"]][:0],
        label_names=("negative", "positive"), validation_is_test=False,
    )
    model = dataclasses.replace(get_preset("tiny").model, num_layers=1)
    lines = []
    with reporting_to(lines.append):
        results = run_bench(
            data, model, batch_size=8, steps=3, warmup_steps=1,
            setups=(NOTEBOOK, FAST_PATH), num_texts=256,
        )
    assert [row["name"] for row in results["pretraining"]] == [NOTEBOOK.name, FAST_PATH.name]
    for row in results["pretraining"] + results["finetuning"]:
        assert row["seconds_per_step"] > 0 and row["peak_memory_mib"] > 100
    assert results["pretraining"][0]["speed_up"] == 1.0
    assert all(row["reviews_per_second"] > 0 for row in results["inference"])
    assert results["tfidf_baseline"]["validation_accuracy"] >= 0.9  # the words give labels away
    assert any("TF-IDF" in line for line in lines)
    # Where the timed steps' CPU time went, and on which allocator the child process ran.
    cpu = results["pretraining"][-1]["cpu"]
    assert cpu["user_seconds"] > 0 and 0 <= cpu["kernel_share"] < 1 and cpu["faults_per_second"] >= 0
    assert cpu["allocator"] == allocator_in_use()  # a spawned child runs on what its parent does
    assert any(line.startswith(f"{FAST_PATH.name}, timed steps: user ") for line in lines)


def test_the_bench_warns_only_where_the_kernel_takes_over_a_tenth_of_the_cpu_time():
    from minibert.bench import kernel_lines

    usage = {"user_seconds": 19.0, "system_seconds": 1.0, "kernel_share": 0.05,
             "faults_per_second": 2_000, "allocator": "mimalloc"}
    assert kernel_lines("steps", usage) == [
        "steps: user 19.0 s, system 1.0 s (5% in the kernel), 2,000 page faults/s, mimalloc"]
    lines = kernel_lines("steps", {**usage, "kernel_share": 0.11})
    assert len(lines) == 2 and lines[1].startswith("warning: the kernel took 11% of the CPU time of steps:")

