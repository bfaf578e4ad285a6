"""One source of truth: every pool of the catalogue reaches every consumer."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from cbamgen import listing, reference
from cbamgen.catalogue import POOLS
from cbamgen.render import render_source

from .support import spec_from_yaml


def test_reference_computes_every_pool():
    assert set(reference.POOL_FUNCTIONS) == set(POOLS)


def variants(kind: str) -> list[dict]:
    """Every code-changing variant of a pool: its enum parameters, with/without window."""
    schema = POOLS[kind].model_json_schema()["properties"]
    choices = [{}]
    for name, prop in schema.items():
        if "enum" in prop and name != "type":
            choices = [dict(c, **{name: v}) for c in choices for v in prop["enum"]]
    plain = [dict(c, type=kind) for c in choices]
    if "window" not in POOLS[kind].regions or POOLS[kind].keeps_channels:
        return plain
    # 'sampler' is for maps and a pixel's channels: a window has one sampler.
    windowed = [dict(c, type=kind, window=3) for c in choices if "sampler" not in c]
    windowed += [dict(type=kind, window=3)] if not windowed else []
    return plain + windowed


#: Where a spec puts a pool to make it reduce each region.
PLACES = {
    "map": "channel: {{pools: [{pool}]}}",
    "extent": "channel: {{pools: [{pool}], extent: 2}}",
    "across": "spatial: {{pools: [{pool}]}}",
    "window": "spatial: {{pools: [{pool}]}}",
    "strip": "coordinate: {{pools: [{pool}]}}",
}


def places(variant: dict) -> list[str]:
    if "window" in variant:
        return [PLACES["window"]]
    regions = POOLS[variant["type"]].regions
    return [PLACES[r] for r in regions if r != "window"]


def called_and_defined(source: str) -> tuple[set[str], set[str]]:
    """The module-level functions a file calls (by name) and the ones it defines."""
    tree = ast.parse(source)
    defined = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
    called = {
        n.func.id
        for n in ast.walk(tree)
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)
    }
    return called & {n for n in called if n.startswith("_")}, defined


@pytest.mark.parametrize("target", ["keras3", "tf_keras"])
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("kind", sorted(POOLS))
def test_every_pool_variant_renders_with_exactly_the_helpers_it_calls(
    kind, data_format, target
):
    """In every region it can reduce: every helper called is defined, and every helper
    defined is called (the pools declare what they call; this checks them)."""
    for variant in variants(kind):
        for place in places(variant):
            branch = place.format(pool=variant).replace("'", "")
            text = (
                f"cbamgen: 1\nname: One\ntarget: {target}\ndata_format: {data_format}"
                f"\n{branch}\n"
            )
            source = render_source(spec_from_yaml(text), "x.yaml")
            called, defined = called_and_defined(source)
            assert called == defined, (variant, branch, called ^ defined)


def test_docs_pool_table_is_generated_from_the_catalogue():
    text = Path("docs/spec.md").read_text(encoding="utf-8")
    table = re.search(r"<!-- pools:begin.*?-->\n(.*?)<!-- pools:end -->", text, re.S)
    assert table, "docs/spec.md lost its pools markers"
    assert table.group(1) == listing.markdown(), (
        "docs/spec.md's pool table is stale: paste the output of "
        "'cbamgen pools --markdown' between the markers"
    )


def test_pools_listing_names_every_pool_with_its_formula():
    text = listing.text()
    for kind, cls in POOLS.items():
        assert f"{kind} — {cls.title}" in text and cls.formula in text


def test_reference_computes_every_part():
    """Each catalogue entry has its NumPy function under its name."""
    from cbamgen.catalogue import (
        ACTIVATIONS,
        BRANCHES,
        EXCITATIONS,
        FUSIONS,
        GAMMAS,
        GATES,
    )

    assert set(reference.BRANCHES) == set(BRANCHES)
    assert {k: set(v) for k, v in reference.EXCITATIONS.items()} == {
        k: set(v) for k, v in EXCITATIONS.items()
    }
    assert set(reference.FUSIONS) == set(FUSIONS)
    assert set(reference.GAMMAS) == set(GAMMAS)
    assert set(reference.GATES) == set(GATES)
    assert set(reference.ACTIVATIONS) == set(ACTIVATIONS)


def test_every_part_has_its_template():
    """Each branch kind and excitation names a template that exists; each fusion and
    gate has its macro."""
    from cbamgen.catalogue import BRANCHES, FUSIONS, GATES
    from cbamgen.render import environment

    env = environment()
    for branch in BRANCHES.values():
        env.get_template(branch.template)
        for part in branch.excitations.values():
            module = env.get_template(part.template).module
            assert hasattr(module, "build") and hasattr(module, "logits"), part
    fusions = env.get_template("fusions.py.j2").module
    assert all(hasattr(fusions, name) for name in FUSIONS)
    from cbamgen.catalogue import GAMMAS

    for mode in GAMMAS.values():
        assert hasattr(env.get_template(mode.template).module, mode.macro), mode
    gates = env.get_template("gates.py.j2").module
    assert all(hasattr(gates, name) for name in GATES)


def test_docs_blocks_tables_are_generated_from_the_catalogue():
    from cbamgen import blocks_listing

    text = Path("docs/spec.md").read_text(encoding="utf-8")
    table = re.search(r"<!-- blocks:begin.*?-->\n(.*?)<!-- blocks:end -->", text, re.S)
    assert table, "docs/spec.md lost its blocks markers"
    assert table.group(1) == blocks_listing.markdown(), (
        "docs/spec.md's excitation and fusion tables are stale: paste the output of "
        "'cbamgen blocks --markdown' between the markers"
    )


def test_blocks_listing_names_every_branch_excitation_and_fusion():
    from cbamgen import blocks_listing
    from cbamgen.catalogue import BRANCHES, FUSIONS

    text = blocks_listing.text()
    for kind, branch in BRANCHES.items():
        assert text.count(f"{kind} — ") == 1
        for name in branch.excitations:
            assert f"excite: {name} — " in text
    for name in FUSIONS:
        assert f"    {name}: " in text
