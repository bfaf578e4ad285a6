"""Why the README asks for BatchNormalization(momentum=0.9) on short runs.

A two-conv network on scikit-learn's 8x8 digits, each placed at a random spot of a
16x16 canvas (1,400 training and 397 validation images), trained for 5 epochs of 44
steps with and without a cbamgen block (generated/cbam.py) after each conv, with batch
normalisation momentum 0.99 (Keras's default) and 0.9. Run from the repository root:

    python examples/short_run_momentum.py

Needs scikit-learn and TensorFlow (``pip install "cbamgen[compare]"``); about a minute
on 2 CPU cores.
"""

import sys
from pathlib import Path

import keras
import numpy as np
from sklearn.datasets import load_digits

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "generated"))
from cbam import CBAM  # noqa: E402


def digits_on_canvas():
    digits = load_digits()
    x = np.zeros((len(digits.images), 16, 16, 1), "float32")
    rng = np.random.default_rng(0)
    for i, image in enumerate(digits.images):
        row, col = rng.integers(0, 9, 2)
        x[i, row : row + 8, col : col + 8, 0] = image / 16
    return x, digits.target


def network(momentum: float, blocks: bool) -> keras.Model:
    inputs = keras.Input((16, 16, 1))
    x = inputs
    for filters in (16, 32):
        x = keras.layers.Conv2D(filters, 3, padding="same", use_bias=False)(x)
        x = keras.layers.BatchNormalization(momentum=momentum)(x)
        x = keras.layers.Activation("relu")(x)
        x = CBAM()(x) if blocks else x
        x = keras.layers.MaxPooling2D()(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    return keras.Model(inputs, keras.layers.Dense(10, activation="softmax")(x))


def main():
    x, y = digits_on_canvas()
    print("momentum  blocks  train accuracy  validation accuracy (after 5 epochs)")
    for momentum in (0.99, 0.9):
        for blocks in (False, True):
            keras.utils.set_random_seed(0)
            model = network(momentum, blocks)
            model.compile(
                "adam", "sparse_categorical_crossentropy", metrics=["accuracy"]
            )
            history = model.fit(
                x[:1400],
                y[:1400],
                validation_data=(x[1400:], y[1400:]),
                epochs=5,
                batch_size=32,
                verbose=0,
            ).history
            print(
                f"{momentum:8}  {'CBAM' if blocks else 'none':6}  "
                f"{history['accuracy'][-1]:14.3f}  {history['val_accuracy'][-1]:.3f}"
            )


if __name__ == "__main__":
    main()
