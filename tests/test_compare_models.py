"""compare's built-in networks: where each placement puts the blocks."""

from __future__ import annotations

import keras
import pytest

from cbamgen.compare.inputs import InputError
from cbamgen.compare.models import get_builder

pytestmark = [pytest.mark.keras, pytest.mark.compare]


class Marker(keras.layers.Layer):
    """An identity layer standing in for an attention block."""

    def call(self, inputs):
        return inputs


def feeders(model) -> list[str]:
    """The name of the layer whose output each block takes, in order."""
    return [
        layer._inbound_nodes[0].parent_nodes[0].operation.name
        for layer in model.layers
        if isinstance(layer, Marker)
    ]


@pytest.mark.parametrize(
    "model, placement, expected",
    [
        ("resnet", None, ["stage1_b_bn", "stage2_b_bn", "stage3_b_bn"]),
        ("resnet", "after_conv", ["stage1_out", "stage2_out", "stage3_out"]),
        ("cnn", None, ["stage1_relu", "stage2_relu", "stage3_relu"]),
    ],
)
def test_blocks_go_where_the_placement_says(model, placement, expected):
    network = get_builder(model, placement)(Marker, (32, 32, 1), 10)
    assert feeders(network) == expected


def test_a_residual_block_feeds_the_addition_not_the_shortcut():
    network = get_builder("resnet", "residual")(Marker, (32, 32, 1), 10)
    add = network.get_layer("stage2_add")
    inputs = [node.operation.name for node in add._inbound_nodes[0].parent_nodes]
    assert inputs[0] == "stage2_proj_bn" and isinstance(
        network.get_layer(inputs[1]), Marker
    )


def test_the_baseline_has_the_same_backbone_without_blocks():
    builder = get_builder("resnet", None)
    with_blocks = builder(Marker, (32, 32, 1), 10)
    baseline = builder(None, (32, 32, 1), 10)
    names = {
        layer.name for layer in with_blocks.layers if not isinstance(layer, Marker)
    }
    assert names == {layer.name for layer in baseline.layers}
    assert len(with_blocks.layers) == len(baseline.layers) + 3


def test_the_cnn_refuses_the_residual_placement():
    with pytest.raises(InputError):
        get_builder("cnn", "residual")


class Gated(keras.layers.Layer):
    """A block with a gamma gate, as insert_blocks needs for identity=True."""

    def __init__(self, gamma_init=0.5, **kwargs):
        super().__init__(**kwargs)
        self.gamma_init = gamma_init

    def build(self, input_shape):
        self.gamma = self.add_weight(
            name="gamma", shape=(), initializer=keras.initializers.Constant(1.0)
        )

    def call(self, inputs):
        return inputs + self.gamma * keras.ops.ones_like(inputs)

    def get_config(self):
        return {**super().get_config(), "gamma_init": self.gamma_init}


def test_a_keras_application_gets_its_blocks_from_insert_blocks():
    builder = get_builder("keras.applications.MobileNetV2", None)
    network = builder(Marker, (32, 32, 1), 7)
    assert network.output.shape == (None, 7)  # classes from the data
    assert feeders(network)[:2] == ["block_2_project_BN", "block_4_project_BN"]
    assert len(feeders(network)) == 10
    assert not feeders(builder(None, (32, 32, 1), 7))


def test_a_saved_network_is_loaded_for_each_trial_and_can_start_as_it_was(tmp_path):
    import numpy as np

    trained = get_builder("resnet", None)(None, (16, 16, 1), 3)
    path = tmp_path / "trained.keras"
    trained.save(path)
    builder = get_builder(str(path), None, identity=True)
    network = builder(Gated, (16, 16, 1), 3)
    assert [layer.name for layer in network.layers if isinstance(layer, Gated)] == [
        "stage1_gated",
        "stage2_gated",
        "stage3_gated",
    ]
    x = np.random.default_rng(0).normal(size=(2, 16, 16, 1)).astype("float32")
    np.testing.assert_allclose(network(x), trained(x), atol=1e-6)  # gamma set to 0
    assert builder(None, (16, 16, 1), 3) is not builder(None, (16, 16, 1), 3)


@pytest.mark.parametrize(
    "model, placement",
    [("resnet", "after:stage*_a_bn"), ("resnet", "after_conv"), ("cnn", None)],
)
def test_identity_on_a_built_in_network_goes_through_insert_blocks(model, placement):
    network = get_builder(model, placement, identity=True)(Gated, (32, 32, 1), 10)
    gates = [layer for layer in network.layers if isinstance(layer, Gated)]
    assert len(gates) == 3 and all(float(g.gamma.numpy()) == 0.0 for g in gates)


@pytest.mark.parametrize(
    "model, placement, identity, message",
    [
        ("keras.applications.ResNet5", None, False, "(did you mean 'ResNet50'?)"),
        ("missing.keras", None, False, "--model missing.keras: no such file"),
        ("resnet", "before:x", False, "use residual, after:PATTERN"),
        ("keras.applications.ResNet50", "after_conv", False, "use residual or after"),
        ("examples.net:build", "residual", False, "--placement applies to networks"),
        ("examples.net:build", None, True, "--identity applies to networks"),
        ("lenet", None, False, "keras.applications.NAME, a saved model FILE.keras"),
    ],
)
def test_bad_network_options_say_what_to_use(model, placement, identity, message):
    with pytest.raises(InputError) as raised:
        get_builder(model, placement, identity)
    assert message in raised.value.messages[0]


def test_a_file_that_does_not_load_says_why(tmp_path):
    path = tmp_path / "broken.keras"
    path.write_text("not a zip file")
    with pytest.raises(InputError) as raised:
        get_builder(str(path), None)
    assert raised.value.messages[0].startswith(f"--model {path}: cannot load it: ")
