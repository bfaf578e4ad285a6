"""Static checks on every generated file (and every pool variant): the Keras pitfalls
listed in KERAS-NOTES cannot appear. ruff (in CI) also checks generated/ for unused
imports and undefined names."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from cbamgen.catalogue import POOLS
from cbamgen.render import render_source

from .support import layer_files, spec_from_yaml

GENERATED = layer_files(Path("generated"))
VARIANTS = [
    "{type: stochastic, weights: softmax}",
    "{type: lp, normalize: sum}",
    "{type: lse, normalize: sum}",
    "{type: mixed, trainable: true}",
]


def _reducing(region: str) -> list[str]:
    return [kind for kind, cls in POOLS.items() if region in cls.regions]


MAPS = ", ".join([*_reducing("map"), *VARIANTS])
ACROSS = ", ".join([*_reducing("across"), *VARIANTS])
WINDOWED = ", ".join(
    f"{{type: {k}, window: 3}}"
    for k in [*_reducing("window"), "stochastic, weights: softmax"]
)


def rendered(name: str, channel: str, spatial: str) -> str:
    text = f"cbamgen: 1\nname: {name}\nchannel: {channel}\nspatial: {spatial}\n"
    text += "gamma: {mode: blend}\n"
    return render_source(spec_from_yaml(text), f"specs/{name.lower()}.yaml")


SOURCES = {p.stem: p.read_text(encoding="utf-8") for p in GENERATED}
SOURCES["every_pool"] = rendered(
    "EveryPool", f"{{pools: [{MAPS}]}}", f"{{pools: [{ACROSS}], norm: batch}}"
)
SOURCES["every_window"] = rendered(
    "EveryWindow", "{excite: conv1d}", f"{{pools: [{WINDOWED}]}}"
)


def calls(tree: ast.AST, name: str):
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            called = (
                func.attr
                if isinstance(func, ast.Attribute)
                else getattr(func, "id", "")
            )
            if called == name:
                yield node


@pytest.mark.parametrize("stem", sorted(SOURCES))
def test_add_weight_always_names_its_arguments(stem):
    tree = ast.parse(SOURCES[stem])
    for call in calls(tree, "add_weight"):
        assert not call.args, ast.unparse(call)
        assert {k.arg for k in call.keywords} >= {"name", "shape", "initializer"}


@pytest.mark.parametrize("stem", sorted(SOURCES))
def test_no_tf_keras_saving_and_no_framework_but_keras(stem):
    source = SOURCES[stem]
    assert "tf.keras" not in source and "tensorflow" not in source
    tree = ast.parse(source)
    modules = {
        a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names
    }
    modules |= {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    assert modules <= {"keras", "math"}


#: The only conditions a generated function may branch on: Python values, never tensors.
PYTHON_CONDITIONS = {
    "not training",  # a Python bool (Keras 3 passes training as one)
    "channels is None",  # a static shape in build()
    "training",  # the same Python bool
    "return_attention_scores",  # a Python bool, as in keras.layers.MultiHeadAttention
    "blocks * length > size",  # static sizes in _split_axis and _block_length
    "size % n == 0",
    "columns == len(x.shape) - 1",  # static axes in _sample_2d
    "a == axis",  # static axes in _uniform
    "a not in axes",  # static axes in _sample_simply
    "isinstance(axis, int)",
    "t % 2",  # ECA's kernel size from the static channel count
    "seed is not None",  # the tf_keras target's generator, in __init__
    # _gather's int32 guard, on the static shape only
    "None not in x.shape and math.prod(x.shape) >= 2 ** 31",
}


@pytest.mark.parametrize("stem", sorted(SOURCES))
def test_no_python_if_on_tensors(stem):
    """Conditions outside build() (which sees only shapes and Python numbers) are the
    known ones on Python values."""
    tree = ast.parse(SOURCES[stem])
    in_build = {
        id(node)
        for function in ast.walk(tree)
        if isinstance(function, ast.FunctionDef) and function.name == "build"
        for node in ast.walk(function)
    }
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.If | ast.IfExp | ast.While)
            and id(node) not in in_build
        ):
            assert ast.unparse(node.test) in PYTHON_CONDITIONS, ast.unparse(node.test)


@pytest.mark.parametrize("stem", sorted(SOURCES))
def test_call_signature_and_registration(stem):
    tree = ast.parse(SOURCES[stem])
    (cls,) = [n for n in tree.body if isinstance(n, ast.ClassDef)]
    methods = {n.name: n for n in cls.body if isinstance(n, ast.FunctionDef)}
    assert {"__init__", "build", "call", "compute_output_shape", "get_config"} <= set(
        methods
    )
    call = methods["call"]
    assert [a.arg for a in call.args.args] == [
        "self",
        "inputs",
        "training",
        "return_attention_scores",
    ]
    assert [ast.unparse(d) for d in call.args.defaults] == ["None", "False"]
    (decorator,) = cls.decorator_list
    assert ast.unparse(decorator) == (
        "keras.saving.register_keras_serializable(package='cbamgen')"
    )


@pytest.mark.parametrize("target", ["keras3", "tf_keras"])
def test_the_simple_sampler_reads_at_a_glance(target):
    """`sampler: simple` prints one function of at most 25 lines, drawing its uniforms
    from the framework's random ops, and none of the fast sampler's helpers."""
    pool = "{type: stochastic, sampler: simple}"
    text = f"cbamgen: 1\nname: Simple\nchannel: {{pools: [{pool}]}}\n"
    text += f"spatial: {{pools: [{pool}]}}\ntarget: {target}\n"
    source = render_source(spec_from_yaml(text), "specs/simple.yaml")
    functions = {
        n.name: n for n in ast.parse(source).body if isinstance(n, ast.FunctionDef)
    }
    sampler = functions["_sample_simply"]
    assert sampler.end_lineno - sampler.lineno + 1 <= 25
    assert {"_sample_2d", "_split_axis", "_uniform", "_hash"}.isdisjoint(functions)
    random = (
        "keras.random.uniform(" if target == "keras3" else "seed_generator.uniform("
    )
    assert random in ast.get_source_segment(source, sampler)
