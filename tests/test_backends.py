"""The recipe under each Keras backend, in a subprocess per backend (the backend is fixed per
process).

TensorFlow runs the whole suite; here a tiny run is trained under JAX (and
PyTorch where it is installed), and its saved end-to-end model must give the
same probabilities when reloaded under TensorFlow, where the vectorizer runs
inside the model instead of before it. The time budget's schedule runs under
each backend too, TensorFlow's in this process.
"""

import contextlib
import importlib.util
import io
import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest
from conftest import make_reviews

import minibert  # noqa: F401  (registers the classes the saved models need)

OTHER_BACKENDS = [backend for backend in ("jax", "torch") if importlib.util.find_spec(backend)]
TEXTS = ["a great and wonderful film", "the worst and most boring plot"]


# SGD on a loss whose gradient is 1 whatever the weight: the weight ends at minus the sum
# of the rates the steps really used, which must be the rates the schedule set.
BUDGETED_SCHEDULE = """
import json, keras, numpy as np
from minibert.training.callbacks import BudgetedSchedule, TimeBudget
from minibert.training.optimization import WarmupLinearDecay

class Recorded(BudgetedSchedule):
    rates = []
    def on_train_batch_begin(self, batch, logs=None):
        super().on_train_batch_begin(batch, logs)
        self.rates.append(float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate)))
        clock[0] += 0.02  # a step of 0.02 s on a clock that moves only here

clock = [0.0]

model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1, use_bias=False,
                                                                 kernel_initializer="zeros")])
model.compile(optimizer=keras.optimizers.SGD(0.0), loss=lambda y, prediction: prediction)
budget = TimeBudget(5 / 60, clock=lambda: clock[0])
schedule = Recorded(WarmupLinearDecay(1e-2, 100, 1000), 1000, budget)
model.fit(np.ones((1000, 1)), np.zeros((1000, 1)), batch_size=1, epochs=1, verbose=0,
          callbacks=[budget, schedule])
print(json.dumps({"rates": schedule.rates,
                  "weight": float(keras.ops.convert_to_numpy(model.weights[0])[0, 0])}))
"""


def test_jax_and_torch_are_installed_for_the_suite():
    # The [test] extra installs both; without them the tests below would not run at all.
    assert OTHER_BACKENDS == ["jax", "torch"]


# One process per backend, whose start (importing it and TensorFlow) is most of its time: it
# trains a tiny run as `python -m minibert train ARGUMENTS` does, prints what the run's saved
# end-to-end model, reloaded from its file, predicts for the texts, then runs BUDGETED_SCHEDULE.
UNDER_BACKEND = (
    "import json, sys, keras, minibert\n"
    "from minibert.cli import main\n"
    "assert main(sys.argv[2:]) == 0\n"
    "model = keras.models.load_model(sys.argv[sys.argv.index('--output') + 1] + '/end_to_end.keras')\n"
    "print('predicted', json.dumps(model.predict(json.loads(sys.argv[1]), verbose=0).tolist()))\n"
) + BUDGETED_SCHEDULE


@pytest.fixture(scope="module")
def backend_process(tmp_path_factory):
    """What the process under a backend (UNDER_BACKEND) did.

    Every backend's process starts the first time a test asks for one, all
    side by side: most of each is single-threaded (importing, tracing), so on
    two cores they overlap.
    """
    started, finished = {}, {}

    def start(backend):
        folder = tmp_path_factory.mktemp(f"run-{backend}")
        csv = folder / "reviews.csv"
        make_reviews(160).to_csv(csv, index=False)
        arguments = [sys.executable, "-c", UNDER_BACKEND, json.dumps(TEXTS), "train", "--dataset",
                     str(csv), "--preset", "tiny", "--output", str(folder / "run"),
                     "--fill-mask-sentence", "the [mask] was great"]
        # Files, not pipes: a process whose pipe is not read yet would stop when it fills.
        with open(folder / "stdout", "w") as stdout, open(folder / "stderr", "w") as stderr:
            process = subprocess.Popen(arguments, stdout=stdout, stderr=stderr, text=True,
                                       env=dict(os.environ, KERAS_BACKEND=backend))
        return folder, process

    def process_under(backend) -> dict:
        if not started:
            started.update({name: start(name) for name in OTHER_BACKENDS})
        if backend not in finished:
            folder, process = started[backend]
            process.wait()
            stdout = (folder / "stdout").read_text()
            if process.returncode != 0:
                raise AssertionError(f"the process under {backend} failed:\n{stdout}\n"
                                     f"{(folder / 'stderr').read_text()}")
            lines = stdout.strip().splitlines()
            predicted = next(line for line in lines if line.startswith("predicted "))
            finished[backend] = {"run": folder / "run", "stdout": stdout,
                                 "predicted": np.array(json.loads(predicted.split(" ", 1)[1])),
                                 "schedule": json.loads(lines[-1])}
        return finished[backend]

    yield process_under
    for _, process in started.values():  # one no test waited for, after a failure
        process.kill()
        process.wait()


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["tensorflow", *OTHER_BACKENDS])
def test_a_budgeted_schedule_sets_the_rate_every_step_uses(backend, backend_process):
    if backend == keras.config.backend():  # this process's (the suite's)
        stdout = io.StringIO()
        with contextlib.redirect_stdout(stdout):
            exec(BUDGETED_SCHEDULE, {})
        result = json.loads(stdout.getvalue().strip().splitlines()[-1])
    else:
        result = backend_process(backend)["schedule"]
    rates = np.array(result["rates"])
    assert 10 < len(rates) < 1000  # the five seconds ran out first
    assert rates.max() > 0.5e-2 and rates[-1] < 0.2e-2  # it warmed up and decayed
    assert result["weight"] == pytest.approx(-rates.sum(), rel=1e-4)


@pytest.mark.slow
@pytest.mark.parametrize("backend", OTHER_BACKENDS)
def test_a_tiny_run_pretrains_and_fine_tunes(backend, backend_process):
    backend_run = backend_process(backend)
    assert f"backend {backend} on " in backend_run["stdout"]
    with open(backend_run["run"] / "metrics.json") as file:
        metrics = json.load(file)
    assert set(metrics["stages"]) == {"mlm", "frozen", "unfrozen"}
    # The masked-word accuracy is a metric the model tracks itself.
    assert 0 <= metrics["stages"]["mlm"]["accuracy"] <= 1
    for stage in metrics["stages"].values():
        assert np.isfinite(stage["loss"])
    assert 0 <= metrics["validation"]["accuracy"] <= 1


@pytest.mark.slow
@pytest.mark.parametrize("backend", OTHER_BACKENDS)
def test_its_end_to_end_model_predicts_the_same_under_tensorflow(backend, backend_process):
    backend_run = backend_process(backend)
    path = str(backend_run["run"] / "end_to_end.keras")
    # This process runs TensorFlow (the suite's backend), the vectorizer inside the model.
    assert keras.config.backend() == "tensorflow"
    under_tensorflow = keras.models.load_model(path).predict(TEXTS, verbose=0)
    assert under_tensorflow.shape == (len(TEXTS), 1)
    np.testing.assert_allclose(backend_run["predicted"], under_tensorflow, atol=1e-5)
