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
        config[key] = keras.saving.deserialize_keras_object(config[key])
    return config
