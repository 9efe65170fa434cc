"""The baseline a classifier must beat: TF-IDF features and logistic regression.

A from-scratch BERT earns its keep only above this line, on the same split:
`python -m minibert baseline` takes the same data flags as `train` (the same
`--seed` and `--group-column` carve the same validation rows), and the bench
prints it beside its timings. Needs scikit-learn (`pip install "minibert[bench]"`).
"""

import time


def tfidf_baseline(data) -> dict:
    """TF-IDF (uni+bigrams) + logistic regression trained on `data.train`, scored on
    `data.validation`: `{"validation_accuracy", "seconds"}`."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    start = time.perf_counter()
    model = make_pipeline(
        TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True),
        LogisticRegression(C=4.0, max_iter=1000),
    )
    model.fit(data.train["text"], data.train["label"])
    accuracy = float((model.predict(data.validation["text"]) == data.validation["label"]).mean())
    return {"validation_accuracy": accuracy, "seconds": time.perf_counter() - start}
