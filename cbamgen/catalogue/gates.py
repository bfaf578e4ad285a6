"""Gates and activations: the elementwise functions of a block.

A gate squashes logits to attention weights; an activation sits inside an
excitation. Each has a macro in ``templates/gates.py.j2`` (spelled per target where
the targets differ) and a function in :mod:`cbamgen.reference.ops`.
"""

from __future__ import annotations

from .parts import Part, registry


class Gate(Part):
    template = "gates.py.j2"


class Sigmoid(Gate):
    name = "sigmoid"
    formula = "1 / (1 + exp(-z))"


class HardSigmoid(Gate):
    name = "hard_sigmoid"
    formula = "clip(z / 6 + 1/2, 0, 1), as PyTorch's and Keras 3's (not Keras 2's)"


GATES = registry(Sigmoid(), HardSigmoid())


class Activation(Part):
    template = "gates.py.j2"


class Relu(Activation):
    name = "relu"
    formula = "max(z, 0)"


class Gelu(Activation):
    name = "gelu"
    formula = "z Phi(z), the exact (erf) form"


class Silu(Activation):
    name = "silu"
    formula = "z sigmoid(z)"


class Tanh(Activation):
    name = "tanh"
    formula = "tanh(z)"


class HardSwish(Activation):
    name = "hard_swish"
    formula = "z clip(z / 6 + 1/2, 0, 1)"


class NoActivation(Activation):
    name = "none"
    formula = "z"


ACTIVATIONS = registry(Relu(), Gelu(), Silu(), Tanh(), HardSwish(), NoActivation())
