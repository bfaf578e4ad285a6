"""insert_blocks on every stack it is for: Keras 3 (generated/insert_blocks.py, in this
process), TensorFlow 2.5.3 and tf-keras 2.21 (generated/tf_keras/insert_blocks.py, in
their own Python). tests/insert_runner.py does the insertions and reports what it
found; the expectations are here, written from the architectures (which layers end
each residual branch of ResNet50, MobileNetV2, ...), not from insert_blocks' output.
A model the runner trained and saved is loaded in a fresh process that imports only
the generated layer module.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from cbamgen.loader import load_spec
from cbamgen.render import render_source

from .needs import TF25

ROOT = Path(__file__).resolve().parent.parent
RUNNER = ROOT / "tests" / "insert_runner.py"
STACKS = (
    pytest.param("keras3", marks=pytest.mark.keras),
    # TensorFlow 2.5 runs in its own Python; marked keras too, as test_tf_keras.py's
    # are, so that -m "not keras" stays the generator's own quick tests.
    pytest.param("tensorflow_2_5", marks=[pytest.mark.tf25, pytest.mark.keras]),
    pytest.param("tf_keras_2_21", marks=pytest.mark.keras),
)


class Background:
    """The runner started under another Python, in the background, so that the Keras 2
    stacks run beside this process's Keras 3 run on the two cores."""

    def __init__(self, python: str, folder: Path, env: dict):
        self.folder = folder
        self.process = subprocess.Popen(
            [python, str(RUNNER), "tf_keras", str(folder)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", **env},
        )

    def results(self) -> list[dict]:
        stdout, stderr = self.process.communicate(timeout=900)
        assert self.process.returncode == 0, stderr[-3000:]
        return [json.loads(line) for line in stdout.splitlines() if line[:1] == "{"]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.communicate()


def prepared(tmp_path_factory, name: str, target: str) -> Path:
    """A folder for a stack's runner, holding CBAM rendered channels first: a block
    whose layout is not the model's (the "layout" error case)."""
    folder = tmp_path_factory.mktemp(name)
    spec = load_spec(ROOT / "specs" / "cbam.yaml").model_copy(
        # Its own name: TensorFlow 2.5 refuses a second registration of one name.
        update={"name": "CBAMFirst", "data_format": "channels_first", "target": target}
    )
    source = render_source(spec, "cbam_channels_first.yaml")
    (folder / "cbam_channels_first.py").write_text(source, encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def background(tmp_path_factory):
    """The Keras 2 stacks this machine has, started at once."""
    runs = {}
    if TF25.exists():
        runs["tensorflow_2_5"] = Background(
            str(TF25), prepared(tmp_path_factory, "tensorflow_2_5", "tf_keras"), {}
        )
    if importlib.util.find_spec("tf_keras") is not None:
        runs["tf_keras_2_21"] = Background(
            sys.executable,
            prepared(tmp_path_factory, "tf_keras_2_21", "tf_keras"),
            {"TF_USE_LEGACY_KERAS": "1"},
        )
    yield runs
    for run in runs.values():
        run.stop()


@pytest.fixture(scope="module", params=STACKS)
def stack(request, tmp_path_factory, background):
    """(stack name, {case: its report}, the folder with the trained model). The
    marks skip a stack that is not installed (tests/conftest.py); tf-keras is checked
    here."""
    name = request.param
    if name == "tf_keras_2_21" and importlib.util.find_spec("tf_keras") is None:
        if os.environ.get("CI"):
            pytest.fail("tf-keras is not installed: .ci/setup installs it")
        pytest.skip("tf-keras is not installed (bash .ci/setup)")
    if name == "keras3":
        from . import insert_runner

        folder = prepared(tmp_path_factory, name, "keras3")
        # As the other stacks report them: through JSON.
        results = json.loads(json.dumps(list(insert_runner.run(str(folder)))))
    else:
        folder = background[name].folder
        results = background[name].results()
    print({r["case"]: r["seconds"] for r in results})
    crashed = [r for r in results if "crash" in r]
    assert not crashed, "\n".join(r["case"] + ":\n" + r["crash"] for r in crashed)
    return name, {r["case"]: r["result"] for r in results}, folder


def _resnet_units():
    """ResNet50's (and ResNet50V2's) units: conv2 has 3, conv3 4, conv4 6, conv5 3."""
    return [
        f"conv{s}_block{b}"
        for s, n in ((2, 3), (3, 4), (4, 6), (5, 3))
        for b in range(1, n + 1)
    ]


#: Per network: the layer that ends each residual branch, from the architectures.
#: MobileNetV2 adds in its stride-1 blocks of equal width: 2, 4-5, 7-9, 11-12, 14-15;
#: EfficientNetB0 in every repeat after a stage's first block (drop connect, then add).
BRANCH_ENDS = {
    "ResNet50": [f"{u}_3_bn" for u in _resnet_units()],
    "ResNet50V2": [f"{u}_3_conv" for u in _resnet_units()],
    "MobileNetV2": [
        f"block_{i}_project_BN" for i in (2, 4, 5, 7, 8, 9, 11, 12, 14, 15)
    ],
    "EfficientNetB0": [
        f"block{b}_drop" for b in ("2b", "3b", "4b", "4c", "5b", "5c", "6b", "6c", "6d")
    ],
}
UNITS = {
    "ResNet50": _resnet_units(),
    "ResNet50V2": _resnet_units(),
    "MobileNetV2": [f"block_{i}" for i in (2, 4, 5, 7, 8, 9, 11, 12, 14, 15)],
    "EfficientNetB0": [
        f"block{b}" for b in ("2b", "3b", "4b", "4c", "5b", "5c", "6b", "6c", "6d")
    ],
}


@pytest.mark.parametrize("network", sorted(BRANCH_ENDS))
def test_residual_puts_a_block_on_every_residual_branch(stack, network):
    report = stack[1]["applications"][network]
    assert report["after"] == BRANCH_ENDS[network]
    assert report["names"] == [f"{unit}_seed_new_cbam" for unit in UNITS[network]]
    assert report["blocks"] == len(BRANCH_ENDS[network])


@pytest.mark.parametrize("network", sorted(BRANCH_ENDS))
def test_identity_insertion_keeps_outputs_and_shares_every_weight(stack, network):
    report = stack[1]["applications"][network]
    assert report["identity_error"] <= 1e-5
    assert report["shared"]  # every weight of the original is one of the new model's
    assert report["same_values"]  # and holds the value it had before the insertion
    assert report["new_weights"] == report["block_weights"] > 0  # and nothing else new
    assert report["kind"] == "Functional" and report["same_inputs"]
    assert report["original_unchanged"]


def test_after_pattern_names_blocks_after_their_layer(stack):
    report = stack[1]["applications"]["ResNet50 after:*_3_bn"]
    assert report["after"] == BRANCH_ENDS["ResNet50"]
    assert report["names"] == [f"{end}_cbam" for end in BRANCH_ENDS["ResNet50"]]
    assert report["shared"] and report["identity_error"] > 1e-3  # CBAM has no gate


def test_a_users_functional_model_add_layers_and_plus(stack):
    reports = stack[1]["user_models"]
    # unit2 adds with `x + y`: its block takes the branch's last layer's name; the
    # twin addition (one layer on each side) is not a residual unit.
    assert reports["residual"]["after"] == ["unit1_b_bn", "unit2_b_bn", "unit3_b_bn"]
    assert reports["residual"]["names"] == [
        "unit1_seed_new_cbam",
        "unit2_b_bn_seed_new_cbam",
        "unit3_seed_new_cbam",
    ]
    assert reports["residual"]["identity_error"] <= 1e-5
    assert reports["callable"]["after"] == ["unit2_proj_conv"]
    twice = reports["twice"]  # blocks into a model that has blocks: names stay unique
    assert twice["blocks"] == 6 and len(set(twice["names"])) == 6
    assert twice["names"][:2] == ["unit1_cbam", "unit1_cbam_2"]
    shared = reports["shared base"]  # one new base, called on both inputs
    assert shared["bases"] == 1 and shared["names"] == ["unit1_cbam"]
    assert shared["shared"]


@pytest.mark.parametrize("kind", ["sequential", "functional"])
def test_insertion_reaches_into_a_nested_base(stack, kind):
    report = stack[1]["nested"][kind]
    assert report["blocks"] == 10 and report["after"] == BRANCH_ENDS["MobileNetV2"]
    assert report["kind"] == kind.capitalize()
    assert report["name"] == ("transfer" if kind == "sequential" else "wrapper")
    # The base becomes a new model of the same name; the head's layers are the same.
    assert report["inner"] == [["Functional", "mobilenetv2_1.00_32"]]
    assert report["inner_is_new"] == [True] and all(report["others_kept"])
    assert report["shared"] and report["identity_error"] <= 1e-5
    # A frozen base stays frozen; the blocks in it train.
    assert report["base_frozen"] and report["blocks_trainable"]


def test_a_sequential_model_stays_sequential(stack):
    report = stack[1]["sequential"]["after"]
    assert report["kind"] == "Sequential" and report["name"] == "plain"
    assert report["layers"] == [
        "conv1",
        "conv1_cbam",
        "conv2",
        "conv2_cbam",
        "pool",
        "out",
    ]
    assert report["shared"]


#: Each error case: fragments its message must hold (what is wrong, and the fix).
ERRORS = {
    "subclassed": ["subclassed model (Subclassed)", "Functional"],
    "unbuilt": ["not built", "keras.Input"],
    "no match": [
        "'after:unit2_b_cnv'",
        "matches no layer of user_resnet",
        "nearest names: unit2_b_conv",
    ],
    "nothing near": ["'after:zz*'", "layers include: "],
    "nothing accepted": ["at=<lambda>", "accepted no layer of user_resnet"],
    "shape": [
        "Shrink on the residual branch of unit1",
        "(None, 16, 16, 8) to (None, 8, 8, 8)",
    ],
    "no add": ["no residual unit", "adds no two tensors", "after:PATTERN"],
    "twins only": ["no residual unit", "none of its 1 additions", "shortcut"],
    "no gate": [
        "identity=True",
        "CBAM has no gamma gate",
        "gamma: {mode: residual, init: 0}",
    ],
    "bad at": ["'before:conv'", "'residual', 'after:PATTERN'"],
    "not callable": ["block: 'CBAM' is not a layer class"],
    "needs arguments": ["no arguments failed", "units", "lambda: CBAM(reduction=8)"],
    "not a layer": ["made a int, not a Keras layer"],
    "dense output": [
        "CBAM cannot go after classes",
        "(None, 3)",
        "(batch, height, width, channels)",
    ],
    "layout": [
        "CBAMFirst on the residual branch of unit1 is laid out channels_first",
        "read 16 channels from axis 1 of (None, 16, 16, 8)",
        "feature maps are channels_last;",
        "render its spec with data_format: channels_last",
    ],
    "layout of the model": [
        "CBAM after cf_conv is laid out channels_last",
        "read 14 channels from axis -1 of (None, 8, 14, 14)",
        "feature maps are channels_first;",
    ],
}


def test_a_block_in_the_models_own_layout_is_accepted(stack):
    """The model's layout comes from its layers' data_format, not only from Keras's
    global setting: a channels-first block goes into a channels-first model."""
    assert stack[1]["errors"]["layout accepted"] == {"raised": None}


@pytest.mark.parametrize("case", sorted(ERRORS))
def test_errors_say_what_is_wrong_and_what_to_do(stack, case):
    report = stack[1]["errors"][case]
    assert report["raised"] == "InsertError", report
    for fragment in ERRORS[case]:
        assert fragment in report["message"]


LOAD = """
import json, sys
import numpy as np
sys.path.insert(0, sys.argv[1])
import cbam  # the generated layer module: all a saved model with CBAM blocks needs
if sys.argv[2] == "keras3":
    import keras
else:
    from tensorflow import keras
model = keras.models.load_model(sys.argv[3])
data = np.load(sys.argv[4])
error = float(np.max(np.abs(np.asarray(model(data["x"], training=False)) - data["expected"])))
print(json.dumps({"error": error, "cbamgen": sorted(m for m in sys.modules if "cbamgen" in m)}))
"""


def test_trains_saves_and_loads_in_a_fresh_process_without_cbamgen(stack):
    name, reports, folder = stack
    training = reports["training"]
    losses = (
        training["fit"]["losses"] + training.get("fit_xla", {"losses": []})["losses"]
    )
    assert all(loss == loss and abs(loss) < 1e3 for loss in losses)  # finite
    if name != "tensorflow_2_5":  # compile(jit_compile=...) is newer than TF 2.5
        assert "fit_xla" in training
    python = str(TF25) if name == "tensorflow_2_5" else sys.executable
    target = "keras3" if name == "keras3" else "tf_keras"
    generated = ROOT / "generated" / ("" if target == "keras3" else "tf_keras")
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    if name == "tf_keras_2_21":
        env["TF_USE_LEGACY_KERAS"] = "1"
    result = subprocess.run(
        [
            python,
            "-c",
            textwrap.dedent(LOAD),
            str(generated),
            target,
            training["saved"]["path"],
            str(folder / "trained.npz"),
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=folder,  # not the repository: cbamgen is not importable from here by path
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    loaded = json.loads(result.stdout.strip().splitlines()[-1])
    assert loaded["cbamgen"] == []
    assert loaded["error"] <= 1e-6
