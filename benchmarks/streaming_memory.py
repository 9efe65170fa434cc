"""Peak memory and throughput of pretraining input, streamed against in memory, as a corpus grows.

Writes corpora of N reviews (parquet shards of 50,000, reviews drawn with
replacement from a data set's text), then, each in a fresh process: one pass
of the streamed masked-LM input (`minibert.data.corpus`: read, vectorize,
bucket, mask) and, for comparison, the in-memory path (`vectorize` every text
into one array, as `python -m minibert train` does without
`--pretraining-corpus`). The vocabulary is adapted on the same bounded sample
in both. Prints one JSON line per measurement.

    python benchmarks/streaming_memory.py --source ../shared/data/imdb --sizes 100000 1000000
"""

import argparse
import json
import multiprocessing
import os
import resource
import tempfile
import time

import numpy as np
import pandas as pd

SHARD_ROWS = 50_000


def write_corpus(texts, size, folder, seed=0):
    """`size` reviews drawn from `texts`, as parquet shards in `folder`."""
    rng = np.random.default_rng(seed)
    os.makedirs(folder, exist_ok=True)
    for start in range(0, size, SHARD_ROWS):
        rows = rng.integers(0, len(texts), min(SHARD_ROWS, size - start))
        pd.DataFrame({"text": texts[rows]}).to_parquet(os.path.join(folder, f"{start:09d}.parquet"))


def measure(folder, mode, vocabulary_sample, queue):
    """Runs in a fresh process: seconds for one pass and the process's peak RSS."""
    from minibert.data.corpus import (
        corpus_files,
        corpus_mlm_dataset,
        iter_corpus_texts,
        sample_texts,
    )
    from minibert.data.pipeline import mlm_dataset
    from minibert.data.tokenizer import build_vectorizer, vectorize

    files = corpus_files(folder)
    vectorizer = build_vectorizer(sample_texts(files, vocabulary_sample), 30_000, 512)
    start = time.perf_counter()
    if mode == "streamed":
        dataset = corpus_mlm_dataset(files, vectorizer, batch_size=32, vocabulary_size=30_000)
    else:
        token_ids = vectorize(vectorizer, list(iter_corpus_texts(files)))
        dataset = mlm_dataset(token_ids, batch_size=32, vocabulary_size=30_000, dynamic_padding=True)
    reviews = sum(int(inputs["token_ids"].shape[0]) for inputs, _, _ in dataset)
    seconds = time.perf_counter() - start
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB
    queue.put({"mode": mode, "reviews": reviews, "seconds": round(seconds, 1),
               "reviews_per_second": round(reviews / seconds), "peak_rss_mib": round(peak_mib)})


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", required=True, help="a folder of parquet files with a text column")
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--modes", nargs="+", default=["streamed", "in-memory"])
    parser.add_argument("--vocabulary-sample", type=int, default=100_000)
    parser.add_argument("--work-dir", default=tempfile.gettempdir())
    args = parser.parse_args()

    frames = [pd.read_parquet(os.path.join(args.source, name), columns=["text"])
              for name in sorted(os.listdir(args.source)) if name.endswith(".parquet")]
    texts = pd.concat(frames)["text"].to_numpy()
    context = multiprocessing.get_context("spawn")
    for size in args.sizes:
        folder = os.path.join(args.work_dir, f"minibert-corpus-{size}")
        if not os.path.isdir(folder):
            write_corpus(texts, size, folder)
        for mode in args.modes:
            queue = context.Queue()
            process = context.Process(target=measure, args=(folder, mode, args.vocabulary_sample, queue))
            process.start()
            result = queue.get()
            process.join()
            print(json.dumps({"size": size, **result}), flush=True)


if __name__ == "__main__":
    main()
