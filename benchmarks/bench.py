"""cbamgen benchmarks: ratios measured side by side in one process.

    python benchmarks/bench.py            # full run, writes benchmarks/RESULTS.md
    python benchmarks/bench.py --smoke    # tiny shapes, one repeat (CI)

Timing is cbamgen.timing's (the code `cbamgen bench` uses): medians after warm-up,
candidates timed in turns in a rotating order. The conv3x3 is timed in its own
comparison with the generated block, so it cannot slow the CBAM pair. Timing on a
shared machine is noisy: the tables report ratios, and tests never assert on them.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from baseline import HandWrittenCBAM, HandWrittenWindowBlock  # noqa: E402

from cbamgen.catalogue import POOLS  # noqa: E402
from cbamgen.loader import load_spec, load_spec_bytes  # noqa: E402
from cbamgen.render import render_source  # noqa: E402
from cbamgen.source_module import import_source  # noqa: E402
from cbamgen.timing import compiled, forward_fn, side_by_side, train_fn  # noqa: E402

FULL_SHAPES = [(32, 56, 56, 64), (8, 14, 14, 1024)]
SMOKE_SHAPES = [(2, 8, 8, 16)]
WINDOW_SHAPE, NEWCBAM_SHAPE = (16, 32, 32, 32), (16, 32, 32, 64)
#: The pools that reduce both a channel's map and a pixel's channels (attention
#: pooling is the channel branch's only, 'none' reduces nothing).
REDUCING = [k for k, cls in POOLS.items() if {"map", "across"} <= set(cls.regions)]
#: Window pools timed (each in a spatial-only block: pool over 3x3 windows, 7x7 conv).
WINDOW_POOLS = {
    **{
        kind: f"{{type: {kind}, window: 3}}"
        for kind, cls in POOLS.items()
        if "window" in cls.regions and not cls.keeps_channels
    },
    "stochastic (softmax)": "{type: stochastic, weights: softmax, window: 3}",
    # GeM's power without its max pool: with the max row, gem's floor.
    "lp (p=3)": "{type: lp, p: 3, window: 3}",
}


# ------------------------------------------------------------------ scenarios


def generated_module(path: str):
    """The module rendered from a bundled spec, and the spec."""
    spec = load_spec(ROOT / path)
    return import_source(render_source(spec, path), label="bench"), spec


def generated_layer(path: str, **kwargs):
    module, spec = generated_module(path)
    return getattr(module, spec.name)(**kwargs)


def cbam_vs_handwritten(shapes, repeats, number):
    rows = []
    for shape in shapes:
        x = tf.constant(np.random.default_rng(0).normal(size=shape), tf.float32)
        ours = generated_layer("specs/cbam.yaml")
        ours.build(shape)
        theirs = HandWrittenCBAM()
        theirs.build(shape)
        theirs.copy_weights_from(ours)
        difference = float(tf.reduce_max(tf.abs(ours(x) - theirs(x))))
        assert difference < 1e-4, f"baseline and generated CBAM disagree: {difference}"
        conv = keras.layers.Conv2D(shape[-1], 3, padding="same")
        conv.build(shape)
        for mode, make in (("forward", forward_fn), ("forward+backward", train_fn)):
            for xla in (False, True):
                generated = compiled(make(ours), xla)
                times = side_by_side(
                    {
                        "generated": generated,
                        "hand-written": compiled(make(theirs), xla),
                    },
                    x,
                    2 * repeats,
                    number,
                )
                with_conv = side_by_side(
                    {"generated": generated, "conv3x3": compiled(make(conv), xla)},
                    x,
                    repeats,
                    1,
                )
                # The block's cost relative to the conv, from their own comparison.
                times["per conv3x3"] = with_conv["generated"] / with_conv["conv3x3"]
                rows.append((shape, mode, "XLA" if xla else "graph", times))
    return rows


def pool_layouts(shape):
    """The tensor and axes each branch's pools reduce: a channel-branch pool reduces each
    channel's whole map (axes 1, 2), a spatial-branch pool the channels at each pixel.
    """
    x = tf.constant(np.random.default_rng(1).normal(size=shape), tf.float32)
    return {"channel": (x, (1, 2)), "spatial": (x, -1)}


PARAMETERS = {
    "lp": {"p": 3.0},
    "lse": {"r": 1.0},
    "gem": {"p": 3.0, "eps": 1e-6},
    "mixed": {"alpha": 0.5},
}


SIMPLE = "stochastic (sampler: simple)"


def pool_label(pool) -> str:
    return SIMPLE if getattr(pool, "sampler", "") == "simple" else pool.kind


def pools_vs_avg(shape, repeats, number):
    kinds = ", ".join([*REDUCING, "{type: stochastic, sampler: simple}"])
    text = (
        f"cbamgen: 1\nname: AllPools\nchannel: {{pools: [{kinds}]}}\n"
        f"spatial: {{pools: [{kinds}]}}\n"
    )
    spec = load_spec_bytes(text.encode(), "x")
    module = import_source(render_source(spec, "x"), "pools")
    generator = keras.random.SeedGenerator(0)
    results = {}
    for branch, (tensor, axis) in pool_layouts(shape).items():
        pools = getattr(spec, branch).pools
        for training in (False, True):
            for xla in (False, True):
                candidates = {}
                for pool in pools:
                    region = "map" if branch == "channel" else "across"
                    helper = (
                        getattr(keras.ops, pool.inline)
                        if pool.inline
                        else getattr(module, pool.helper_name(region))
                    )
                    extra = dict(PARAMETERS.get(pool.kind, {}))
                    if pool.kind == "stochastic":
                        extra.update(training=training, seed_generator=generator)

                    def run(t, helper=helper, extra=extra, axis=axis):
                        return tf.reduce_sum(helper(t, axis=axis, **extra))

                    candidates[pool_label(pool)] = compiled(run, xla)
                times = side_by_side(candidates, tensor, repeats, number)
                results[
                    (
                        branch,
                        "train" if training else "infer",
                        "XLA" if xla else "graph",
                    )
                ] = times
    return results


def window_block(pool: str):
    text = f"cbamgen: 1\nname: W\nspatial: {{pools: [{pool}], kernel_size: 7}}\n"
    spec = load_spec_bytes(text.encode(), "w.yaml")
    cls = import_source(render_source(spec, "w.yaml"), "window").W
    return cls(seed=0) if "stochastic" in pool else cls()


def windows_vs_handwritten(shape, repeats, number, names):
    """Forward+backward (training mode) of each window pool's spatial-only block, and of
    the same block written by hand with Keras's AveragePooling2D / MaxPooling2D."""
    x = tf.constant(np.random.default_rng(2).normal(size=shape), tf.float32)
    results = {}
    for xla in (False, True):
        candidates = {
            "hand-written avg": compiled(train_fn(HandWrittenWindowBlock()), xla),
            "hand-written max": compiled(
                train_fn(HandWrittenWindowBlock(keras.layers.MaxPooling2D)), xla
            ),
        }
        for name in names:
            candidates[name] = compiled(train_fn(window_block(WINDOW_POOLS[name])), xla)
        results["XLA" if xla else "graph"] = side_by_side(
            candidates, x, repeats, number
        )
    return results


#: The attention family's bundled specs (docs/family.md), timed against CBAM.
FAMILY = (
    "se",
    "ese",
    "eca",
    "timm_ecam",
    "timm_ceca",
    "timm_ge",
    "timm_ge8",
    "timm_gc",
    "timm_gca",
    "timm_coord",
    "timm_scoord",
    "timm_ela",
    "timm_strip",
    "bam",
    "scse",
    "simam",
)


def family_vs_cbam(shape, repeats, number, smoke):
    """Each family block against the bundled CBAM (cbamgen bench's rounds), forward and
    forward+backward, graph and XLA."""
    from cbamgen.bench import bench

    stems = FAMILY[:1] if smoke else FAMILY
    specs = [(stem, load_spec(ROOT / "specs" / f"{stem}.yaml")) for stem in stems]
    modes = (False,) if smoke else (False, True)  # the smoke run checks the table
    found = {
        "XLA" if xla else "graph": bench(specs, shape, xla, max(repeats, 5), number)
        for xla in modes
    }
    found.setdefault("XLA", found["graph"])
    return found


def family_table(family, shape) -> list[str]:
    out = [
        "",
        f"### The attention family against CBAM, {shape}",
        "",
        "Each bundled block of the family (docs/family.md) and the bundled CBAM, timed "
        "side by side (`cbamgen bench`'s rounds: medians, ratios the medians of each "
        "round's ratios); forward is inference, forward+backward training mode.",
        "",
        "| block | params | forward graph | forward XLA | fwd+bwd graph | "
        "fwd+bwd XLA | fwd+bwd graph ms |",
        "|---|---|---|---|---|---|---|",
    ]
    graph = {row.block: row for row in family["graph"]}
    xla = {row.block: row for row in family["XLA"]}
    for name, row in graph.items():
        if name == "conv3x3":
            continue
        out.append(
            f"| {name} | {row.params:,} | {row.forward_per_cbam:.2f}x | "
            f"{xla[name].forward_per_cbam:.2f}x | **{row.train_per_cbam:.2f}x** | "
            f"**{xla[name].train_per_cbam:.2f}x** | {row.train_ms:.2f} |"
        )
    return out


def avg_window_newcbam():
    text = (ROOT / "specs" / "seed_new_cbam.yaml").read_text(encoding="utf-8")
    pools = "pools: [{type: stochastic, window: 3}, {type: l2, window: 3}]"
    assert pools in text, "seed_new_cbam.yaml changed: update the benchmark"
    text = text.replace(
        pools, "pools: [{type: avg, window: 3}, {type: avg, window: 3}]"
    )
    spec = load_spec_bytes(text.encode(), "avg_windows.yaml")
    return getattr(import_source(render_source(spec, "a.yaml"), "floor"), spec.name)()


def newcbam_vs_cbam(shape, repeats, number):
    """The question's NewCBAM (3x3 window pools) against the bundled CBAM."""
    x = tf.constant(np.random.default_rng(3).normal(size=shape), tf.float32)
    rows = {}
    for mode, make in (("forward", forward_fn), ("forward+backward", train_fn)):
        for xla in (False, True):
            candidates = {
                "CBAM": compiled(make(generated_layer("specs/cbam.yaml")), xla),
                "NewCBAM": compiled(
                    make(generated_layer("specs/seed_new_cbam.yaml", seed=0)), xla
                ),
                # NewCBAM's design with both window pools average pools (1.0x a Keras
                # pooling layer): the floor for a block of this shape.
                "avg windows": compiled(make(avg_window_newcbam()), xla),
            }
            rows[(mode, "XLA" if xla else "graph")] = side_by_side(
                candidates, x, 2 * repeats, number
            )
    return rows


def tf_keras_windows(smoke: bool) -> dict:
    """The tf_keras target's window blocks against hand-written tf.keras blocks, timed
    in a process of its own on tf-keras (TF_USE_LEGACY_KERAS=1)."""
    env = {**os.environ, "TF_USE_LEGACY_KERAS": "1", "TF_CPP_MIN_LOG_LEVEL": "3"}
    script = ROOT / "benchmarks" / "tf_keras_windows.py"
    result = subprocess.run(
        [sys.executable, str(script), *(["--smoke"] if smoke else [])],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    return json.loads(result.stdout.splitlines()[-1])


def command_wall_times(repeats):
    python = sys.executable
    specs = sorted(str(p) for p in (ROOT / "specs").glob("*.yaml"))
    with tempfile.TemporaryDirectory() as out:
        commands = {
            f"cbamgen render ({len(specs)} bundled specs)": [
                python,
                "-m",
                "cbamgen",
                "render",
                "--force",
                "-o",
                out,
                *specs,
            ],
            "cbamgen --help": [python, "-m", "cbamgen", "--help"],
        }
        times = {}
        for name, argv in commands.items():
            samples = []
            for _ in range(repeats):
                start = time.perf_counter()
                subprocess.run(argv, check=True, capture_output=True, cwd=ROOT)
                samples.append(time.perf_counter() - start)
            times[name] = statistics.median(samples)
    return times


# ------------------------------------------------------------------- reporting


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (
        f"{cpu}, {os.cpu_count()} cores; Python {platform.python_version()}, "
        f"TensorFlow {tf.__version__}, Keras {keras.__version__}, CPU only"
    )


def window_table(results: dict, title: str, names) -> list[str]:
    modes = list(results)
    out = [
        "",
        f"### {title}",
        "",
        "Forward+backward, training mode; each generated block against the same block "
        'written by hand with `AveragePooling2D(3, strides=1, padding="same")` '
        "(`max`: with `MaxPooling2D`).",
        "",
        "| window pool | " + " | ".join(f"{m} ms | {m} ratio" for m in modes) + " |",
        "|---" * (2 * len(modes) + 1) + "|",
    ]
    for name in ["hand-written avg", "hand-written max", *names]:
        cells = []
        for mode in modes:
            times = results[mode]
            base = times["hand-written max" if name == "max" else "hand-written avg"]
            cells.append(f"{times[name]:.2f} | **{times[name] / base:.2f}x**")
        out.append(f"| {name} | " + " | ".join(cells) + " |")
    return out


def report(
    cbam_rows, pool_results, pool_shape, walls, smoke: bool, windows, newcbam, tfk
) -> str:
    out = [f"Machine: {machine()}.", ""]
    if smoke:
        out += [
            "**Smoke run (tiny shapes, one repeat): the numbers mean nothing.**",
            "",
        ]
    out += [
        "### Generated CBAM vs hand-written Keras CBAM (same weights)",
        "",
        "| shape | pass | mode | generated ms | hand-written ms | generated / "
        "hand-written | generated / conv3x3 |",
        "|---|---|---|---|---|---|---|",
    ]
    for shape, mode, compile_mode, t in cbam_rows:
        out.append(
            f"| {shape} | {mode} | {compile_mode} | {t['generated']:.2f} | "
            f"{t['hand-written']:.2f} | **{t['generated'] / t['hand-written']:.2f}x** | "
            f"{t['per conv3x3']:.2f}x |"
        )
    order = {"infer": 0, "train": 1, "graph": 0, "XLA": 1, "channel": 0, "spatial": 1}
    columns = sorted(pool_results, key=lambda c: [order[p] for p in c])
    out += [
        "",
        f"### Each pool relative to `avg` on the same tensor, {pool_shape}",
        "",
        "Channel branch: each channel's H x W map reduced (axes 1, 2); spatial "
        "branch: the C channels at each pixel reduced (axis -1).",
        "",
        "| pool | " + " | ".join(" ".join(c) for c in columns) + " |",
        "|---" * (len(columns) + 1) + "|",
    ]
    for kind in [*REDUCING, SIMPLE]:
        cells = [
            f"{pool_results[c][kind] / pool_results[c]['avg']:.2f}x" for c in columns
        ]
        shown = f"`{kind}`" if kind in REDUCING else "`stochastic`, `sampler: simple`"
        out.append(f"| {shown} | " + " | ".join(cells) + " |")
    out.append(
        "| (avg, ms) | "
        + " | ".join(f"{pool_results[c]['avg']:.2f}" for c in columns)
        + " |"
    )
    names = [n for n in WINDOW_POOLS if n in windows["graph"]]
    out += window_table(windows, f"Window pools, keras3, {WINDOW_SHAPE}", names)
    out += window_table(
        {m: tfk[m] for m in ("graph", "XLA")},
        f"Window pools, tf_keras on TensorFlow {tfk['version']['tensorflow']}'s "
        f"tf-keras, {WINDOW_SHAPE}",
        [n for n in POOLS if n in tfk["graph"]],
    )
    out += [
        "",
        f"### The question's NewCBAM (3x3 window pools) against CBAM, {NEWCBAM_SHAPE}",
        "",
        "The floor: the same block with both window pools average pools.",
        "",
        "| pass | mode | CBAM ms | NewCBAM ms | NewCBAM / CBAM | floor / CBAM |",
        "|---|---|---|---|---|---|",
    ]
    for (mode, compile_mode), t in newcbam.items():
        out.append(
            f"| {mode} | {compile_mode} | {t['CBAM']:.2f} | {t['NewCBAM']:.2f} | "
            f"**{t['NewCBAM'] / t['CBAM']:.2f}x** | {t['avg windows'] / t['CBAM']:.2f}x |"
        )
    out += [
        "",
        "### Commands (whole process, wall time)",
        "",
        "| command | seconds |",
        "|---|---|",
    ]
    out += [f"| `{name}` | {seconds:.3f} |" for name, seconds in walls.items()]
    return "\n".join(out) + "\n"


def _before_commands(text: str, lines: list[str]) -> str:
    """``text`` with ``lines`` put before its "Commands" section."""
    marker = "\n### Commands"
    head, _, tail = text.partition(marker)
    return head.rstrip("\n") + "\n" + "\n".join(lines) + "\n" + marker + tail


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="tiny shapes, one repeat")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "RESULTS.md")
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args(argv)
    shapes = SMOKE_SHAPES if args.smoke else FULL_SHAPES
    repeats, number = (1, 1) if args.smoke else (args.repeats, 5)
    cbam_rows = cbam_vs_handwritten(shapes, repeats, number)
    pool_results = pools_vs_avg(shapes[0], repeats, number)
    window_shape = shapes[0] if args.smoke else WINDOW_SHAPE
    # The smoke run checks the code of each table, with a few pools.
    names = ["max", "stochastic (softmax)"] if args.smoke else list(WINDOW_POOLS)
    windows = windows_vs_handwritten(window_shape, repeats, number, names)
    newcbam = newcbam_vs_cbam(
        shapes[0] if args.smoke else NEWCBAM_SHAPE, repeats, number
    )
    tfk = tf_keras_windows(args.smoke)
    family_shape = shapes[0] if args.smoke else NEWCBAM_SHAPE
    family = family_vs_cbam(family_shape, repeats, number, args.smoke)
    walls = command_wall_times(1 if args.smoke else 5)
    text = report(
        cbam_rows, pool_results, shapes[0], walls, args.smoke, windows, newcbam, tfk
    )
    text = _before_commands(text, family_table(family, family_shape))
    print(text)
    args.out.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
