"""``cbamgen schema``: the spec language as a JSON Schema, for editors.

It comes from the pydantic models, plus the bare-name form of pools that a validator
turns into mappings. Cross-key rules (:mod:`cbamgen.rules`) are not expressible in it:
``cbamgen validate`` remains the authority.
"""

from __future__ import annotations

from typing import Any

from .catalogue import BRANCHES, POOLS
from .spec import Spec


def json_schema() -> dict[str, Any]:
    schema = Spec.model_json_schema()
    for branch in BRANCHES.values():
        properties = schema["$defs"][branch.model.__name__]["properties"]
        if "pools" in properties:
            pools = properties["pools"]
            pools["items"] = {"anyOf": [{"enum": list(POOLS)}, pools["items"]]}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://cbamgen.invalid/spec-v1.schema.json",
        **schema,
        "title": "cbamgen spec, version 1",
    }
