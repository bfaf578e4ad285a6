"""Runs generated tf_keras layers under another Python and TensorFlow (2.5.3 on Python
3.9, or tf-keras 2.21 with TF_USE_LEGACY_KERAS=1) and reports, per case, as JSON lines:
the largest error against the reference output computed by the test process, an .h5
save/load round trip, a fit step, and (with CBAMGEN_TFLITE=1) the error of the model
converted by tf.lite.TFLiteConverter to TensorFlow Lite builtin ops only (no Flex ops)
and run by tf.lite.Interpreter.

    python tests/tf_keras_runner.py CASES_DIR

Needs only numpy and tensorflow: it must not import cbamgen (whose own dependencies
need a newer Python than TensorFlow 2.5 runs on).
"""

import importlib.util
import json
import os
import re
import sys

import numpy as np
import tensorflow as tf
from tensorflow import keras


def load_module(path, name):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def short_name(variable):
    """'block/channel_hidden/kernel:0' -> 'channel_hidden/kernel' (names are stable;
    Keras 2's DepthwiseConv2D calls its kernel what Keras 3's calls 'kernel')."""
    name = variable.name.split(":")[0].replace("/depthwise_kernel", "/kernel")
    parts = name.split("/")
    return "/".join(parts[1:]) if len(parts) > 1 else name


def relative_error(y, expected, x):
    """max |y - ref| / (|ref| + |x|), as cbamgen verify measures it."""
    return float(np.max(np.abs(y - expected) / (np.abs(expected) + np.abs(x) + 1e-30)))


def tflite(model, x):
    """The model converted to TensorFlow Lite builtin ops (conversion fails if an op
    needs the Flex delegate) and run by its interpreter on x."""
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    interpreter = tf.lite.Interpreter(model_content=converter.convert())
    given = interpreter.get_input_details()[0]
    interpreter.resize_tensor_input(given["index"], x.shape)
    interpreter.allocate_tensors()
    interpreter.set_tensor(given["index"], x)
    interpreter.invoke()
    return interpreter.get_tensor(interpreter.get_output_details()[0]["index"])


def run_case(folder, case):
    data = np.load(os.path.join(folder, case["data"]))
    module = load_module(case["module"], "generated_" + case["stem"])
    layer = getattr(module, case["class"])(name="block")
    x = data["x"]
    layer(x)  # build through __call__, inside the layer's name scope, as users do
    names = {}
    for variable in layer.weights:
        names[short_name(variable)] = variable
    expected_names = sorted(k[2:] for k in data.files if k.startswith("w/"))
    if sorted(names) != expected_names:
        return {
            "stem": case["stem"],
            "ok": False,
            "error": f"weight names {sorted(names)} != {expected_names}",
        }
    for key in expected_names:
        names[key].assign(data["w/" + key])
    y = layer(x, training=False).numpy()
    if case.get("absolute"):  # against a published module: max absolute error
        error = float(np.max(np.abs(y - data["expected"])))
    else:
        error = relative_error(y, data["expected"], x)
    scored, scores = layer(x, training=False, return_attention_scores=True)
    gates = {k[2:]: data[k] for k in data.files if k.startswith("g/")}
    scores_ok = sorted(scores) == sorted(gates) and np.array_equal(scored.numpy(), y)
    for name, gate in gates.items():
        scores_ok = scores_ok and bool(
            np.allclose(scores[name].numpy(), gate, rtol=1e-5, atol=1e-6)
        )
    if case.get("absolute"):  # a published module's output: the numbers alone
        return {
            "stem": case["stem"],
            "ok": error <= 1e-5 and scores_ok,
            "scores": scores_ok,
            "error": error,
            "tensorflow": tf.__version__,
        }
    inputs = keras.Input(x.shape[1:])
    model = keras.Model(inputs, layer(inputs))
    # Two runners may share the folder at once: each its own file.
    path = os.path.join(folder, f"{case['stem']}-{tf.__version__}.h5")
    model.save(path)
    restored = keras.models.load_model(path)
    same = bool(np.array_equal(model(x).numpy(), restored(x).numpy()))
    lite = os.environ.get("CBAMGEN_TFLITE") == "1"
    lite_error, flex = 0.0, []
    if lite:
        try:
            lite_error = relative_error(tflite(model, x), data["expected"], x)
        except Exception as exc:  # the converter names each op it lacks
            flex = sorted(set(re.findall(r"'tf\.(\w+)' op is neither", str(exc))))
            if not flex:
                raise
    model.compile(optimizer="sgd", loss="mse")
    loss = model.train_on_batch(x, np.zeros_like(x))
    trained = bool(np.isfinite(loss)) and all(
        np.all(np.isfinite(w)) for w in model.get_weights()
    )
    sampled = layer(x, training=True).numpy()
    result = {
        "stem": case["stem"],
        "ok": error <= 1e-5
        and lite_error <= 1e-5
        and same
        and trained
        and scores_ok
        and bool(np.all(np.isfinite(sampled))),
        "scores": scores_ok,
        "error": error,
        "h5_round_trip": same,
        **({"tflite_error": lite_error, "tflite_needs_flex": flex} if lite else {}),
        "fit_step": trained,
        "tensorflow": tf.__version__,
    }
    if case["seeded"]:
        result.update(seeds(module, case, x, data))
        result["ok"] = result["ok"] and result["seeds"] and result["frequencies"]
    return result


def seeds(module, case, x, data):
    """Fresh layers with one seed draw the same numbers; a layer's next call and
    another seed draw others; and a sampler's draws have the right frequencies."""

    def layer(seed):
        made = getattr(module, case["class"])(seed=seed, name="block")
        made(x)
        for variable in made.weights:
            variable.assign(data["w/" + short_name(variable)])
        return made

    first, twin, other = layer(7), layer(7), layer(8)
    draw = first(x, training=True).numpy()
    repeat = np.array_equal(draw, twin(x, training=True).numpy())
    fresh = not np.array_equal(draw, first(x, training=True).numpy())
    differ = not np.array_equal(draw, other(x, training=True).numpy())
    return {
        "seeds": bool(repeat and fresh and differ),
        "frequencies": frequencies(module),
    }


def frequencies(module):
    """Chi-square (p = 0.001) of 20,000 draws among 6 values, by every sampler helper
    the module has, regions across the last axis."""
    values = np.array([-1.0, 0.5, 1.0, 1.5, 2.0, 0.25], np.float32)
    probabilities = np.maximum(values, 0) / np.maximum(values, 0).sum()
    x = values[None, None, :] * np.ones((1, 20000, 1), np.float32)
    ok = True
    window = np.broadcast_to(
        np.array([-1.0, 0.5, 1.0, 1.5, 2.0, 0.25], np.float32).reshape(1, 2, 3, 1),
        (20000, 2, 3, 1),
    )
    for name in (
        "_stochastic_pool",
        "_simple_stochastic_pool",
        "_stochastic_window_pool",
    ):
        if hasattr(module, name):
            generator = tf.random.Generator.from_seed(1)
            if name == "_stochastic_window_pool":  # a 5 x 5 window sees the 2 x 3 map
                out = getattr(module, name)(window, 5, True, generator).numpy()
                out = out[:, 1, 1, 0]
            else:
                out = getattr(module, name)(x, -1, True, generator).numpy().ravel()
            counts = np.array([np.sum(out == v) for v in values])
            expected = probabilities * out.size
            possible = probabilities > 0
            chi2 = ((counts - expected)[possible] ** 2 / expected[possible]).sum()
            ok = ok and counts.sum() == out.size and counts[0] == 0 and chi2 < 18.467
    return bool(ok)


def main():
    folder = sys.argv[1]
    with open(os.path.join(folder, "cases.json")) as stream:
        cases = json.load(stream)
    for case in cases:
        try:
            result = run_case(folder, case)
        except Exception as exc:  # report, keep going: the test shows every failure
            result = {
                "stem": case["stem"],
                "ok": False,
                "error": f"{type(exc).__name__}: {str(exc)[:500]}",
            }
        print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
