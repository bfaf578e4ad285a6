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
