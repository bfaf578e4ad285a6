"""A key of the language written in the wrong place, or a common name for a value the
language spells otherwise: the error says where the key goes, or what to write."""

from __future__ import annotations

import pytest

from cbamgen.errors import SpecError
from cbamgen.loader import load_spec_bytes

CASES = [
    (
        "channel: {}\nspatial: {pools: [avg, max], gamma: {mode: blend}}\n",
        "specs/x.yaml:4:30: spatial.gamma: 'gamma' is not a key here: it is a top-level "
        "key; move it out of 'spatial' (no indentation); allowed here: pools,",
    ),
    (
        "channel: {}\nreduction: 8\n",
        "specs/x.yaml:4:1: reduction: 'reduction' is not a key here: it is a key of "
        "'channel'; move it into the section it is for; allowed here: cbamgen,",
    ),
    (
        "channel: {}\nspatial: {}\nkernel_size: 5\n",
        "specs/x.yaml:5:1: kernel_size: 'kernel_size' is not a key here: it is a key of "
        "'channel' and 'spatial'; move it into the section it is for;",
    ),
    (
        "channel: {}\nmode: blend\n",
        "specs/x.yaml:4:1: mode: 'mode' is not a key here: it is a key of 'gamma';",
    ),
    (
        "channel: {p: 3}\n",
        "specs/x.yaml:3:11: channel.p: 'p' is not a key here: it is a parameter of the "
        "pools lp, gem; write the pool as a mapping, e.g. {type: lp, p: ...};",
    ),
    (
        "spatial: {window: 3}\n",
        "specs/x.yaml:3:11: spatial.window: 'window' is not a key here: it is a parameter "
        "of every pool; write the pool as a mapping, e.g. {type: avg, window: ...};",
    ),
    (
        "channel: {}\nspatial: {}\nfusion: parallel\n",
        "specs/x.yaml:5:9: fusion: 'parallel' is not allowed; expected 'sequential', "
        "'spatial_first', 'add', 'multiply', 'mean'; the branches side by side, both on "
        "x, are fusion 'add' (y = C(x) + S(x)), 'mean' (their average) or 'multiply' "
        "(their product)",
    ),
]


@pytest.mark.parametrize("body, message", CASES)
def test_a_known_key_in_the_wrong_place_says_where_it_goes(body, message):
    with pytest.raises(SpecError) as caught:
        load_spec_bytes(f"cbamgen: 1\nname: B\n{body}".encode(), "specs/x.yaml")
    assert caught.value.report().startswith(message)


def test_a_key_known_nowhere_is_still_only_unknown():
    with pytest.raises(SpecError) as caught:
        load_spec_bytes(b"cbamgen: 1\nname: B\nspatial: {seed: 3}\n", "specs/x.yaml")
    assert caught.value.report() == (
        "specs/x.yaml:3:11: spatial.seed: unknown key 'seed'; allowed here: pools, "
        "kernel_size, dilation, bias, norm, norm_momentum, norm_epsilon, gate"
    )
