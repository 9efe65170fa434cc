"""`run_layer_test`: the contract every minibert layer keeps, in one helper.

In the spirit of KerasHub's `TestCase.run_layer_test`: a layer builds and gives
the promised shape, its config round-trips, it trains, and a model holding it
saves and reloads with plain `keras.models.load_model` (no custom_objects: the
classes are registered with package="minibert").
"""

import os
import tempfile

import keras
import numpy as np


def _as_named_inputs(input_data):
    """A dict of call argument name -> array; a lone array is the first argument."""
    if isinstance(input_data, dict):
        return dict(input_data)
    return {"inputs": input_data}


def _call(layer, named_inputs, call_kwargs):
    """Calls `layer` with the first input positional, the others by name."""
    first, *others = named_inputs
    kwargs = {name: named_inputs[name] for name in others}
    return layer(named_inputs[first], **kwargs, **call_kwargs)


def _model_around(layer, named_inputs, call_kwargs):
    """A functional model whose inputs are named after the layer's call arguments."""
    inputs = {
        name: keras.Input(shape=np.shape(array)[1:], dtype=str(np.asarray(array).dtype), name=name)
        for name, array in named_inputs.items()
    }
    return keras.Model(inputs, _call(layer, inputs, call_kwargs))


def _values(weights):
    return [np.array(weight) for weight in weights]


def run_layer_test(layer_class, init_kwargs, input_data, expected_output_shape, call_kwargs=None):
    """Checks shape, config round-trip, one training step and `.keras` save/reload.

    Args:
        layer_class: the layer's class.
        init_kwargs: keyword arguments of `layer_class(...)`; each must appear
            in `get_config()`, so pass values other than the defaults to catch
            an argument the config forgets.
        input_data: a numpy array (the first call argument), or a dict of call
            argument name -> array; the first entry is passed positionally, the
            others by name (e.g. `{"inputs": x, "padding_mask": mask}`).
        expected_output_shape: the output's shape, a tuple.
        call_kwargs: non-tensor keyword arguments for every call.

    Returns:
        the built layer, for further checks.
    """
    call_kwargs = dict(call_kwargs or {})
    named_inputs = _as_named_inputs(input_data)
    keras.utils.set_random_seed(0)

    # === Build and shape ===
    layer = layer_class(**init_kwargs)
    output = _call(layer, named_inputs, call_kwargs)
    assert tuple(output.shape) == tuple(expected_output_shape)
    assert np.all(np.isfinite(np.array(output)))

    # === Config round-trip: same config, and the same output once weights are copied ===
    config = layer.get_config()
    for name, value in init_kwargs.items():
        assert name in config, f"get_config() lacks {name!r}"
        if isinstance(value, (bool, int, float, str)) and not isinstance(config[name], dict):
            assert config[name] == value, (name, config[name], value)
    revived = layer_class.from_config(config)
    assert revived.get_config() == config
    _call(revived, named_inputs, call_kwargs)  # builds it
    revived.set_weights(layer.get_weights())
    np.testing.assert_allclose(
        np.array(_call(revived, named_inputs, call_kwargs)), np.array(output), atol=1e-6
    )

    # === One training step changes the weights, and so the output ===
    model = _model_around(layer, named_inputs, call_kwargs)
    if layer.trainable_weights:
        before = _values(layer.trainable_weights)
        model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="mse", jit_compile=False)
        target = np.random.default_rng(0).normal(size=expected_output_shape).astype("float32")
        history = model.fit(named_inputs, target, batch_size=len(target), epochs=1, verbose=0)
        assert np.isfinite(history.history["loss"][0])
        after = _values(layer.trainable_weights)
        changed = [not np.array_equal(b, a) for b, a in zip(before, after)]
        assert any(changed), "no trainable weight changed after one training step"
        trained_output = np.array(model(named_inputs, training=False))
        assert not np.allclose(trained_output, np.array(output), atol=1e-6)

    # === Save and reload without custom_objects ===
    expected = np.array(model(named_inputs, training=False))
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "model.keras")
        model.save(path)
        reloaded = keras.models.load_model(path)
    reloaded_layers = [sublayer for sublayer in reloaded.layers if isinstance(sublayer, layer_class)]
    assert len(reloaded_layers) == 1
    assert reloaded_layers[0].get_config() == model.get_layer(layer.name).get_config()
    np.testing.assert_allclose(
        np.array(reloaded(named_inputs, training=False)), expected, atol=1e-6
    )
    return layer
