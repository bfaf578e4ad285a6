"""Runs the committed insert_blocks.py on one Keras stack and reports what it did, as
JSON lines, one per case; tests/test_insert.py judges them.

    python tests/insert_runner.py tf_keras FOLDER   # Keras 2: generated/tf_keras/

Keras 2 is TensorFlow 2.5.3 (Python 3.9) or tf-keras 2.21 (TF_USE_LEGACY_KERAS=1).
Imported as a module it runs Keras 3 and generated/ (:func:`run`), in the test's own
process. Imports only numpy, TensorFlow/Keras and generated files, never cbamgen
(which cannot be installed next to TensorFlow 2.5). FOLDER receives a trained model,
saved, for a fresh process to load.
"""

import importlib.util
import json
import os
import sys
import time
import traceback

import numpy as np

TARGET = sys.argv[1] if __name__ == "__main__" else "keras3"
if TARGET == "keras3":
    import keras
    import tensorflow as tf
else:
    import tensorflow as tf
    from tensorflow import keras

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GENERATED = os.path.join(
    ROOT, "generated", *(() if TARGET == "keras3" else ("tf_keras",))
)
SAVED = ".keras" if TARGET == "keras3" else ".h5"
APPLICATIONS = ("ResNet50", "ResNet50V2", "MobileNetV2", "EfficientNetB0")
RNG = np.random.default_rng(0)
IMAGES = RNG.normal(size=(2, 32, 32, 3)).astype("float32")


def generated(stem):
    spec = importlib.util.spec_from_file_location(
        stem, os.path.join(GENERATED, stem + ".py")
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


helper = generated("insert_blocks")
insert_blocks, InsertError = helper.insert_blocks, helper.InsertError
CBAM = generated("cbam").CBAM  # no gamma gate
NewCBAM = generated("seed_new_cbam").SeedNewCBAM  # gamma: {mode: blend, init: 0}


def blocks_of(model, cls):
    """Every block of class cls in model and the models nested in it."""
    found = []
    for layer in model.layers:
        if isinstance(layer, cls):
            found.append(layer)
        elif isinstance(layer, keras.Model):
            found.extend(blocks_of(layer, cls))
    return found


def feeding(block):
    """The name of the layer whose output a block takes."""
    tensors = tf.nest.flatten(block._inbound_nodes[-1].input_tensors)
    return tensors[0]._keras_history[0].name


def sharing(original, new):
    """Whether every weight of original is a weight of new (the same variable)."""
    ids = {id(v) for v in new.weights}
    return all(id(v) in ids for v in original.weights)


def error(original, new, x):
    """Largest |new(x) - original(x)|, inference mode."""
    a = np.asarray(original(x, training=False))
    b = np.asarray(new(x, training=False))
    return float(np.max(np.abs(a - b)))


def report(original, new, cls, x):
    blocks = blocks_of(new, cls)
    return {
        "blocks": len(blocks),
        "names": [b.name for b in blocks],
        "after": [feeding(b) for b in blocks],
        "identity_error": error(original, new, x),
        "shared": sharing(original, new),
        "new_weights": len(new.weights) - len(original.weights),
        "block_weights": sum(len(b.weights) for b in blocks),
        "kind": type(new).__name__,
        "name": new.name,
        "same_inputs": [id(t) for t in new.inputs] == [id(t) for t in original.inputs],
    }


def applications():
    results = {}
    for name in APPLICATIONS:
        original = getattr(keras.applications, name)(
            weights=None, include_top=False, input_shape=(32, 32, 3)
        )
        layers = list(original.layers)
        values = [np.array(v) for v in original.get_weights()]
        new = insert_blocks(original, NewCBAM, identity=True)
        results[name] = report(original, new, NewCBAM, IMAGES)
        # Nothing was initialised again: every weight holds the value it had.
        after = original.get_weights()
        results[name]["same_values"] = len(after) == len(values) and all(
            map(np.array_equal, values, after)
        )
        if name == "ResNet50":
            after = insert_blocks(
                original, lambda: CBAM(reduction=8), at="after:*_3_bn"
            )
            results["ResNet50 after:*_3_bn"] = report(original, after, CBAM, IMAGES)
        results[name]["original_unchanged"] = list(original.layers) == layers
        keras.backend.clear_session()
    return results


def conv_bn(x, filters, name, strides=1, kernel=3):
    x = keras.layers.Conv2D(
        filters, kernel, strides, "same", use_bias=False, name=name + "_conv"
    )(x)
    return keras.layers.BatchNormalization(name=name + "_bn")(x)


def user_resnet(classes=3):
    """Three units: an Add layer with an identity shortcut, `x + y` with a projected
    shortcut, and a unit whose shortcut is the longer path (branch first)."""
    inputs = keras.Input((16, 16, 3), name="image")
    x = keras.layers.ReLU(name="stem_relu")(conv_bn(inputs, 8, "stem"))
    y = conv_bn(
        keras.layers.ReLU(name="unit1_relu")(conv_bn(x, 8, "unit1_a")), 8, "unit1_b"
    )
    x = keras.layers.Add(name="unit1_add")([x, y])
    shortcut = conv_bn(x, 16, "unit2_proj", strides=2, kernel=1)
    y = conv_bn(
        keras.layers.ReLU(name="unit2_relu")(conv_bn(x, 16, "unit2_a", strides=2)),
        16,
        "unit2_b",
    )
    x = shortcut + y
    y = conv_bn(
        keras.layers.ReLU(name="unit3_relu")(conv_bn(x, 16, "unit3_a")), 16, "unit3_b"
    )
    x = keras.layers.add([y, x], name="unit3_add")
    # Not a residual unit: two paths of one layer each from the same tensor.
    x = keras.layers.Add(name="twin_add")(
        [conv_bn(x, 16, "twin_a"), conv_bn(x, 16, "twin_b")]
    )
    x = keras.layers.GlobalAveragePooling2D(name="pool")(x)
    outputs = keras.layers.Dense(classes, activation="softmax", name="classes")(x)
    return keras.Model(inputs, outputs, name="user_resnet")


def one_unit():
    """The smallest residual network: fast to compile, for the training case."""
    inputs = keras.Input((16, 16, 3), name="image")
    x = keras.layers.ReLU(name="stem_relu")(conv_bn(inputs, 8, "stem"))
    x = keras.layers.Add(name="unit_add")([x, conv_bn(x, 8, "unit_a")])
    x = keras.layers.GlobalAveragePooling2D(name="pool")(x)
    outputs = keras.layers.Dense(3, activation="softmax", name="classes")(x)
    return keras.Model(inputs, outputs, name="one_unit")


def user_models():
    model = user_resnet()
    x = RNG.normal(size=(4, 16, 16, 3)).astype("float32")
    results = {
        "residual": report(
            model, insert_blocks(model, NewCBAM, identity=True), NewCBAM, x
        )
    }
    one_by_one = insert_blocks(
        model, CBAM, at=lambda layer: getattr(layer, "kernel_size", None) == (1, 1)
    )
    results["callable"] = report(model, one_by_one, CBAM, x)
    twice = insert_blocks(insert_blocks(model, CBAM), CBAM)
    results["twice"] = report(model, twice, CBAM, x)
    # A base shared by two inputs (siamese): rebuilt once, still shared.
    base = keras.Model(model.input, model.get_layer("unit1_add").output, name="base")
    left, right = keras.Input((16, 16, 3)), keras.Input((16, 16, 3))
    merged = keras.layers.Concatenate(name="both")([base(left), base(right)])
    siamese = keras.Model([left, right], merged, name="siamese")
    shared = insert_blocks(siamese, CBAM)
    results["shared base"] = report(siamese, shared, CBAM, [x, x])
    results["shared base"]["bases"] = len(
        {id(layer) for layer in shared.layers if isinstance(layer, keras.Model)}
    )
    return results


def nested():
    """A keras.applications base inside transfer-learning models: frozen, in a
    Sequential and in a Functional wrapper that calls it with training=False."""
    base = keras.applications.MobileNetV2(
        weights=None, include_top=False, input_shape=(32, 32, 3)
    )
    base.trainable = False
    sequential = keras.Sequential(
        [
            (
                keras.layers.InputLayer(input_shape=(32, 32, 3))
                if TARGET != "keras3"
                else keras.Input((32, 32, 3))
            ),
            base,
            keras.layers.GlobalAveragePooling2D(),
            keras.layers.Dense(5),
        ],
        name="transfer",
    )
    inputs = keras.Input((32, 32, 3))
    x = (
        keras.layers.Rescaling(1 / 127.5, -1.0)(inputs)
        if hasattr(keras.layers, "Rescaling")
        else inputs
    )
    x = base(x, training=False)
    wrapper = keras.Model(
        inputs,
        keras.layers.Dense(5)(keras.layers.GlobalAveragePooling2D()(x)),
        name="wrapper",
    )
    results = {}
    for label, model in (("sequential", sequential), ("functional", wrapper)):
        new = insert_blocks(model, NewCBAM, identity=True)
        inner = [layer for layer in new.layers if isinstance(layer, keras.Model)]
        result = report(model, new, NewCBAM, IMAGES)
        trainable = new.trainable_weights
        result.update(
            inner=[(type(m).__name__, m.name) for m in inner],
            inner_is_new=[m is not base for m in inner],
            others_kept=[
                a is b
                for a, b in zip(model.layers, new.layers)  # noqa: B905 (Python 3.9)
                if not isinstance(a, keras.Model)
            ],
            base_frozen=all(
                id(v) not in {id(t) for t in trainable} for v in base.weights
            ),
            blocks_trainable=all(
                id(v) in {id(t) for t in trainable}
                for b in blocks_of(new, NewCBAM)
                for v in b.trainable_weights
            ),
        )
        results[label] = result
    return results


def sequential():
    model = keras.Sequential(
        [
            (
                keras.Input((16, 16, 3))
                if TARGET == "keras3"
                else keras.layers.InputLayer(input_shape=(16, 16, 3))
            ),
            keras.layers.Conv2D(8, 3, padding="same", name="conv1"),
            keras.layers.Conv2D(8, 3, padding="same", name="conv2"),
            keras.layers.GlobalAveragePooling2D(name="pool"),
            keras.layers.Dense(2, name="out"),
        ],
        name="plain",
    )
    new = insert_blocks(model, CBAM, at="after:conv*")
    x = RNG.normal(size=(2, 16, 16, 3)).astype("float32")
    result = report(model, new, CBAM, x)
    result["layers"] = [layer.name for layer in new.layers]
    return {"after": result}


class Subclassed(keras.Model):
    def __init__(self):
        super().__init__()
        self.conv = keras.layers.Conv2D(4, 3)

    def call(self, x):
        return self.conv(x)


class Shrink(keras.layers.Layer):
    def call(self, x):
        return x[:, ::2, ::2, :]


def errors(folder):
    model = user_resnet()
    # CBAM rendered with data_format: channels_first by the test into the folder.
    spec = importlib.util.spec_from_file_location(
        "cbam_channels_first", os.path.join(folder, "cbam_channels_first.py")
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    chain = keras.Sequential([keras.layers.Dense(3)])
    inputs = keras.Input((8, 8, 4))
    no_add = keras.Model(
        inputs, keras.layers.Conv2D(4, 3, padding="same", name="only_conv")(inputs)
    )
    # A channels-first model whatever Keras's image_data_format says: its layers say.
    image = keras.Input((8, 16, 16))
    first = keras.Model(
        image,
        keras.layers.Conv2D(8, 3, data_format="channels_first", name="cf_conv")(image),
    )
    subclassed = Subclassed()
    subclassed(np.zeros((1, 8, 8, 3), "float32"))
    attempts = {
        "subclassed": lambda: insert_blocks(subclassed, CBAM),
        "unbuilt": lambda: insert_blocks(chain, CBAM, at="after:*"),
        "no match": lambda: insert_blocks(model, CBAM, at="after:unit2_b_cnv"),
        "nothing near": lambda: insert_blocks(model, CBAM, at="after:zz*"),
        "nothing accepted": lambda: insert_blocks(model, CBAM, at=lambda layer: False),
        "shape": lambda: insert_blocks(model, Shrink),
        "no add": lambda: insert_blocks(no_add, CBAM),
        "twins only": lambda: insert_blocks(
            keras.Model(
                inputs,
                keras.layers.Add()(
                    [
                        keras.layers.Conv2D(4, 1)(inputs),
                        keras.layers.Conv2D(4, 1)(inputs),
                    ]
                ),
            ),
            CBAM,
        ),
        "no gate": lambda: insert_blocks(model, CBAM, identity=True),
        "bad at": lambda: insert_blocks(model, CBAM, at="before:conv"),
        "not callable": lambda: insert_blocks(model, "CBAM"),
        "needs arguments": lambda: insert_blocks(model, keras.layers.Dense),
        "not a layer": lambda: insert_blocks(model, lambda: 3),
        "dense output": lambda: insert_blocks(model, CBAM, at="after:classes"),
        "layout": lambda: insert_blocks(model, module.CBAMFirst),
        "layout of the model": lambda: insert_blocks(first, CBAM, at="after:cf_conv"),
        "layout accepted": lambda: insert_blocks(
            first, module.CBAMFirst, at="after:cf_conv"
        ),
    }
    results = {}
    for label, attempt in attempts.items():
        try:
            attempt()
            results[label] = {"raised": None}
        except InsertError as exc:
            results[label] = {"raised": "InsertError", "message": str(exc)}
        except Exception as exc:  # reported: the test says which case raised what
            results[label] = {"raised": type(exc).__name__, "message": str(exc)[:500]}
    return results


def training(folder):
    """fit, with XLA too, then save for a fresh process: the model and what it gives."""
    x = RNG.normal(size=(16, 16, 16, 3)).astype("float32")
    y = RNG.integers(0, 3, size=16)
    model = insert_blocks(one_unit(), lambda: CBAM(reduction=4))
    results = {}
    # TensorFlow 2.5's compile() has no jit_compile. (Under tf.function(jit_compile=True)
    # user_resnet with CBAM blocks, rebuilt alike from its config, gets NaN gradients
    # there from its second step; not without XLA, not on later versions.)
    xla = (False,) if tf.__version__.startswith("2.5.") else (False, True)
    for jit_compile in xla:
        model.compile(
            optimizer="adam",
            loss="sparse_categorical_crossentropy",
            **({"jit_compile": True} if jit_compile else {}),
        )
        losses = model.fit(x, y, batch_size=8, epochs=2, verbose=0).history["loss"]
        results["fit_xla" if jit_compile else "fit"] = {
            "losses": [float(v) for v in losses]
        }
    path = os.path.join(folder, "trained" + SAVED)
    model.save(path)
    np.savez(
        os.path.join(folder, "trained.npz"),
        x=x,
        expected=np.asarray(model(x, training=False)),
    )
    results["saved"] = {"path": path}
    return results


def run(folder):
    """Every case's report, or the traceback that stopped it."""
    for case in (applications, user_models, nested, sequential, errors, training):
        start = time.perf_counter()
        try:
            result = {
                "case": case.__name__,
                "result": case(folder) if case in (errors, training) else case(),
            }
        except Exception:  # report, keep going: the test shows every failure
            result = {"case": case.__name__, "crash": traceback.format_exc()[-3000:]}
        result["tensorflow"] = tf.__version__
        result["seconds"] = round(time.perf_counter() - start, 1)
        yield result


def main():
    for result in run(sys.argv[2]):
        print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
