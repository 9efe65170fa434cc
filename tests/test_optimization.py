"""Learning-rate schedules and the optimizers fine-tuning uses."""

import keras
import numpy as np
import pytest

from minibert.training.optimization import (
    WarmupLinearDecay,
    learning_rate_schedule,
    make_optimizer,
)


def rates(schedule, steps):
    return [float(schedule(step)) for step in steps]


def test_cosine_schedule_warms_up_then_decays_to_zero():
    schedule = learning_rate_schedule(1e-3, "cosine", total_steps=100)
    values = rates(schedule, (0, 5, 10, 55, 100))
    assert values[0] == 0 and values[1] == pytest.approx(5e-4) and values[2] == pytest.approx(1e-3)
    assert values[2] > values[3] > values[4] and values[4] == pytest.approx(0, abs=1e-9)


def test_linear_schedule_warms_up_then_decays_linearly_to_zero():
    schedule = learning_rate_schedule(1e-3, "linear", total_steps=100, warmup_fraction=0.2)
    values = rates(schedule, (0, 10, 20, 60, 100, 150))
    assert values == pytest.approx([0, 5e-4, 1e-3, 5e-4, 0, 0], abs=1e-9)


def test_wsd_warms_up_holds_the_peak_then_decays_over_the_last_fifth():
    schedule = learning_rate_schedule(1e-3, "wsd", total_steps=100)
    values = rates(schedule, (5, 10, 50, 80, 90, 100))
    assert values == pytest.approx([5e-4, 1e-3, 1e-3, 1e-3, 5e-4, 0], abs=1e-9)
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(schedule))
    assert rates(restored, (50, 90)) == pytest.approx(rates(schedule, (50, 90)))


def test_no_warmup_starts_at_the_peak():
    schedule = learning_rate_schedule(1e-3, "linear", total_steps=10, warmup_fraction=0)
    assert rates(schedule, (0, 5)) == pytest.approx([1e-3, 5e-4])


def test_constant_is_a_plain_float_and_bad_arguments_are_named():
    assert learning_rate_schedule(1e-3, "constant", total_steps=100) == 1e-3
    with pytest.raises(ValueError, match="unknown schedule 'step'"):
        learning_rate_schedule(1e-3, "step", total_steps=100)
    with pytest.raises(ValueError, match="warmup_fraction"):
        learning_rate_schedule(1e-3, "linear", total_steps=100, warmup_fraction=1.0)
    with pytest.raises(ValueError, match="weight_decay"):
        make_optimizer(1e-3, weight_decay=-1)
    with pytest.raises(ValueError, match="clip_norm"):
        make_optimizer(1e-3, clip_norm=0)


def test_linear_schedule_survives_serialization():
    schedule = WarmupLinearDecay(1e-3, warmup_steps=3, total_steps=30)
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(schedule))
    assert rates(restored, (1, 3, 20)) == pytest.approx(rates(schedule, (1, 3, 20)))


def test_weight_decay_shrinks_kernels_but_not_biases_or_layer_norms():
    model = keras.Sequential(
        [keras.Input((4,)), keras.layers.Dense(3), keras.layers.LayerNormalization()]
    )
    for variable in model.weights:  # nonzero everywhere, so decay would show
        variable.assign(np.full(variable.shape, 2.0, "float32"))
    optimizer = make_optimizer(0.1, weight_decay=0.5)
    # Zero gradients: Adam's own step is 0, only the decoupled decay moves weights.
    optimizer.apply_gradients([(keras.ops.zeros(v.shape), v) for v in model.trainable_weights])
    for variable in model.weights:
        expected = 2.0 * (1 - 0.1 * 0.5) if variable.name == "kernel" else 2.0
        np.testing.assert_allclose(variable.numpy(), expected, rtol=1e-6, err_msg=variable.path)


def test_without_weight_decay_it_is_adam_with_optional_clipping():
    optimizer = make_optimizer(1e-3, clip_norm=1.0)
    assert type(optimizer) is keras.optimizers.Adam and optimizer.clipnorm == 1.0
