"""``cbamgen compare``: the quick run end to end, resumption, the chief and workers of
KerasTuner's distributed mode, and every bad input stopping before training.

One quick run (baseline + CBAM, one seed, one epoch on a slice of the digits) is
shared by the tests that read its output.
"""

from __future__ import annotations

import csv
import os
import shutil
import socket
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from cbamgen.cli import main

pytestmark = [pytest.mark.keras, pytest.mark.compare]

ROOT = Path(__file__).resolve().parent.parent
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
QUICK = ["compare", "specs/cbam.yaml", "--quick"]


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("compare") / "out"
    status = main([*QUICK, "--out", str(out), "--save-models"])
    assert status == 0
    return out


@pytest.fixture(scope="module")
def fine_tuned(quick_run):
    """The quick run's trained baseline, fine-tuned with a gated CBAM inserted as the
    identity, against itself fine-tuned without."""
    out = quick_run.parent / "fine_tuned"
    status = main(
        [
            "compare",
            "docs/evidence/insert/specs/cbam.yaml",
            "--model",
            str(quick_run / "models" / "baseline-seed0.keras"),
            "--identity",
            "--quick",
            "--out",
            str(out),
        ]
    )
    assert status == 0
    return out


def read_csv(path: Path) -> list[dict]:
    with path.open(newline="") as stream:
        return list(csv.DictReader(stream))


def png_size(path: Path) -> tuple[int, int]:
    """Width and height from the IHDR chunk, after checking the signature."""
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE, path
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def test_quick_run_writes_tables_plots_and_a_report_showing_them(quick_run):
    rows = read_csv(quick_run / "results.csv")
    assert list(rows[0]) == [
        "spec",
        "seed",
        "params",
        "step_ms",
        "train_accuracy",
        "val_accuracy",
        "best_val_accuracy",
        "start_val_accuracy",
        "trial",
    ]
    assert [(r["spec"], r["seed"]) for r in rows] == [("baseline", "0"), ("cbam", "0")]
    for row in rows:
        assert 0 <= float(row["val_accuracy"]) <= 1
        assert float(row["step_ms"]) > 0
    assert int(rows[1]["params"]) > int(rows[0]["params"])  # the blocks' weights

    curves = read_csv(quick_run / "curves.csv")
    assert list(curves[0]) == [
        "spec",
        "seed",
        "epoch",
        "loss",
        "accuracy",
        "val_loss",
        "val_accuracy",
    ]
    assert [(c["spec"], c["epoch"]) for c in curves] == [
        ("baseline", "1"),
        ("cbam", "1"),
    ]
    # The last epoch's validation accuracy is the table's.
    assert [c["val_accuracy"] for c in curves] == [r["val_accuracy"] for r in rows]

    report = (quick_run / "report.md").read_text()
    linked = [
        line.split("](")[1].rstrip(")") for line in report.splitlines() if "![" in line
    ]
    assert {"curves.png", "speed.png"} <= set(linked)
    for name in linked:
        width, height = png_size(quick_run / name)
        assert width >= 400 and height >= 300
    # The report's table shows the CSV's numbers.
    for row in rows:
        assert f"| {row['spec']} | {float(row['val_accuracy']):.3f} |" in report
    assert "| **cbam** vs baseline |" in report
    assert "too few seeds to tell (1 paired" in report  # one seed
    assert report.startswith("# Attention blocks compared\n\n> **A smoke test, not")
    # Attention maps: a picture, or a note saying why not (a layer without the flag).
    cbam_section = report.split("### cbam")[1]
    assert (
        "attention_cbam.png" in cbam_section or "No maps: CBAM.call()" in cbam_section
    )


def test_a_repeated_run_trains_nothing_and_rewrites_the_same_tables(
    quick_run, monkeypatch, capsys
):
    from cbamgen.compare import trials

    calls = []
    real = trials.train
    monkeypatch.setattr(trials, "train", lambda *a: calls.append(a) or real(*a))
    before = (quick_run / "results.csv").read_text()
    capsys.readouterr()
    assert main([*QUICK, "--out", str(quick_run)]) == 0
    assert calls == []
    assert "trained 0 new trial(s), reused 2" in capsys.readouterr().out
    assert (quick_run / "results.csv").read_text() == before


def test_an_added_seed_trains_only_the_new_pairs(quick_run, tmp_path, monkeypatch):
    from cbamgen.compare import trials

    out = tmp_path / "out"
    shutil.copytree(quick_run, out)
    trained = []
    monkeypatch.setattr(
        trials, "train", lambda v, seed, *a: trained.append((v.label, seed)) or _fake(v)
    )
    assert main([*QUICK, "--seeds", "2", "--out", str(out)]) == 0
    assert trained == [("baseline", 1), ("cbam", 1)]
    assert [(r["spec"], r["seed"]) for r in read_csv(out / "results.csv")] == [
        ("baseline", "0"),
        ("cbam", "0"),
        ("baseline", "1"),
        ("cbam", "1"),
    ]


def _fake(variant):
    """A trial's outcome without training (for tests of the bookkeeping)."""
    from cbamgen.compare.train import Outcome

    metrics = {
        "val_accuracy": 0.5,
        "best_val_accuracy": 0.5,
        "train_accuracy": 0.6,
        "params": 10.0,
        "step_ms": 1.0,
    }
    return Outcome(metrics, {"val_accuracy": [0.5], "accuracy": [0.6]})


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_chief_and_two_workers_give_the_single_process_table(quick_run, tmp_path):
    out = tmp_path / "out"
    base = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "TF_CPP_MIN_LOG_LEVEL": "3",
        "KERASTUNER_ORACLE_IP": "127.0.0.1",
        "KERASTUNER_ORACLE_PORT": str(free_port()),
    }
    command = [sys.executable, "-m", "cbamgen", *QUICK, "--out", str(out)]

    def start(tuner_id):
        return subprocess.Popen(
            command,
            cwd=ROOT,
            env={**base, "KERASTUNER_TUNER_ID": tuner_id},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    processes = {name: start(name) for name in ("chief", "tuner0", "tuner1")}
    outputs = {}
    for name, process in processes.items():
        stdout, stderr = process.communicate(timeout=300)
        assert process.returncode == 0, (name, stderr[-2000:])
        outputs[name] = stdout
    trained = [
        int(outputs[w].split("trained ")[1].split()[0]) for w in ("tuner0", "tuner1")
    ]
    assert sum(trained) == 2
    assert "the workers trained 2 new trial(s)" in outputs["chief"]

    def table(folder):
        return [
            {k: v for k, v in row.items() if k != "step_ms"}  # timing varies
            for row in read_csv(folder / "results.csv")
        ]

    assert table(out) == table(quick_run)
    assert (out / "curves.csv").read_text() == (quick_run / "curves.csv").read_text()


def test_save_models_keeps_each_trained_network(quick_run):
    import keras

    saved = sorted(p.name for p in (quick_run / "models").iterdir())
    assert saved == ["baseline-seed0.keras", "cbam-seed0.keras"]
    model = keras.saving.load_model(quick_run / "models" / "baseline-seed0.keras")
    assert model.output.shape == (None, 10)


def test_identity_blocks_start_from_the_trained_networks_accuracy(
    quick_run, fine_tuned
):
    trained = read_csv(quick_run / "results.csv")[0]
    assert trained["spec"] == "baseline"
    rows = read_csv(fine_tuned / "results.csv")
    assert [r["spec"] for r in rows] == ["baseline", "cbam"]
    # Inserted as the identity, the block changes no prediction: both start where
    # the saved network ended (same validation images).
    for row in rows:
        assert row["start_val_accuracy"] == trained["val_accuracy"]
    report = (fine_tuned / "report.md").read_text()
    assert "| spec | at start | val accuracy |" in report
    assert "each block starts as the identity (gamma = 0)" in report
    assert "baseline-seed0.keras (trained, loaded for every trial)" in report


# Bad inputs: exit 2, a message, no traceback, and no trial started.


def run_bad(argv, capsys) -> str:
    capsys.readouterr()
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return err


def test_a_refused_run_creates_no_output_folder(tmp_path, capsys):
    out = tmp_path / "new" / "out"
    err = run_bad(["compare", "specs/nope.yaml", "--out", str(out)], capsys)
    assert "specs/nope.yaml" in err
    assert not (tmp_path / "new").exists()
    err = run_bad(
        ["compare", "specs/cbam.yaml", "--model", "vgg", "--out", str(out)], capsys
    )
    assert not (tmp_path / "new").exists()


def test_an_unknown_spec_is_reported_before_training(tmp_path, capsys):
    err = run_bad(
        ["compare", "specs/cbam.yaml", "specs/nope.yaml", "--out", str(tmp_path)],
        capsys,
    )
    assert "specs/nope.yaml:1:1: (root): cannot read the spec: No such file" in err
    assert not (tmp_path / "trials").exists()


def test_an_invalid_spec_is_reported_with_its_location(tmp_path, capsys):
    err = run_bad(
        ["compare", "tests/bad_specs/activation_typo.yaml", "--out", str(tmp_path)],
        capsys,
    )
    assert err.startswith("tests/bad_specs/activation_typo.yaml:")
    assert "did you mean" in err


def test_a_spec_named_baseline_is_refused(tmp_path, capsys):
    shutil.copy(ROOT / "specs" / "cbam.yaml", tmp_path / "baseline.yaml")
    err = run_bad(
        ["compare", str(tmp_path / "baseline.yaml"), "--out", str(tmp_path)], capsys
    )
    assert "two variants are named 'baseline'" in err


def test_a_data_folder_with_one_class_is_refused(tmp_path, capsys):
    from PIL import Image

    folder = tmp_path / "images" / "cats"
    folder.mkdir(parents=True)
    for i in range(2):
        Image.new("RGB", (8, 8)).save(folder / f"{i}.png")
    out = tmp_path / "out"
    err = run_bad(
        [
            "compare",
            "specs/cbam.yaml",
            "--data",
            str(tmp_path / "images"),
            "--out",
            str(out),
        ],
        capsys,
    )
    assert "found 1 class folder(s) with images (cats)" in err
    assert not (out / "trials").exists()


def test_images_the_network_cannot_take_are_refused(tmp_path, capsys):
    tiny = tmp_path / "tiny.npz"
    rng = np.random.default_rng(0)
    np.savez(
        tiny,
        x_train=rng.random((8, 2, 2)),
        y_train=np.arange(8) % 2,
        x_val=rng.random((4, 2, 2)),
        y_val=np.arange(4) % 2,
    )
    out = tmp_path / "out"
    err = run_bad(
        [
            "compare",
            "specs/cbam.yaml",
            "--data",
            str(tiny),
            "--model",
            "cnn",
            "--out",
            str(out),
        ],
        capsys,
    )
    assert (
        "baseline: the network cannot take images of shape (2, 2, 1) (from tiny.npz)"
        in err
    )
    assert not (out / "trials").exists()


def test_an_output_folder_that_cannot_be_written_is_refused(tmp_path, capsys):
    blocked = tmp_path / "a_file"
    blocked.write_text("not a folder")
    err = run_bad(["compare", "specs/cbam.yaml", "--out", str(blocked / "out")], capsys)
    assert f"--out {blocked / 'out'}: cannot write there" in err


@pytest.mark.parametrize(
    "extra, message",
    [
        (
            ["--model", "cnn", "--placement", "residual"],
            "the cnn has no residual branches",
        ),
        (
            ["--model", "vgg"],
            "--model vgg: unknown; use resnet, cnn, keras.applications.NAME",
        ),
        (["--model", "no_such_module:build"], "cannot import no_such_module"),
        (["--seeds", "0"], "--seeds 0: must be at least 1"),
        (["--placement", "before:x"], "--placement before:x: use residual"),
        (
            ["--identity"],
            "cbam: identity=True: CBAM has no gamma gate, so it cannot start as the "
            "identity; add gamma: {mode: residual, init: 0}",
        ),
        (
            ["--placement", "after:stage9_*"],
            "cbam: at='after:stage9_*': matches no layer of functional",
        ),
        (
            ["--model", "keras.applications.MobileNet2"],
            "Keras has no such application (did you mean 'MobileNetV2'?)",
        ),
    ],
)
def test_bad_options_are_refused(tmp_path, capsys, extra, message):
    err = run_bad(
        ["compare", "specs/cbam.yaml", *extra, "--out", str(tmp_path)], capsys
    )
    assert message in err


def test_a_half_configured_distributed_run_is_refused(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("KERASTUNER_ORACLE_IP", "127.0.0.1")
    monkeypatch.delenv("KERASTUNER_ORACLE_PORT", raising=False)
    monkeypatch.delenv("KERASTUNER_TUNER_ID", raising=False)
    err = run_bad(["compare", "specs/cbam.yaml", "--out", str(tmp_path)], capsys)
    assert "KERASTUNER_ORACLE_PORT and KERASTUNER_TUNER_ID is not" in err
