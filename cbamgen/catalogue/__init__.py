"""The catalogue: every part of the spec language, each the one source of its facts.

- :data:`POOLS` (:mod:`.pools`): how a region becomes a value;
- :data:`EXCITATIONS` (:mod:`.excitations`): how pooled values become logits, per
  branch kind;
- :data:`GATES`, :data:`ACTIVATIONS` (:mod:`.gates`): the elementwise functions;
- :data:`FUSIONS`, :data:`GAMMAS` (:mod:`.fusions`): how a block forms its output;
- :data:`BRANCHES` (:mod:`.branches`): what a block attends over.

Each entry owns its spec keys and rules, its formula, its plan and its template; its
NumPy reference function has its name in :mod:`cbamgen.reference`. The validator, the
planner, the listings, the JSON schema, the docs and the tests read them from here.
"""

from __future__ import annotations

from .branches import BRANCHES
from .excitations import (
    CHANNEL_EXCITATIONS,
    COORDINATE_EXCITATIONS,
    SPATIAL_EXCITATIONS,
)
from .fusions import FUSIONS, GAMMAS
from .gates import ACTIVATIONS, GATES
from .parts import Part, Problem
from .pools import POOLS, Pool, PoolSpec, normal_name, suggest_pool

#: Each branch kind's excitations.
EXCITATIONS = {
    "channel": CHANNEL_EXCITATIONS,
    "spatial": SPATIAL_EXCITATIONS,
    "coordinate": COORDINATE_EXCITATIONS,
}

__all__ = [
    "ACTIVATIONS",
    "BRANCHES",
    "EXCITATIONS",
    "FUSIONS",
    "GAMMAS",
    "GATES",
    "POOLS",
    "Part",
    "Pool",
    "PoolSpec",
    "Problem",
    "normal_name",
    "suggest_pool",
]
