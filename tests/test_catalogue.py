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
