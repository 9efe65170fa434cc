"""`predict --input`'s scoring against `EndToEndClassifier.predict`, side by side.

Scores the same reviews both ways in one process: `minibert.scoring.score_file` (chunks,
length-sorted batches cut to their longest review) and the end-to-end model's `predict_labels`
(every review padded to the model's full length), checks that both give the same labels and
probabilities, and prints reviews/s of each:

    python benchmarks/predict_speed.py saved_models/transfer/sentiment-pretrained \
        --input ../shared/data/imdb/train.parquet --rows 5000

Peak memory of the command itself, on a whole file:

    /usr/bin/time -v python -m minibert predict RUN --input ../shared/data/imdb/train.parquet \
        --output scored.parquet
"""

import argparse
import json
import os
import tempfile
import time

import keras
import numpy as np
import pandas as pd

import minibert  # noqa: F401  (registers the saved models' classes)
from minibert import runs
from minibert.scoring import score_file
from minibert.tasks.classification.end_to_end_classifier import class_probabilities


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", help="a run folder with end_to_end.keras")
    parser.add_argument("--input", required=True, help="a parquet file with a text column")
    parser.add_argument("--rows", type=int, default=5000)
    parser.add_argument("--batch-size", type=int, default=128)
    args = parser.parse_args()
    model = runs.RunFolder(args.run).load_model(runs.END_TO_END_FILE)
    texts = pd.read_parquet(args.input, columns=["text"]).head(args.rows)
    with tempfile.TemporaryDirectory() as folder:
        source, output = os.path.join(folder, "in.parquet"), os.path.join(folder, "out.parquet")
        texts.to_parquet(source)
        # Both paths once on a few rows first, so neither pays for tracing in its timing.
        score_file(model, source, output, batch_size=args.batch_size, progress=None)
        model.predict(texts["text"].head(256).tolist(), batch_size=256, verbose=0)

        start = time.perf_counter()
        summary = score_file(model, source, output, batch_size=args.batch_size, progress=None)
        scoring_seconds = time.perf_counter() - start
        scored = pd.read_parquet(output)

    start = time.perf_counter()
    padded = class_probabilities(model.predict(texts["text"].tolist(), batch_size=256, verbose=0))
    padded_seconds = time.perf_counter() - start

    columns = [f"probability_{name}" for name in model.label_names]
    difference = float(np.abs(scored[columns].to_numpy() - padded).max())
    same_labels = bool((scored[columns].to_numpy().argmax(1) == padded.argmax(1)).all())
    print(json.dumps({
        "rows": len(texts), "rows_out": summary["rows"],
        "score_file_reviews_per_second": len(texts) / scoring_seconds,
        "end_to_end_predict_reviews_per_second": len(texts) / padded_seconds,
        "speedup": padded_seconds / scoring_seconds,
        "max_probability_difference": difference, "same_labels": same_labels,
        "backend": keras.backend.backend(),
    }))


if __name__ == "__main__":
    main()
