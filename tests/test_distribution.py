"""Data-parallel training on 2 logical CPU devices matches one device, step for step.

Each engine runs in a subprocess, since devices are fixed when the backend
starts: TensorFlow's MirroredStrategy over 2 logical CPUs, JAX's
DataParallel over 2 host devices (XLA_FLAGS). The batch has 7 rows, so the
data-parallel batch is padded to 8 with a zero-weight row.
"""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from minibert.models.replicas import pad_rows
from minibert.training.distribution import distribution_scope

STEP = r"""
import json, sys
import numpy as np
distribute = sys.argv[1]
if distribute == "mirrored":
    import tensorflow as tf
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
import keras
from minibert.data.pipeline import mlm_dataset
from minibert.models.replicas import batch_multiple
from minibert.training.distribution import distribution_scope
from minibert.models import Backbone, MaskedLanguageModel
from minibert.training.pretraining import compile_masked_lm

token_ids = np.random.RandomState(0).randint(5, 60, size=(7, 16)).astype("int32")
results = {}
for name in ("none", distribute):
    with distribution_scope(name) as num_devices:
        keras.utils.set_random_seed(0)
        backbone = Backbone(60, 16, 8, num_layers=1, num_heads=2, intermediate_dim=16, dropout=0.0)
        model = MaskedLanguageModel(backbone)
        compile_masked_lm(model, 1e-2, jit_compile=False if distribute == "mirrored" else "auto")
        # Static masks: each pass over a dataset draws fresh dynamic masks, and
        # a distributed fit starts its passes differently.
        dataset = mlm_dataset(token_ids, batch_size=7, vocabulary_size=60, seed=0,
                              static_masking=True, rows_multiple=batch_multiple())
        history = model.fit(dataset, epochs=2, verbose=0)
        results[name] = {
            "devices": num_devices,
            "loss": [float(value) for value in history.history["loss"]],
            "weights": [np.asarray(w).ravel().tolist() for w in backbone.get_weights()],
        }
print(json.dumps(results))
"""


# Each engine: its backend, its distribution, and what gives it two CPU devices.
ENGINES = {
    "mirrored": ("tensorflow", {}),
    "data-parallel": ("jax", {"XLA_FLAGS": "--xla_force_host_platform_device_count=2"}),
}


@pytest.fixture(scope="module")
def engine_processes(tmp_path_factory):
    """STEP under each engine, the processes side by side: most of each is single-threaded
    (importing, tracing, compiling), so on two cores they overlap."""
    folder = tmp_path_factory.mktemp("engines")
    processes = {}
    for distribute, (backend, environment) in ENGINES.items():
        # Files, not pipes: a process whose pipe is not read yet would stop when it fills.
        with open(folder / f"{distribute}.out", "w") as stdout, \
                open(folder / f"{distribute}.err", "w") as stderr:
            processes[distribute] = subprocess.Popen(
                [sys.executable, "-c", STEP, distribute], stdout=stdout, stderr=stderr, text=True,
                env=dict(os.environ, KERAS_BACKEND=backend, **environment),
            )
    yield {distribute: (process, folder / f"{distribute}.out", folder / f"{distribute}.err")
           for distribute, process in processes.items()}
    for process in processes.values():  # one no test waited for, after a failure
        process.kill()
        process.wait()


@pytest.mark.parametrize("distribute", sorted(ENGINES))
@pytest.mark.slow
def test_two_devices_train_as_one(distribute, engine_processes):
    process, stdout, stderr = engine_processes[distribute]
    assert process.wait() == 0, stderr.read_text()
    results = json.loads(stdout.read_text().strip().splitlines()[-1])
    single, parallel = results["none"], results[distribute]
    assert single["devices"] == 1 and parallel["devices"] == 2
    np.testing.assert_allclose(parallel["loss"], single["loss"], rtol=1e-4)
    for parallel_weights, single_weights in zip(parallel["weights"], single["weights"]):
        np.testing.assert_allclose(parallel_weights, single_weights, atol=1e-5)


def test_a_distribution_for_another_backend_says_which_backend_it_needs():
    # The suite runs TensorFlow: data-parallel is JAX's.
    with pytest.raises(ValueError, match="needs the jax backend"):
        with distribution_scope("data-parallel"):
            pass


def test_pad_rows_reaches_the_next_multiple():
    assert pad_rows(np.ones((4, 3)), 2).shape == (4, 3)
    padded = pad_rows(np.ones((5, 3)), 4)
    assert padded.shape == (8, 3) and not padded[5:].any()
