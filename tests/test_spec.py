"""Loading specs: defaults, located errors, cross-key rules."""

from __future__ import annotations

import textwrap

import pytest

from cbamgen.catalogue import POOLS
from cbamgen.errors import SpecError
from cbamgen.loader import load_spec, load_spec_bytes


def load(text: str):
    return load_spec_bytes(textwrap.dedent(text).encode(), "specs/x.yaml")


def errors(text: str) -> list[str]:
    with pytest.raises(SpecError) as info:
        load(text)
    return info.value.report().splitlines()


def test_minimal_spec_gets_documented_defaults():
    spec = load("""
        cbamgen: 1
        name: Block
        channel: {}
        spatial: {}
    """)
    assert spec.target == "keras3" and spec.data_format == "channels_last"
    assert [p.kind for p in spec.channel.pools] == ["avg", "max"]
    assert [p.kind for p in spec.spatial.pools] == ["max", "avg"]
    assert spec.channel.reduction == 16 and spec.channel.rounding == "floor"
    assert spec.channel.excite == "mlp" and spec.channel.combine == "sum"
    assert spec.spatial.kernel_size == 7 and spec.spatial.norm == "none"
    assert spec.fusion == "sequential" and spec.gamma_mode == "none"


def test_pool_names_and_mappings_are_the_same_pool():
    spec = load("""
        cbamgen: 1
        name: Block
        channel:
          pools: [l2, {type: lp, p: 3, normalize: sum}, {type: lse}]
    """)
    l2, lp, lse = spec.channel.pools
    assert l2.kind == "l2" and (lp.p, lp.normalize) == (3, "sum") and lse.r == 1.0


def test_tf_keras_target_is_accepted():
    assert (
        load("cbamgen: 1\nname: B\nchannel: {}\ntarget: tf_keras\n").target
        == "tf_keras"
    )


def test_yaml_1_2_exponent_floats_are_numbers():
    spec = load("""
        cbamgen: 1
        name: Block
        spatial: {norm: batch, norm_epsilon: 1e-3}
    """)
    assert spec.spatial.norm_epsilon == pytest.approx(1e-3)


def test_bundled_specs_all_load():
    from pathlib import Path

    for path in sorted(Path("specs").glob("*.yaml")):
        assert load_spec(path).name


BAD = [
    # (spec body, the exact first error line)
    (
        "cbamgen: 1\nname: B\nchannel:\n  pools: [l2, stocastic]\n",
        "specs/x.yaml:4:15: channel.pools[1]: unknown pool 'stocastic' (did you mean "
        "'stochastic'?); pools: " + ", ".join(POOLS),
    ),
    (
        "cbamgen: 1\nname: B\nchanel: {}\n",
        "specs/x.yaml:3:1: chanel: unknown key 'chanel' (did you mean 'channel'?); allowed here: "
        "cbamgen, name, description, target, data_format, channel, spatial, coordinate, "
        "energy, fusion, gamma",
    ),
    (
        "cbamgen: 2\nname: B\nchannel: {}\n",
        "specs/x.yaml:1:10: cbamgen: unsupported spec version 2; this cbamgen reads version 1",
    ),
    (
        "name: B\nchannel: {}\n",
        "specs/x.yaml:1:1: (root): missing required key 'cbamgen'; add 'cbamgen: 1' (the spec "
        "format version)",
    ),
    (
        "cbamgen: 1\nname: B\nspatial: {kernel_size: 6}\n",
        "specs/x.yaml:3:24: spatial.kernel_size: 6 is even: must be odd so 'same' padding is "
        "symmetric (try 5 or 7)",
    ),
    (
        "cbamgen: 1\nname: B\nchannel: {reduction: '16'}\n",
        "specs/x.yaml:3:22: channel.reduction: expected a number, got '16' (text, because it "
        "is quoted); write the number without quotes",
    ),
    (
        "cbamgen: 1\nname: B\nchannel: {reduction: 0}\n",
        "specs/x.yaml:3:22: channel.reduction: 0 is out of range: must be >= 0.01 and <= "
        "1000000.0",
    ),
    (
        "cbamgen: 1\nname: B\nchannel: {excite: mlpp}\n",
        "specs/x.yaml:3:19: channel.excite: 'mlpp' is not allowed (did you mean 'mlp'?); "
        "expected 'mlp', 'conv1d', 'linear', 'conv1d_mlp'",
    ),
    (
        "cbamgen: 1\nname: B\nchannel: {pools: []}\n",
        "specs/x.yaml:3:18: channel.pools: the list is empty; give at least one pool, e.g. "
        "'[avg, max]'",
    ),
    (
        "cbamgen: 1\nname: B\nchannel: {pools: [{type: lp, p: 0.5}]}\n",
        "specs/x.yaml:3:33: channel.pools[0].p: 0.5 is out of range: must be >= 1 and <= 1000",
    ),
    (
        "cbamgen: 1\nname: B\nchannel: {pools: [{p: 2}]}\n",
        "specs/x.yaml:3:19: channel.pools[0]: a pool mapping needs a 'type' key; pools: "
        + ", ".join(POOLS),
    ),
    (
        "cbamgen: 1\nname: B\nchannel: {pools: [{type: lse, rr: 2}]}\n",
        "specs/x.yaml:3:31: channel.pools[0].rr: unknown key 'rr' (did you mean 'r'?); allowed "
        "here: type, r, normalize, window",
    ),
    (
        "cbamgen: 1\nname: class\nchannel: {}\n",
        "specs/x.yaml:2:7: name: 'class' is not a CapWords Python class name (letters and "
        "digits, starting with an upper-case ASCII letter, e.g. 'L2StochasticCBAM')",
    ),
    (
        "cbamgen: 1\nname: Exception\nchannel: {}\n",
        "specs/x.yaml:2:7: name: 'Exception' is a Python keyword or builtin; choose another name",
    ),
    (
        "cbamgen: 1\nname: B\nchannel: {}\nfusion: add\n",
        "specs/x.yaml:4:9: fusion: fusion 'add' combines two branches but the block has one; "
        "remove 'fusion' or add the other branch",
    ),
    (
        "cbamgen: 1\nname: B\n",
        "specs/x.yaml:1:1: (root): a block needs a 'channel' branch, a 'spatial' branch, or "
        "both (or one 'coordinate' or 'energy' branch)",
    ),
    (
        "cbamgen: 1\nname: B\nchannel:\n",
        "specs/x.yaml:3:9: channel: 'channel:' is empty; write 'channel: {}' for the default "
        "channel branch, or remove the key",
    ),
    (
        "cbamgen: 1\nname: B\nchannel: {excite: linear, reduction: 4}\n",
        "specs/x.yaml:3:27: channel.reduction: 'reduction' only applies to excite: mlp or "
        "conv1d_mlp (this branch uses excite: linear); remove it",
    ),
    (
        "cbamgen: 1\nname: B\nchannel: {hidden: 8, reduction: 4}\n",
        "specs/x.yaml:3:22: channel.reduction: 'hidden' sets the width directly, so 'reduction' "
        "has no effect; remove one of them",
    ),
    (
        "cbamgen: 1\nname: B\nchannel: {kernel_size: 3}\n",
        "specs/x.yaml:3:11: channel.kernel_size: 'kernel_size' only applies to excite: conv1d "
        "or conv1d_mlp (this branch uses excite: mlp); remove it",
    ),
    (
        "cbamgen: 1\nname: B\nchannel: {excite: conv1d, bias: false}\n",
        "specs/x.yaml:3:27: channel.bias: excite: conv1d has no bias (ECA-Net); remove 'bias'",
    ),
    (
        "cbamgen: 1\nname: B\nspatial: {norm_momentum: 0.9}\n",
        "specs/x.yaml:3:11: spatial.norm_momentum: 'norm_momentum' only applies with norm: batch;"
        " add 'norm: batch' or remove it",
    ),
    (
        "cbamgen: 1\nname: B\nchannel: {pools: [{type: avg, window: 3}]}\n",
        "specs/x.yaml:3:31: channel.pools[0].window: window pooling is for the spatial branch "
        "only; the channel branch pools each whole map",
    ),
    (
        "cbamgen: 1\nname: B\nchannel: {}\ntarget: tf.keras\n",
        "specs/x.yaml:4:9: target: 'tf.keras' is not allowed (did you mean 'tf_keras'?); "
        "expected 'keras3', 'tf_keras'",
    ),
    (
        "cbamgen: 1\nname: B\nchannel: {}\ngamma: {mode: none, init: 1}\n",
        "specs/x.yaml:4:21: gamma.init: 'init' has no effect with mode 'none'; remove it or "
        "choose mode 'blend' or 'residual'",
    ),
    (
        "cbamgen: 1\nname: B\nchannel: {}\ngamma: {init: 1}\n",
        "specs/x.yaml:4:8: gamma: missing required key 'mode'; add 'mode: blend', 'mode: "
        "residual' or 'mode: none'",
    ),
    (
        "cbamgen: 1\nname: B\nspatial: {bias: 'yes'}\n",
        "specs/x.yaml:3:17: spatial.bias: expected true or false, got 'yes' (text); write "
        "true or false without quotes",
    ),
    (
        "cbamgen: 1\nname: B\nspatial: {bias: yes}\n",
        "specs/x.yaml:3:17: spatial.bias: expected true or false, got 'yes' (specs are YAML "
        "1.2, where yes is text); write true",
    ),
    (
        "cbamgen: 1\nname: B\nspatial: {gate: off}\n",
        "specs/x.yaml:3:17: spatial.gate: 'off' is not allowed; expected 'sigmoid', "
        "'hard_sigmoid'",
    ),
    (
        "cbamgen: 1\nname: B\nchannel: {pools: [{type: mixed, alpha: 1, trainable: true}]}\n",
        "specs/x.yaml:3:33: channel.pools[0].alpha: a trainable alpha is kept in (0, 1) by a "
        "sigmoid, so it cannot start at 0 or 1; use e.g. 0.01 or 0.99",
    ),
    (
        "cbamgen: 1\nname: B\nname: C\nchannel: {}\n",
        "specs/x.yaml:3:1: name: duplicate key 'name' (first given on line 2); keep one of them",
    ),
    (
        "- cbamgen: 1\n",
        "specs/x.yaml:1:1: (root): the spec must be a mapping of keys (cbamgen, name, channel, "
        "...), not a list",
    ),
    ("", "specs/x.yaml:1:1: (root): the spec is empty; start with 'cbamgen: 1'"),
    (
        "cbamgen: 1\nname: [B\n",
        "specs/x.yaml:3:1: (root): YAML syntax error: expected ',' or ']', but got '<stream end>' "
        "(while parsing a flow sequence at line 2, column 7)",
    ),
    (
        "cbamgen: 1\nname: B\nspatial: {kernel_size: 1000000001}\n",
        "specs/x.yaml:3:24: spatial.kernel_size: 1000000001 is out of range: must be >= 1 and "
        "<= 63",
    ),
    (
        "cbamgen: 1\nname: B\nchannel: {pools: [{type: lse, r: .nan}]}\n",
        "specs/x.yaml:3:34: channel.pools[0].r: expected a finite number, got .nan",
    ),
]


@pytest.mark.parametrize("body, expected", BAD, ids=[str(i) for i in range(len(BAD))])
def test_bad_spec_gives_one_located_actionable_error(body, expected):
    with pytest.raises(SpecError) as info:
        load_spec_bytes(body.encode(), "specs/x.yaml")
    assert info.value.report().splitlines()[0] == expected


def test_every_error_of_a_file_is_reported_in_one_run():
    lines = errors("""
        cbamgen: 1
        name: B
        channel:
          pools: [l2, stocastic]
          excite: mlpp
        spatial:
          kernel_size: 4
          norm: bach
    """)
    assert [line.split(": ")[1] for line in lines] == [
        "channel.pools[1]",
        "channel.excite",
        "spatial.kernel_size",
        "spatial.norm",
    ]


def test_structural_and_cross_key_errors_come_in_the_same_run():
    """An even window used to hide every rule that relates keys until it was fixed."""
    lines = errors("""
        cbamgen: 1
        name: B
        channel:
          pools: [avg, {type: max, window: 3}]
          excite: linear
          reduction: 8
        spatial:
          pools: [{type: l2, window: 4}]
          norm_momentum: 0.9
        gamma: {mode: none, init: 0.5}
    """)
    assert [line.split(": ")[1] for line in lines] == [
        "channel.pools[1].window",  # the channel branch has no windows
        "channel.reduction",  # no effect with excite: linear
        "spatial.pools[0].window",  # even
        "spatial.norm_momentum",  # no effect without norm: batch
        "gamma.init",  # no effect with mode: none
    ]


def test_no_rule_is_judged_on_a_rejected_value():
    # 'lineer' and 'bach' are rejected: whether reduction or norm_momentum apply is
    # unknown, so they are not reported (the user meant linear? batch? fix first).
    lines = errors("""
        cbamgen: 1
        name: B
        channel: {excite: lineer, reduction: 8}
        spatial: {norm: bach, norm_momentum: 0.9}
    """)
    assert [line.split(": ")[1] for line in lines] == ["channel.excite", "spatial.norm"]


@pytest.mark.parametrize(
    "typed, suggestion",
    [
        ("L2", "(did you mean 'l2'?)"),
        ("Stochastic", "(did you mean 'stochastic'?)"),
        ("gem_pool", "(did you mean 'gem'?)"),
        ("avg_pool", "(did you mean 'avg'?)"),
        ("max_pooling", "(did you mean 'max'?)"),
        ("GlobalAveragePooling2D", "(did you mean 'avg'?)"),
        ("softmax", "(did you mean {type: stochastic, weights: softmax}?)"),
    ],
)
def test_unknown_pool_suggests_what_was_meant(typed, suggestion):
    (line,) = errors(f"cbamgen: 1\nname: B\nspatial: {{pools: [{typed}]}}\n")
    assert f"unknown pool '{typed}' {suggestion}; pools: " in line


def test_other_choices_ignore_case_in_suggestions():
    (line,) = errors("cbamgen: 1\nname: B\nchannel: {excite: MLP}\n")
    assert "'MLP' is not allowed (did you mean 'mlp'?)" in line


def test_specs_are_yaml_1_2():
    spec = load("""
        cbamgen: 1
        name: B
        description: yes
        channel: {reduction: 016}
    """)
    assert spec.description == "yes" and spec.channel.reduction == 16


def test_non_utf8_bytes_are_located():
    with pytest.raises(SpecError) as info:
        load_spec_bytes(b"cbamgen: 1\nname: B\ndescription: caf\xe9\n", "specs/x.yaml")
    assert info.value.report() == (
        "specs/x.yaml:3:17: (root): byte 0xe9 is not UTF-8; save the spec as UTF-8"
    )


def test_byte_order_mark_is_accepted():
    spec = load_spec_bytes(b"\xef\xbb\xbfcbamgen: 1\nname: B\nchannel: {}\n", "x.yaml")
    assert spec.name == "B"


def test_alias_bombs_are_refused():
    lines = ["cbamgen: 1", "name: B", "a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 8):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]")
    with pytest.raises(SpecError) as info:
        load_spec_bytes("\n".join(lines).encode(), "x.yaml")
    assert "too many YAML nodes" in info.value.report()


def test_missing_file_is_a_spec_error_not_a_traceback(tmp_path):
    with pytest.raises(SpecError) as info:
        load_spec(tmp_path / "nope.yaml")
    assert "cannot read the spec" in info.value.report()
