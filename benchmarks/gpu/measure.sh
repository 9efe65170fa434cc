#!/usr/bin/env bash
# The last device call of a GPU measurement (benchmarks/gpu/README.md), run in
# the repository root there: put the carried parts back together, install the
# wheels beside the image's JAX, then measure with everything going to $OUT.
# Arguments go on to measure.py (e.g. --minutes 6).
set -euo pipefail
OUT="${OUT:?set OUT to the folder the results go to}"
# The setup's output goes to the call's own output: $OUT is kept for the 8
# files measure.py writes, all the device tool brings back.
python3 benchmarks/gpu/carry.py join --carry .gpu
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --target /tmp/site .gpu/files/wheels/*.whl
export PYTHONPATH="/tmp/site:$PWD" KERAS_BACKEND=jax PYTHONUNBUFFERED=1
exec python3 benchmarks/gpu/measure.py --dataset .gpu/files/data/imdb --group-column movie \
    --out "$OUT" "$@"
