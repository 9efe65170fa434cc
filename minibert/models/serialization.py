"""What minibert's models share: a functional-model base and config helpers."""

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


class FunctionalModel(keras.Model):
    """Base of minibert's models, functional models that create their layers in `__init__`.

    They set layer attributes before calling `keras.Model.__init__`, which
    PyTorch's `Module.__setattr__` refuses; under the torch backend those
    attributes are set plainly (the functional graph tracks the layers), as
    KerasHub's models do. Attributes set after it (metrics) go through Keras'
    tracking as usual.
    """

    def __setattr__(self, name, value):
        # torch.nn.Module.__init__ (run by keras.Model.__init__) creates _modules.
        if keras.config.backend() == "torch" and "_modules" not in self.__dict__:
            return object.__setattr__(self, name, value)
        return super().__setattr__(name, value)


def inference_copy(model: keras.Model) -> keras.Model:
    """A copy of `model` with its weights and nothing of training: no optimizer, no compile.

    Saving a compiled model saves its optimizer's state with it (Adam keeps
    two values per weight); a model kept for inference does not need them.

    Example:
    >>> from minibert.models import Backbone
    >>> from minibert.tasks.classification.classifier import Classifier
    >>> classifier = Classifier(Backbone(20, 8, 16, num_layers=1, num_heads=2, intermediate_dim=16))
    >>> classifier.compile(optimizer="adam", loss="binary_crossentropy")
    >>> copy = inference_copy(classifier)
    >>> copy.compiled, len(copy.get_weights()) == len(classifier.get_weights())
    (False, True)
    """
    copy = model.__class__.from_config(model.get_config())
    copy.set_weights(model.get_weights())
    return copy
