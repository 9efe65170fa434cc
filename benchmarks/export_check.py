"""An exported SavedModel against `end_to_end.keras`, on real reviews, served without minibert.

Exports RUN (`python -m minibert export`), then serves the first N reviews of a parquet file in
a fresh Python process in which minibert cannot be imported, and compares its probabilities
with `end_to_end.keras`'s; prints the largest difference and both files' sizes:

    python benchmarks/export_check.py saved_models/transfer/sentiment-pretrained \
        --input ../shared/data/imdb/train.parquet --rows 1000
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import pandas as pd

import minibert  # noqa: F401  (registers the saved models' classes)
from minibert import runs
from minibert.export import export_saved_model
from minibert.tasks.classification.end_to_end_classifier import class_probabilities

SERVE = """
import json, sys


class NoMinibert:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "minibert":
            raise ImportError("minibert is not installed here")


sys.meta_path.insert(0, NoMinibert())
import tensorflow as tf
texts = json.load(open(sys.argv[2]))
served = tf.saved_model.load(sys.argv[1]).signatures["serving_default"]
print(json.dumps(served(texts=tf.constant(texts))["probabilities"].numpy().tolist()))
"""


def folder_bytes(path) -> int:
    return sum(os.path.getsize(os.path.join(root, name))
               for root, _, names in os.walk(path) for name in names)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", help="a run folder with end_to_end.keras")
    parser.add_argument("--input", required=True, help="a parquet file with a text column")
    parser.add_argument("--rows", type=int, default=1000)
    args = parser.parse_args()
    model = runs.RunFolder(args.run).load_model(runs.END_TO_END_FILE)
    texts = pd.read_parquet(args.input, columns=["text"])["text"].head(args.rows).tolist()
    expected = class_probabilities(model.predict(texts, batch_size=256, verbose=0))
    with tempfile.TemporaryDirectory() as folder:
        exported = export_saved_model(model, os.path.join(folder, "exported", "1"))
        texts_path = os.path.join(folder, "texts.json")
        with open(texts_path, "w") as file:
            json.dump(texts, file)
        result = subprocess.run([sys.executable, "-c", SERVE, exported, texts_path],
                                capture_output=True, text=True, cwd=folder, check=True)
        served = np.asarray(json.loads(result.stdout.strip().splitlines()[-1]))
        saved_model_bytes = folder_bytes(exported)
    print(json.dumps({
        "rows": len(texts),
        "max_probability_difference": float(np.abs(served - expected).max()),
        "within_1e-5": bool(np.allclose(served, expected, atol=1e-5, rtol=0)),
        "end_to_end_keras_bytes": os.path.getsize(os.path.join(args.run, runs.END_TO_END_FILE)),
        "classifier_keras_bytes": os.path.getsize(os.path.join(args.run, runs.CLASSIFIER_FILE)),
        "saved_model_bytes": saved_model_bytes,
    }))


if __name__ == "__main__":
    main()
