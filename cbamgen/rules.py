"""Rules that relate several keys of a spec, each reported at the key that breaks it.

A key that has no effect where it is written is an error, not a silent no-op: a user who
writes ``norm_momentum`` without ``norm: batch`` believes the block has batch norm.
:func:`inactive` says which keys have no effect in a spec and why; the validator
reports those the user wrote, and ``cbamgen new`` writes them commented out.

The rules of each branch, excitation and pool live with them in the catalogue; the
rules here are the spec's own (which branches a block has, the fusion, gamma). Every
rule names the keys it reads. The loader runs the rules on a spec whose invalid parts
were set aside, and drops a rule's finding when a key it reads was invalid, so a file's
errors come in one run without guesses built on a value that was rejected.
"""

from __future__ import annotations

from collections.abc import Iterator

from .catalogue import BRANCHES, FUSIONS
from .catalogue.parts import Problem, one_or_list
from .errors import KeyPath
from .spec import Spec

__all__ = ["Problem", "check", "inactive"]


def _inactive_rules(spec: Spec) -> Iterator[Problem]:
    for kind, branch in spec.branches().items():
        yield from BRANCHES[kind].inactive(branch, spec)
    pair = spec.channel is not None and spec.spatial is not None
    if not pair and spec.fusion != "sequential":
        alone = [k for k in spec.branches() if BRANCHES[k].whole]
        fix = "remove 'fusion'" + ("" if alone else " or add the other branch")
        yield Problem(
            ("fusion",),
            f"fusion '{spec.fusion}' combines two branches but the block has one; "
            + fix,
            reads=tuple((kind,) for kind in BRANCHES),
        )
    if pair and FUSIONS[spec.fusion].on_logits:
        for kind in ("channel", "spatial"):
            yield Problem(
                (kind, "gate"),
                f"'gate' has no effect with fusion: {spec.fusion}, which gates the "
                "branches' logits together with a sigmoid; remove it",
                reads=(("fusion",),),
            )
    if spec.gamma is not None and spec.gamma.mode == "none":
        yield Problem(
            ("gamma", "init"),
            "'init' has no effect with mode 'none'; remove it or choose mode 'blend' "
            "or 'residual'",
            reads=(("gamma", "mode"),),
        )


def inactive(spec: Spec) -> dict[KeyPath, str]:
    """Keys that would have no effect in ``spec``, each with the reason (a message)."""
    return {problem.path: problem.message for problem in _inactive_rules(spec)}


def _given(raw: dict, path: KeyPath) -> bool:
    """Whether the user wrote the key at ``path`` (whatever its value)."""
    node = raw
    for key in path[:-1]:
        node = node.get(key) if isinstance(node, dict) else None
    return isinstance(node, dict) and path[-1] in node


def check(spec: Spec, raw: dict) -> Iterator[Problem]:
    """Yield every cross-key problem of ``spec``, which was validated from ``raw``."""
    yield from _top_level(spec, raw)
    for problem in _inactive_rules(spec):
        if _given(raw, problem.path):
            yield Problem(
                problem.path, problem.message, len(problem.path) > 1, problem.reads
            )
    for kind, branch in spec.branches().items():
        yield from BRANCHES[kind].rules(branch, raw.get(kind))
    if spec.channel is not None and spec.spatial is not None:
        yield from _fusion_rules(spec)


def _fusion_rules(spec: Spec) -> Iterator[Problem]:
    if FUSIONS[spec.fusion].on_logits and spec.channel.apply != "multiply":
        yield Problem(
            ("channel", "apply"),
            f"fusion: {spec.fusion} joins the branches' logits into one gate, so the "
            "channel branch has no term of its own to add to the input as apply: "
            f"{spec.channel.apply} asks: remove 'apply', or choose a fusion that joins "
            "gates ("
            + ", ".join(name for name, f in FUSIONS.items() if not f.on_logits)
            + ")",
            True,
            reads=(("fusion",),),
        )


def _top_level(spec: Spec, raw: dict) -> Iterator[Problem]:
    for branch in BRANCHES:
        if branch in raw and raw[branch] is None:
            yield Problem(
                (branch,),
                f"'{branch}:' is empty; write '{branch}: {{}}' for the default {branch} "
                "branch, or remove the key",
            )
    written_empty = any(raw.get(b, 1) is None for b in BRANCHES)
    misspelled = set(raw) - set(Spec.model_fields)  # 'chanel' may be the branch
    present = spec.branches()
    if not present and not (written_empty or misspelled):
        alone = [f"'{kind}'" for kind, b in BRANCHES.items() if b.whole]
        yield Problem(
            (),
            "a block needs a 'channel' branch, a 'spatial' branch, or both (or one "
            f"{one_or_list(alone)} branch)",
            reads=tuple((kind,) for kind in BRANCHES),
        )
    for kind in present:
        others = [other for other in present if other != kind]
        if BRANCHES[kind].whole and others:
            yield Problem(
                (kind,),
                f"{'an' if kind[0] in 'aeiou' else 'a'} {kind} branch is a block of "
                "its own; remove "
                f"{one_or_list([repr(o) for o in others])} or '{kind}'",
                True,
            )
