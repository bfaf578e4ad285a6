"""One source of truth: every pool of the catalogue reaches every consumer."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from cbamgen import listing, reference
from cbamgen.catalogue import POOLS
from cbamgen.plan import _helper_for
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
    return [dict(c, type=kind, **w) for c in choices for w in ({}, {"window": 3})]


@pytest.mark.parametrize("kind", sorted(POOLS))
def test_every_pool_variant_has_a_template_macro_and_renders(kind):
    for variant in variants(kind):
        pool = POOLS[kind](**variant)
        branch = "spatial" if variant.get("window") else "channel"
        text = f"cbamgen: 1\nname: One\n{branch}: {{pools: [{variant}]}}\n"
        source = render_source(spec_from_yaml(text.replace("'", "")), "x.yaml")
        names = {
            n.name for n in ast.parse(source).body if isinstance(n, ast.FunctionDef)
        }
        assert _helper_for(pool, branch).name in names, variant


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
