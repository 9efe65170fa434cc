"""What looks at a trained model: fill-mask, next-sentence probabilities, sentence vectors,
classification metrics and pictures of a run.

- `fill_mask.py`: the top words for each `[mask]`, and the callback that prints them each epoch.
- `next_sentence_prediction.py`: P(second follows first) from an mlm+nsp run.
- `embeddings.py`: pooled sentence vectors, projected to 2-D.
- `metrics.py`: accuracy, precision, recall, F1 and the confusion matrix.
- `tagging_metrics.py`: a tagger's entities and their precision, recall and F1, as conlleval
  scores them, per type and overall, and token accuracy.
- `baseline.py`: what a model must beat: TF-IDF with logistic regression for classification,
  each word's most frequent training tag for tagging.
- `plots.py`: a run's training curves and its sentence vectors as pictures.

None of these train or write a run folder's models; the recipes
(`minibert.training`) and the CLI call them.
"""
