"""Config helpers for models that are built around other Keras objects."""

import keras


def with_deserialized(config: dict, *keys: str) -> dict:
    """A copy of `config` with the serialized Keras objects under `keys` rebuilt.

    Heads store their backbone (and the end-to-end model its vectorizer and
    classifier) as nested configs; `from_config` rebuilds them before calling
    the constructor.
    """
    config = dict(config)
    for key in keys:
        # An optional object saved as None, or by a version before it existed.
        serialized = config.get(key)
        config[key] = None if serialized is None else keras.saving.deserialize_keras_object(serialized)
    return config
