"""User and system CPU seconds of N pretraining steps of the `imdb` preset's model.

    /usr/bin/time -f "%e s wall, %U user, %S sys, %R minor faults" \
        python benchmarks/pretraining_step_time.py --dataset ../shared/data/imdb --steps 250
    ... --mallopt   # glibc's mmap and trim thresholds set back before TensorFlow loads

It pretrains on the first `--rows` of the preset's pretraining text (dynamic padding, sampled
softmax, batch 32) and prints the median and mean step and the user and system seconds
of `fit` alone. benchmarks/README.md ("Where the step's time goes") reads its output.
"""

import argparse
import ctypes
import dataclasses
import os
import time

parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
parser.add_argument("--dataset", required=True)
parser.add_argument("--steps", type=int, default=250)
parser.add_argument("--rows", type=int, default=70_000)
parser.add_argument("--mallopt", action="store_true",
                    help="mallopt(M_MMAP_THRESHOLD, 32 MiB) and (M_TRIM_THRESHOLD, 1 GiB) first")
args = parser.parse_args()
if args.mallopt:  # before TensorFlow's own M_TRIM_THRESHOLD=128 kB
    libc = ctypes.CDLL("libc.so.6")
    libc.mallopt(-3, 32 << 20)  # M_MMAP_THRESHOLD
    libc.mallopt(-1, 1 << 30)  # M_TRIM_THRESHOLD

import keras  # noqa: E402
import numpy as np  # noqa: E402

from minibert.config import get_preset  # noqa: E402
from minibert.data.pipeline import mlm_dataset  # noqa: E402
from minibert.data.sources import load_dataset  # noqa: E402
from minibert.data.tokenizer import build_vectorizer, vectorize  # noqa: E402
from minibert.models import Backbone  # noqa: E402
from minibert.objectives import get_objective  # noqa: E402
from minibert.training.pretraining import compile_masked_lm  # noqa: E402

config = get_preset("imdb")
# What the preset pretrains on: train (less the film-disjoint validation) and unlabelled text.
texts = load_dataset(args.dataset, group_column="movie").pretraining_text()[: args.rows]
vectorizer = build_vectorizer(texts, config.model.vocabulary_size, config.model.sequence_length)
model_config = dataclasses.replace(config.model, vocabulary_size=vectorizer.vocabulary_size())
backbone = Backbone(**model_config.backbone_kwargs())
masked_lm = get_objective("mlm").build_model(backbone, config)
compile_masked_lm(masked_lm, 1e-3)
dataset = mlm_dataset(vectorize(vectorizer, texts), batch_size=32, dynamic_padding=True,
                      vocabulary_size=backbone.vocabulary_size, seed=1)
times = []
timer = keras.callbacks.LambdaCallback(on_train_batch_end=lambda batch, logs: times.append(time.perf_counter()))
before = os.times()
masked_lm.fit(dataset.repeat(), steps_per_epoch=args.steps, epochs=1, verbose=0, callbacks=[timer])
after = os.times()
steps = np.diff(times)[5:]
print(f"{'mallopt' if args.mallopt else 'default'}: median step {1000 * np.median(steps):.0f} ms, "
      f"mean {1000 * steps.mean():.0f} ms; user {after.user - before.user:.1f} s, "
      f"system {after.system - before.system:.1f} s over {args.steps} steps")
