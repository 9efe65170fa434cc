"""Pretraining steps of the `imdb` preset's model under each allocator, side by side in one run.

    python benchmarks/pretraining_step_time.py --dataset ../shared/data/imdb --steps 100 --rows 3000
    TF_ENABLE_ONEDNN_OPTS=0 python benchmarks/pretraining_step_time.py ...   # TensorFlow's
        # default on a CPU without AVX512_VNNI / AVX512_BF16 / AMX (an AVX2-only EPYC)

Each allocator runs in processes of its own, in turns (`--rounds`), on the first `--rows` of the
preset's pretraining text (dynamic padding, sampled softmax, batch 32): `glibc` is the C
library's malloc (`MINIBERT_ALLOCATOR=system`, minibert before it chose one), `minibert` what
`python -m minibert` runs under by default (`minibert.allocator`), and `--library PATH` adds any
other (tcmalloc, jemalloc). Each prints the median and mean step and, over the steps after the
first five, the user and system CPU seconds and the minor page faults a second.
benchmarks/README.md ("The allocator") reads its output.
"""

import argparse
import json
import os
import subprocess
import sys

parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
parser.add_argument("--dataset", required=True)
parser.add_argument("--steps", type=int, default=100)
parser.add_argument("--rows", type=int, default=3000)
parser.add_argument("--rounds", type=int, default=1, help="turns of every allocator")
parser.add_argument("--library", action="append", default=[],
                    help="a malloc library to compare as well (repeatable)")
parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
args = parser.parse_args()

WARMUP_STEPS = 5


def measure():
    """One process's steps: printed as one JSON line."""
    import dataclasses

    import numpy as np

    from minibert.allocator import allocator_in_use
    from minibert.bench import CpuTimer
    from minibert.config import get_preset
    from minibert.data.sources import load_dataset
    from minibert.data.tokenizer import build_vectorizer
    from minibert.models import Backbone
    from minibert.training.pretraining import pretraining_setup

    config = get_preset("imdb")
    # What the preset pretrains on: train (less the film-disjoint validation) and unlabelled text.
    texts = load_dataset(args.dataset, group_column="movie").pretraining_text()[: args.rows]
    vectorizer = build_vectorizer(texts, config.model.vocabulary_size, config.model.sequence_length)
    model_config = dataclasses.replace(config.model, vocabulary_size=vectorizer.vocabulary_size())
    backbone = Backbone(**model_config.backbone_kwargs())
    # The recipe's own set-up: the preset's objective, masking and batches.
    setup = pretraining_setup(backbone, vectorizer, texts, config)
    masked_lm, dataset = setup.compile(1e-3), setup.batches
    timer = CpuTimer(WARMUP_STEPS)
    masked_lm.fit(dataset.repeat(), steps_per_epoch=args.steps, epochs=1, verbose=0,
                  callbacks=[timer])
    steps = np.diff(timer.times)[WARMUP_STEPS:]
    print(json.dumps({"median_ms": 1000 * float(np.median(steps)),
                      "mean_ms": 1000 * float(steps.mean()), **timer.usage(),
                      "allocator": allocator_in_use()}))


def environments():
    """The allocators compared, as the environments their processes start with."""
    from minibert.allocator import (
        REEXECUTED_VARIABLE,
        VARIABLE,
        chosen_library,
        preload_environment,
    )

    base = {name: value for name, value in os.environ.items()
            if name not in ("LD_PRELOAD", VARIABLE, REEXECUTED_VARIABLE)}
    found = {"glibc": {**base, VARIABLE: "system"}}
    library = chosen_library(base)
    if library is not None:
        found["minibert"] = preload_environment(library, base)
    for path in args.library:
        found[os.path.basename(path)] = preload_environment(path, base)
    return found


if args.child:
    measure()
    sys.exit(0)

command = [sys.executable, __file__, "--child", "--dataset", args.dataset, "--steps",
           str(args.steps), "--rows", str(args.rows)]
results = {}
for round_ in range(args.rounds):
    for name, environment in environments().items():
        output = subprocess.run(command, env=environment, capture_output=True, text=True)
        if output.returncode:
            sys.exit(f"{name}: {output.stderr[-2000:]}")
        row = json.loads(output.stdout.strip().splitlines()[-1])
        results.setdefault(name, []).append(row)
        print(f"{name} ({row['allocator']}): median step {row['median_ms']:.0f} ms, mean "
              f"{row['mean_ms']:.0f} ms; user {row['user_seconds']:.1f} s, system "
              f"{row['system_seconds']:.1f} s ({row['kernel_share']:.0%}), "
              f"{row['faults_per_second']:,.0f} faults/s", flush=True)

print("| allocator | median step | mean step | user s | system s | system share | faults/s |")
print("|---|---|---|---|---|---|---|")
for name, rows in results.items():
    def middle(key):
        values = sorted(row[key] for row in rows)
        return values[len(values) // 2]
    print(f"| {name} ({rows[0]['allocator']}) | {middle('median_ms'):,.0f} ms | "
          f"{middle('mean_ms'):,.0f} ms | {middle('user_seconds'):.1f} | "
          f"{middle('system_seconds'):.1f} | {middle('kernel_share'):.0%} | "
          f"{middle('faults_per_second'):,.0f} |")
