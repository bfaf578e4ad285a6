"""The generated file's docstrings, printed from the plan and escaped to stay text.

Everything here returns plain strings that are safe inside a triple-quoted docstring: a
spec's free text can never end the docstring or become code. The facts (weights and
their shapes, arguments, helpers) come from the plan; this module words them, and the
formulas, from the plan and its spec.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass

import yaml

from .catalogue import Pool
from .errors import printable
from .plan import Helper, Plan

CBAM = "Woo et al. 2018, CBAM, arXiv:1807.06521"
SE = "Hu et al. 2018, Squeeze-and-Excitation, arXiv:1709.01507"
ECA = "Wang et al. 2020, ECA-Net, arXiv:1910.03151"
WIDTH = 84  # docstring text, so that indented lines stay within black's 88


def _escape_char(char: str) -> str:
    if char == "\\":
        return "\\\\"
    return char if char == "\n" else printable(char)


def escape_docstring(text: str) -> str:
    """Make ``text`` safe inside a (non-raw) triple-double-quoted string."""
    escaped = "".join(_escape_char(c) for c in text).replace('"""', '\\"\\"\\"')
    return escaped[:-1] + '\\"' if escaped.endswith('"') else escaped


def _wrap(
    text: str, indent: str = "", hanging: str = "", width: int = WIDTH
) -> list[str]:
    return textwrap.wrap(
        text,
        width=width,
        initial_indent=indent,
        subsequent_indent=indent + hanging,
        break_on_hyphens=False,
        break_long_words=False,
    ) or [""]


def _paragraphs(paragraphs: list[str], indent: str, width: int = WIDTH) -> str:
    """Paragraphs wrapped at ``width``; every line but the first indented by ``indent``
    (the first follows the opening quotes)."""
    lines: list[str] = []
    for paragraph in paragraphs:
        if lines:
            lines.append("")
        lines += _wrap(paragraph, width=width - len(indent))
    body = [lines[0]] + [indent + line if line else "" for line in lines[1:]]
    return escape_docstring("\n".join(body))


# ---------------------------------------------------------------------- pool helpers

_REGIONS = {
    "axis": "over `axis`",
    "window": "over each pixel's window (clipped at the map's borders)",
}


def pool_doc(pool: Pool, region: str) -> str:
    """A pool helper's docstring: what it computes for its settings, and its source."""
    cls = type(pool)
    source = f" ({cls.citation})" if cls.citation else ""
    text = f"{cls.title[0].upper()}{cls.title[1:]} {_REGIONS[region]}: {pool.describe()}{source}."
    return _paragraphs([text], "    ")


# ------------------------------------------------------------------------ the module


def _pool_term(pool: Pool) -> str:
    settings = pool.label()
    if pool.window is not None:
        settings = settings.replace(f"window={pool.window}", "").replace("()", "")
        settings = settings.replace(", )", ")").replace("(, ", "(")
        return f"{settings}_{pool.window}x{pool.window}(x)"
    return f"{settings}(x)"


def _hidden_rule(plan: Plan) -> str:
    branch = plan.spec.channel
    if branch.hidden is not None:
        return f"hidden = {branch.hidden}"
    d = branch.divisor
    v = f"C / {branch.reduction}" if d == 1 else f"C / {branch.reduction} / {d}"
    nearest = " + 1/2" if branch.rounding == "nearest" else ""
    width = f"floor({v}{nearest})" + (f" * {d}" if d != 1 else "")
    return f"hidden = max({width}, {max(d, branch.min_hidden)})"


def _channel_lines(plan: Plan) -> list[str]:
    branch = plan.spec.channel
    terms = [_pool_term(p) for p in branch.pools]
    if branch.excite == "conv1d":
        k = "k" if branch.kernel_size == "adaptive" else str(branch.kernel_size)
        conv = f"conv1d_{k}"
        if plan.channel.combine == "sum":
            logits = f"{conv}({' + '.join(terms)})"
        else:
            logits = f"{conv}([{', '.join(terms)}])"
    elif plan.channel.combine == "sum":
        logits = " + ".join(f"E({t})" for t in terms)
    else:
        logits = f"E([{', '.join(terms)}])"
    lines = [("channel", f"a = {branch.gate}({logits}), pools over each channel's map")]
    if branch.excite == "mlp":
        lines.append(
            (
                "",
                f"E = Dense(C) . {branch.activation} . Dense(hidden), {_hidden_rule(plan)}",
            )
        )
    elif branch.excite == "linear":
        lines.append(("", "E = Dense(C), one linear layer (effective SE)"))
    elif branch.kernel_size == "adaptive":
        lines.append(
            (
                "",
                "conv1d_k: a 1-D convolution across channels, no bias, k = t or t + 1, "
                "odd, at least 3, t = int(|log2(C) + 1| / 2)",
            )
        )
    else:
        lines.append(
            (
                "",
                f"conv1d_{branch.kernel_size}: a 1-D convolution across channels, no bias",
            )
        )
    return lines


def _spatial_lines(plan: Plan) -> list[str]:
    branch = plan.spec.spatial
    k = branch.kernel_size
    dilation = f", dilation {branch.dilation}" if branch.dilation != 1 else ""
    conv = f"conv{k}x{k}([{', '.join(_pool_term(p) for p in branch.pools)}])"
    if branch.norm == "batch":
        conv = f"BatchNorm({conv})"
    windows = [pool.window is not None for pool in branch.pools]
    where = "each channel pooled over" if all(windows) else "pools across channels"
    lines = [("spatial", f"s = {branch.gate}({conv}){dilation}, {where}")]
    if any(windows):
        lead = "" if all(windows) else "pool_kxk: each channel pooled over "
        text = "the k x k window around each pixel, clipped at the borders (C maps)"
        lines[0] = (lines[0][0], lines[0][1] + (" " + text if all(windows) else ""))
        if not all(windows):
            lines[0] = (lines[0][0], lines[0][1] + ";")
            lines.append(("", lead + text))
    return lines


_FUSION = {
    "sequential": "y = x * a * s, s computed from x * a (sequential)",
    "spatial_first": "y = x * s * a, a computed from x * s (spatial first)",
    "add": "y = x * a + x * s",
    "multiply": "y = (x * a) * (x * s)",
    "mean": "y = (x * a + x * s) / 2",
    "channel": "y = x * a",
    "spatial": "y = x * s",
}
_GAMMA = {
    "blend": "(1 - gamma) * x + gamma * y, gamma learnable",
    "residual": "x + gamma * y, gamma learnable",
}


def _references(plan: Plan) -> list[str]:
    spec = plan.spec
    refs = []
    if spec.spatial is not None or (spec.channel and spec.channel.excite == "mlp"):
        refs.append(CBAM)
    if spec.spatial is None and spec.channel.excite != "conv1d":
        refs.append(SE)
    if spec.channel is not None and spec.channel.excite == "conv1d":
        refs.append(ECA)
    return refs


def embedded_spec(plan: Plan) -> str:
    """The spec as the user wrote it (the keys they gave), without its description, in
    YAML: one line per top-level key where it fits, a pool's type first."""
    data = plan.spec.model_dump(mode="json", exclude_unset=True)
    data.pop("description", None)
    for branch in ("channel", "spatial"):
        if "pools" in data.get(branch, {}):
            data[branch]["pools"] = [
                (
                    pool["type"]
                    if list(pool) == ["type"]
                    else {"type": pool.pop("type"), **pool}
                )
                for pool in data[branch]["pools"]
            ]
    lines = []
    for key, value in data.items():
        line = f"{key}: {_yaml(value, flow=True)}"
        if len(line) > WIDTH - 4 and isinstance(value, dict):  # a block of flow lines
            line = f"{key}:" + "".join(
                f"\n  {k}: {_yaml(v, flow=True)}" for k, v in value.items()
            )
        lines.append(line)
    return "\n".join(lines) + "\n"


def _yaml(value, flow: bool | None) -> str:
    text = yaml.safe_dump(
        value, default_flow_style=flow, allow_unicode=True, width=1000, sort_keys=False
    )
    return text.removesuffix("\n...\n").strip()


def module_docstring(plan: Plan) -> str:
    spec = plan.spec
    parts = [f"{spec.name}: {_kinds(plan)} attention, generated by cbamgen."]
    refs = _references(plan)
    parts += _wrap(f"Reference{'s' if len(refs) > 1 else ''}: {'; '.join(refs)}.")
    if spec.description:  # as written; long lines wrapped
        parts.append("")
        for line in spec.description.strip().split("\n"):
            parts += _wrap(line) if len(line) > WIDTH else [line]
    parts += ["", f"For x of shape {plan.layout}, C channels, in float32:"]
    formulas: list[tuple[str, str]] = []
    if spec.channel is not None:
        formulas += _channel_lines(plan)
    if spec.spatial is not None:
        formulas += _spatial_lines(plan)
    if plan.gamma in _GAMMA:
        formulas += [("block", _FUSION[plan.fusion]), ("output", _GAMMA[plan.gamma])]
    else:
        formulas.append(("output", _FUSION[plan.fusion]))
    for label, text in formulas:
        parts += _wrap(f"{label:<9}{text}", indent="    ", hanging="         ")
    width = max(len(w.name) for w in plan.weights)
    parts += ["", "Weights:"]
    parts += [f"    {w.name.ljust(width)}  {w.shape}" for w in plan.weights]
    parts += [
        "",
        "The spec, but for its description (above). Edit it, not this file:",
        "",
    ]
    parts += ["    " + line for line in embedded_spec(plan).splitlines()]
    return escape_docstring("\n".join(parts) + "\n")


def _kinds(plan: Plan) -> str:
    present = [name for name in ("channel", "spatial") if getattr(plan, name)]
    return " and ".join(present)


# ------------------------------------------------------------------------- the class


def _argument_lines(plan: Plan) -> list[str]:
    groups: list[tuple[list[str], str]] = []
    for arg in plan.args:
        if arg.doc is None:  # documented with the argument before it
            groups[-1][0].append(arg.name)
        else:
            groups.append(([arg.name], arg.doc))
    lines = []
    for names, doc in groups:
        lines += _wrap(f"{', '.join(names)}: {doc}.", "        ", "    ")
    lines.append("        **kwargs: base layer arguments (name, dtype, ...).")
    return lines


def layer_docstring(plan: Plan) -> str:
    lines = [
        f"{_kinds(plan).capitalize()} attention, as the module docstring says.",
        "",
    ]
    lines += ["    Args:"] + _argument_lines(plan)
    lines += ["", "    Call arguments:"]
    lines.append(f"        inputs: {plan.layout}.")
    if (plan.channel and plan.channel.training) or (
        plan.spatial and plan.spatial.training
    ):
        lines.append("        training: True in training (set by Keras).")
    shapes = {"channel": "(batch, channels)", "spatial": "(batch, height, width)"}
    scores = ", ".join(f'"{name}": {shapes[name]}' for name, _ in plan.scores)
    lines += _wrap(
        f"return_attention_scores: also return the gates: (outputs, {{{scores}}}).",
        "        ",
        "    ",
    )
    return escape_docstring("\n".join(lines) + "\n    ")


@dataclass(frozen=True)
class Docstrings:
    """Every docstring the generated file holds."""

    module: str
    layer: str
    helpers: dict[str, str]

    @classmethod
    def of(cls, plan: Plan) -> Docstrings:
        return cls(
            module=module_docstring(plan),
            layer=layer_docstring(plan),
            helpers={
                h.name: _helper_doc(h) for h in plan.helpers if h.pool is not None
            },
        )


def _helper_doc(helper: Helper) -> str:
    return pool_doc(helper.pool, helper.region.argument)
