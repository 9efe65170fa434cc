"""Optimizers and learning-rate schedules for pretraining and fine-tuning."""

import keras
from keras import ops

from minibert.config import SCHEDULES

# The share of steps the "cosine", "linear" and "wsd" schedules warm up over
# when the config does not say (BERT's recipe warms up over 10%).
WARMUP_FRACTION = 0.1
# The share of steps "wsd" decays over, at the end (Hägele et al. 2024 found a
# 20% cooldown matches a cosine decay of the same length).
DECAY_FRACTION = 0.2

# Variables weight decay leaves alone, as in BERT: biases and the
# LayerNormalization scales and offsets ("gamma", "beta" in Keras).
NO_DECAY_VARIABLE_NAMES = ("bias", "gamma", "beta")


@keras.saving.register_keras_serializable(package="minibert")
class WarmupLinearDecay(keras.optimizers.schedules.LearningRateSchedule):
    """Linear warmup from 0 to `learning_rate`, then a linear decay to 0.

    BERT's fine-tuning schedule. With `decay_steps`, the rate holds at its
    peak after the warmup and decays over the last `decay_steps` only
    (warmup-stable-decay, Hu et al. 2024). Steps past `total_steps` stay at 0.

    Args:
        learning_rate: the peak rate, reached after `warmup_steps`.
        warmup_steps: steps of the linear warmup (0: start at the peak).
        total_steps: the step at which the rate reaches 0.
        decay_steps: steps of the decay, which ends at `total_steps`
            (None: every step after the warmup).

    Example:
    >>> schedule = WarmupLinearDecay(1e-3, warmup_steps=10, total_steps=110)
    >>> [round(float(schedule(step)), 6) for step in (0, 5, 10, 60, 110)]
    [0.0, 0.0005, 0.001, 0.0005, 0.0]
    >>> schedule = WarmupLinearDecay(1e-3, warmup_steps=10, total_steps=110, decay_steps=20)
    >>> [round(float(schedule(step)), 6) for step in (5, 60, 90, 100, 110)]
    [0.0005, 0.001, 0.001, 0.0005, 0.0]
    """

    def __init__(self, learning_rate, warmup_steps, total_steps, decay_steps=None):
        if not 0 <= warmup_steps < total_steps:
            raise ValueError(
                f"need 0 <= warmup_steps < total_steps, got {warmup_steps} and {total_steps}"
            )
        if decay_steps is not None and not 0 < decay_steps <= total_steps - warmup_steps:
            raise ValueError(
                f"need 0 < decay_steps <= total_steps - warmup_steps, got {decay_steps}"
            )
        self.learning_rate = learning_rate
        self.warmup_steps = warmup_steps
        self.total_steps = total_steps
        self.decay_steps = decay_steps

    def __call__(self, step):
        step = ops.cast(step, "float32")
        warmup = step / max(self.warmup_steps, 1)
        decay_steps = self.decay_steps or self.total_steps - self.warmup_steps
        decay = (self.total_steps - step) / decay_steps
        fraction = ops.where(step < self.warmup_steps, warmup, ops.clip(decay, 0.0, 1.0))
        return self.learning_rate * fraction

    def get_config(self):
        return {
            "learning_rate": self.learning_rate,
            "warmup_steps": self.warmup_steps,
            "total_steps": self.total_steps,
            "decay_steps": self.decay_steps,
        }


def learning_rate_schedule(learning_rate, schedule, total_steps, warmup_fraction=WARMUP_FRACTION):
    """The learning rate `compile` takes: a float, or warmup then decay.

    A linear warmup keeps Adam's first, poorly estimated steps from
    disturbing the weights; the decay to 0 lets the last epoch settle (BERT
    and RoBERTa decay linearly; "cosine" stays near the peak for longer).

    Args:
        learning_rate: the constant rate, or the peak of a schedule.
        schedule: "constant", "cosine", "linear" or "wsd" (warmup, the peak
            held, then a linear decay over the last `DECAY_FRACTION` of steps).
        total_steps: training steps the schedule spans.
        warmup_fraction: share of `total_steps` spent warming up.
    """
    if schedule not in SCHEDULES:
        raise ValueError(f"unknown schedule {schedule!r}; choose one of {list(SCHEDULES)}")
    if not 0 <= warmup_fraction < 1:
        raise ValueError(f"warmup_fraction must be in [0, 1), got {warmup_fraction}")
    if schedule == "constant":
        return learning_rate
    total_steps = max(total_steps, 1)
    warmup_steps = int(warmup_fraction * total_steps)
    if schedule == "linear":
        return WarmupLinearDecay(learning_rate, warmup_steps, total_steps)
    if schedule == "wsd":
        decay_steps = max(1, min(round(DECAY_FRACTION * total_steps), total_steps - warmup_steps))
        return WarmupLinearDecay(learning_rate, warmup_steps, total_steps, decay_steps)
    return keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=0.0,
        decay_steps=max(total_steps - warmup_steps, 1),
        warmup_target=learning_rate,
        warmup_steps=warmup_steps,
    )


def make_optimizer(learning_rate, weight_decay=0.0, clip_norm=None):
    """Adam, or AdamW when `weight_decay` > 0; `clip_norm` caps each gradient's norm.

    AdamW decays the weights directly rather than through the gradient, so
    Adam's per-weight scaling does not weaken the decay (Loshchilov & Hutter).
    Biases and LayerNormalization weights are not decayed.

    Example:
    >>> make_optimizer(1e-3, weight_decay=0.01, clip_norm=1.0).__class__.__name__
    'AdamW'
    """
    if weight_decay < 0:
        raise ValueError(f"weight_decay must be >= 0, got {weight_decay}")
    if clip_norm is not None and clip_norm <= 0:
        raise ValueError(f"clip_norm must be > 0, got {clip_norm}")
    if weight_decay == 0:
        return keras.optimizers.Adam(learning_rate, clipnorm=clip_norm)
    optimizer = keras.optimizers.AdamW(learning_rate, weight_decay=weight_decay, clipnorm=clip_norm)
    optimizer.exclude_from_weight_decay(var_names=list(NO_DECAY_VARIABLE_NAMES))
    return optimizer
