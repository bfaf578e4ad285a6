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
from baseline import HandWrittenCBAM  # noqa: E402

from cbamgen.catalogue import POOLS  # noqa: E402
from cbamgen.loader import load_spec, load_spec_bytes  # noqa: E402
from cbamgen.render import render_source  # noqa: E402
from cbamgen.timing import compiled, forward_fn, side_by_side, train_fn  # noqa: E402
from cbamgen.verify import import_source  # noqa: E402

FULL_SHAPES = [(32, 56, 56, 64), (8, 14, 14, 1024)]
SMOKE_SHAPES = [(2, 8, 8, 16)]


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


def pools_vs_avg(shape, repeats, number):
    kinds = ", ".join(POOLS)
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

                    candidates[pool.kind] = compiled(run, xla)
                times = side_by_side(candidates, tensor, repeats, number)
                results[
                    (
                        branch,
                        "train" if training else "infer",
                        "XLA" if xla else "graph",
                    )
                ] = times
    return results


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


def report(cbam_rows, pool_results, pool_shape, walls, smoke: bool) -> str:
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
    for kind in POOLS:
        cells = [
            f"{pool_results[c][kind] / pool_results[c]['avg']:.2f}x" for c in columns
        ]
        out.append(f"| `{kind}` | " + " | ".join(cells) + " |")
    out.append(
        "| (avg, ms) | "
        + " | ".join(f"{pool_results[c]['avg']:.2f}" for c in columns)
        + " |"
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
    walls = command_wall_times(1 if args.smoke else 5)
    text = report(cbam_rows, pool_results, shapes[0], walls, args.smoke)
    print(text)
    args.out.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
