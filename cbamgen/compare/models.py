"""The networks a comparison trains, each with or without attention blocks.

A builder is ``builder(block, input_shape, classes) -> keras.Model``. ``block`` is a
zero-argument factory that returns a new attention layer each time it is called, or
``None`` for the baseline: the same network without attention layers. The built-in
builders are :func:`resnet` (the default) and :func:`cnn`; a user's builder is named
``module:function`` on the command line. A user's existing network —
``keras.applications.NAME`` or a saved ``.keras`` file — gets its blocks from
``insert_blocks`` (:mod:`cbamgen.insert`), at ``residual`` or ``after:PATTERN``, as
can the built-in networks.

Layers that are not attention blocks get explicit names, so that every variant's
backbone can start from the baseline's initial weights (see ``train.py``).
"""

from __future__ import annotations

import functools
import importlib
import inspect
import sys
from collections.abc import Callable
from pathlib import Path

from ..errors import did_you_mean
from .inputs import InputError

BlockFactory = Callable[[], object] | None
Builder = Callable[[BlockFactory, tuple, int], object]

PLACEMENTS = ("residual", "after_conv")
APPLICATIONS = "keras.applications."
#: The built-in networks' own placements, as insert_blocks says them.
AS_INSERTED = {
    ("resnet", "residual"): "residual",
    ("resnet", "after_conv"): "after:stage*_out",
    ("cnn", "after_conv"): "after:stage*_relu",
}
#: Filters per stage; each stage after the first halves height and width.
STAGES = (16, 32, 64)
#: Keras's default 0.99 leaves the inference statistics far from the data after the
#: few hundred steps of a comparison (validation accuracy at chance); 0.9 is
#: PyTorch's default.
BN_MOMENTUM = 0.9


def cnn(block: BlockFactory, input_shape: tuple, classes: int, placement="after_conv"):
    """Three stages of conv 3x3 - batch norm - relu with 2x2 max pooling between them,
    a block after each stage's conv, global average pooling, a dense softmax."""
    if placement != "after_conv":
        raise ValueError("the cnn has no residual branches; use placement after_conv")
    import keras

    inputs = keras.Input(input_shape, name="image")
    x = inputs
    for stage, filters in enumerate(STAGES, 1):
        if stage > 1:
            x = keras.layers.MaxPooling2D(name=f"stage{stage}_pool")(x)
        x = _conv_bn(x, filters, 1, f"stage{stage}", relu=True)
        x = block()(x) if block else x
    return _head(inputs, x, classes)


def resnet(block: BlockFactory, input_shape: tuple, classes: int, placement="residual"):
    """A stem conv (stride 2), then one basic residual unit per stage (two conv 3x3 - batch norm,
    stride 2 from the second stage, a projected shortcut when the shape changes),
    global average pooling, a dense softmax.

    ``residual``: the block on the residual branch, after the second batch norm and
    before the addition, as in the CBAM paper (Woo et al. 2018, fig. 3).
    ``after_conv``: the block on each unit's output, after the addition and relu.
    """
    if placement not in PLACEMENTS:
        raise ValueError(f"unknown placement {placement!r}")
    import keras

    inputs = keras.Input(input_shape, name="image")
    x = _conv_bn(inputs, STAGES[0], 2, "stem", relu=True)
    for stage, filters in enumerate(STAGES, 1):
        name, stride = f"stage{stage}", 1 if stage == 1 else 2
        branch = _conv_bn(x, filters, stride, f"{name}_a", relu=True)
        branch = _conv_bn(branch, filters, 1, f"{name}_b", relu=False)
        if block and placement == "residual":
            branch = block()(branch)
        shortcut = x
        if stride != 1 or x.shape[-1] != filters:
            shortcut = _conv_bn(
                x, filters, stride, f"{name}_proj", relu=False, kernel=1
            )
        x = keras.layers.Add(name=f"{name}_add")([shortcut, branch])
        x = keras.layers.Activation("relu", name=f"{name}_out")(x)
        if block and placement == "after_conv":
            x = block()(x)
    return _head(inputs, x, classes)


def _conv_bn(x, filters: int, stride: int, name: str, relu: bool, kernel: int = 3):
    import keras

    x = keras.layers.Conv2D(
        filters, kernel, stride, padding="same", use_bias=False, name=f"{name}_conv"
    )(x)
    x = keras.layers.BatchNormalization(momentum=BN_MOMENTUM, name=f"{name}_bn")(x)
    return keras.layers.Activation("relu", name=f"{name}_relu")(x) if relu else x


def _head(inputs, x, classes: int):
    import keras

    x = keras.layers.GlobalAveragePooling2D(name="pool")(x)
    outputs = keras.layers.Dense(classes, activation="softmax", name="classes")(x)
    return keras.Model(inputs, outputs)


BUILT_IN = {"resnet": resnet, "cnn": cnn}


def default_placement(model: str) -> str | None:
    return {"resnet": "residual", "cnn": "after_conv"}.get(model)


def get_builder(model: str, placement: str | None, identity: bool = False) -> Builder:
    """The builder for ``--model`` / ``--placement`` / ``--identity``; an
    :class:`InputError` names what is wrong. ``placement`` None means the model's
    default."""
    if placement is not None and placement not in PLACEMENTS:
        if not placement.startswith("after:") or placement == "after:":
            raise InputError(
                [
                    f"--placement {placement}: use residual, after:PATTERN (a glob over "
                    "layer names, e.g. after:conv*_out), or for the built-in networks "
                    "after_conv"
                ]
            )
    if model in BUILT_IN:
        return _built_in(model, placement or default_placement(model), identity)
    if model.startswith(APPLICATIONS) or model.endswith(".keras"):
        if placement == "after_conv":
            raise InputError(
                [
                    f"--placement after_conv is the built-in networks'; for {model} "
                    "use residual or after:PATTERN"
                ]
            )
        make = (
            _application(model[len(APPLICATIONS) :])
            if model.startswith(APPLICATIONS)
            else _saved(Path(model))
        )
        return functools.partial(_inserted, make, placement or "residual", identity)
    if ":" not in model:
        raise InputError(
            [
                f"--model {model}: unknown; use resnet, cnn, keras.applications.NAME, "
                "a saved model FILE.keras, or module:function (a function(block, "
                "input_shape, classes) -> keras.Model)"
            ]
        )
    if placement is not None or identity:
        option = "--placement" if placement is not None else "--identity"
        raise InputError(
            [
                f"{option} applies to networks cbamgen puts the blocks in; {model} "
                "decides where its blocks go and how they start"
            ]
        )
    return load_user_builder(model)


def _built_in(model: str, placement: str, identity: bool) -> Builder:
    if model == "cnn" and placement == "residual":
        raise InputError(
            [
                "--placement residual: the cnn has no residual branches; use "
                "--model resnet, or --placement after_conv"
            ]
        )
    if placement in PLACEMENTS and not identity:
        return functools.partial(BUILT_IN[model], placement=placement)
    at = AS_INSERTED.get((model, placement), placement)

    def make(input_shape: tuple, classes: int):
        return BUILT_IN[model](None, input_shape, classes)

    return functools.partial(_inserted, make, at, identity)


def _inserted(make, at: str, identity: bool, block, input_shape: tuple, classes: int):
    """``make(input_shape, classes)``'s network, with ``block`` inserted at ``at``."""
    network = make(input_shape, classes)
    if block is None:
        return network
    from ..insert import insert_blocks

    return insert_blocks(network, block, at=at, identity=identity)


def inserts(builder: Builder) -> bool:
    """Whether ``builder``'s blocks are put in by ``insert_blocks``."""
    return getattr(builder, "func", None) is _inserted


def _application(name: str):
    """``keras.applications.NAME``, untrained (``weights=None``: nothing is
    downloaded), for the data's input shape and classes."""
    import keras

    available = sorted(  # the constructors, not the modules (resnet50, ...)
        n for n in dir(keras.applications) if callable(getattr(keras.applications, n))
    )
    if name not in available:
        raise InputError(
            [
                f"--model {APPLICATIONS}{name}: Keras has no such application"
                f"{did_you_mean(name, available)}; e.g. ResNet50, MobileNetV2, "
                "EfficientNetB0"
            ]
        )
    constructor = getattr(keras.applications, name)

    def make(input_shape: tuple, classes: int):
        return constructor(weights=None, input_shape=input_shape, classes=classes)

    return make


def _saved(path: Path):
    """A saved ``.keras`` network, loaded again for each trial (so every trial starts
    from the saved weights); it must load without cbamgen's help."""
    if not path.is_file():
        raise InputError([f"--model {path}: no such file"])
    import keras

    def make(input_shape: tuple, classes: int):
        return keras.saving.load_model(path, compile=False)

    try:
        make(None, None)
    except Exception as exc:  # whatever Keras raises: the file cannot be used
        reason = " ".join(str(exc).strip().splitlines()[:3])
        raise InputError(
            [
                f"--model {path}: cannot load it: {type(exc).__name__}: {reason} (a "
                "model with custom layers loads only where they are registered)"
            ]
        ) from None
    return make


def load_user_builder(name: str) -> Builder:
    """``module:function``, the module importable from the working directory too."""
    module_name, _, function_name = name.partition(":")
    if str(Path.cwd()) not in sys.path:
        sys.path.insert(0, str(Path.cwd()))
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise InputError(
            [f"--model {name}: cannot import {module_name}: {exc}"]
        ) from None
    function = getattr(module, function_name, None)
    if not callable(function):
        raise InputError(
            [f"--model {name}: {module_name} has no function {function_name}"]
        )
    try:
        inspect.signature(function).bind(None, (8, 8, 1), 2)
    except TypeError:
        raise InputError(
            [
                f"--model {name}: must take (block, input_shape, classes); it takes "
                f"{inspect.signature(function)}"
            ]
        ) from None
    return function
