"""The README's example network ("Using the generated layer") as builders for
``cbamgen compare --model examples.readme_network:FUNCTION``: as it first was, and fixed.

The README first stacked five 3x3 convs with relu and no normalisation, an attention
block after each, on 224x224x3 images with 64 .. 1024 filters (``as_in_readme``); it did
not train, and the README now adds a batch normalisation before each relu
(``with_batch_norm``). Here the filters are scaled to the 32x32 digits (8 .. 32, a ~25th
of the compute) and the max pooling between stages is left out. Run from the repository
root, e.g.::

    cbamgen compare specs/cbam.yaml --model examples.readme_network:as_in_readme
"""

import keras

FILTERS = (8, 8, 16, 16, 32)


def as_in_readme(block, input_shape, classes):
    """Conv - relu - block, five times; no normalisation."""
    inputs = keras.Input(input_shape)
    x = inputs
    for index, filters in enumerate(FILTERS):
        x = keras.layers.Conv2D(
            filters, 3, padding="same", activation="relu", name=f"conv{index}"
        )(x)
        x = block()(x) if block else x
    return _classifier(inputs, x, classes)


def with_batch_norm(block, input_shape, classes):
    """Conv - batch norm - relu - block: each block sees unit-scale features, so the
    ~0.5 gates of an untrained block no longer compound into vanishing activations."""
    inputs = keras.Input(input_shape)
    x = inputs
    for index, filters in enumerate(FILTERS):
        x = keras.layers.Conv2D(filters, 3, padding="same", name=f"conv{index}")(x)
        x = keras.layers.BatchNormalization(momentum=0.9, name=f"bn{index}")(x)
        x = keras.layers.Activation("relu", name=f"relu{index}")(x)
        x = block()(x) if block else x
    return _classifier(inputs, x, classes)


def residual(block, input_shape, classes):
    """Conv - relu, then x + block(conv(x)) for the later convs (the block on a
    residual branch, as in CBAM): the identity path carries the signal past gates that
    start near 0.5."""
    inputs = keras.Input(input_shape)
    x = keras.layers.Conv2D(
        FILTERS[0], 3, padding="same", activation="relu", name="conv0"
    )(inputs)
    x = block()(x) if block else x
    for index, filters in enumerate(FILTERS[1:], 1):
        if x.shape[-1] != filters:
            x = keras.layers.Conv2D(filters, 1, name=f"proj{index}")(x)
        branch = keras.layers.Conv2D(
            filters, 3, padding="same", activation="relu", name=f"conv{index}"
        )(x)
        branch = block()(branch) if block else branch
        x = keras.layers.Add(name=f"add{index}")([x, branch])
    return _classifier(inputs, x, classes)


def _classifier(inputs, x, classes):
    x = keras.layers.GlobalAveragePooling2D(name="pool")(x)
    outputs = keras.layers.Dense(classes, activation="softmax", name="classes")(x)
    return keras.Model(inputs, outputs)
