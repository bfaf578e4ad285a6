"""compare's data: the built-in cluttered digits and the .npz loader."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import load_digits

from cbamgen.compare.data import digits_task, load_data, load_npz
from cbamgen.compare.inputs import InputError

pytestmark = [pytest.mark.keras, pytest.mark.compare]


@pytest.fixture(scope="module")
def digits():
    return digits_task()


def test_digits_are_deterministic_32x32_images_in_unit_range(digits):
    again = digits_task()
    assert np.array_equal(digits.x_train, again.x_train)
    assert np.array_equal(digits.y_val, again.y_val)
    assert digits.input_shape == (32, 32, 1)
    assert digits.x_train.dtype == np.float32
    assert 0.0 <= digits.x_train.min() and digits.x_train.max() <= 1.0
    # 1,797 digits, 20% of each class held out; 3 canvases per training digit, 2 per
    # validation digit.
    assert len(digits.x_val) == 2 * 359 and len(digits.x_train) == 3 * (1797 - 359)
    assert sorted(np.unique(digits.y_train)) == list(range(10))


def test_every_canvas_holds_its_digit_at_double_size(digits):
    """Find each validation digit's 16x16 drawing on its canvas: the canvas is at least
    as bright (strokes keep the brighter pixel, then noise of sigma 0.1) wherever the
    digit is, at one place."""
    source = load_digits()
    glyphs = np.kron(source.images / 16.0, np.ones((2, 2)))
    for canvas, label in zip(digits.x_val[:5, ..., 0], digits.y_val[:5], strict=True):
        candidates = glyphs[source.target == label]
        found = any(
            np.all(canvas[r : r + 16, c : c + 16] >= np.minimum(glyph, 1.0) - 0.45)
            and np.abs(canvas[r : r + 16, c : c + 16] - glyph)[glyph > 0.9].mean()
            < 0.15
            for glyph in candidates
            for r in range(17)
            for c in range(17)
        )
        assert found


def test_training_and_validation_digits_are_different_drawings(digits):
    """The split is by digit: no validation canvas repeats a training canvas."""
    train = {x.tobytes() for x in digits.x_train}
    assert not any(x.tobytes() in train for x in digits.x_val)


def test_npz_images_are_scaled_and_given_a_channel(tmp_path):
    path = tmp_path / "data.npz"
    np.savez(
        path,
        x_train=np.full((4, 5, 6), 255, np.uint8),
        y_train=np.array([0, 1, 0, 1]),
        x_val=np.zeros((2, 5, 6), np.uint8),
        y_val=np.array([[1], [0]]),
    )
    data = load_npz(path)
    assert data.input_shape == (5, 6, 1) and data.classes == 2
    assert data.x_train.max() == 1.0 and data.y_val.tolist() == [1, 0]


@pytest.mark.parametrize(
    "arrays, message",
    [
        ({"x_train": np.zeros((2, 4, 4))}, "missing array(s) x_val, y_train, y_val"),
        (
            {
                "x_train": np.zeros((3, 4, 4)),
                "y_train": np.array([0, 1]),
                "x_val": np.zeros((1, 4, 4)),
                "y_val": np.array([0]),
            },
            "x_train has 3 images but y_train 2 labels",
        ),
        (
            {
                "x_train": np.zeros((2, 4, 4)),
                "y_train": np.array([0, 0]),
                "x_val": np.zeros((1, 4, 4)),
                "y_val": np.array([0]),
            },
            "the training split has 1 class(es)",
        ),
        (
            {
                "x_train": np.zeros((2, 4, 4)),
                "y_train": np.array([0, 1]),
                "x_val": np.zeros((1, 5, 5)),
                "y_val": np.array([0]),
            },
            "both splits need the same image shape",
        ),
    ],
)
def test_bad_npz_files_are_explained(tmp_path, arrays, message):
    path = tmp_path / "bad.npz"
    np.savez(path, **arrays)
    with pytest.raises(InputError) as error:
        load_npz(path)
    assert message in error.value.messages[0]


def test_an_unknown_data_source_says_what_is_accepted():
    with pytest.raises(InputError) as error:
        load_data("mnist")
    assert (
        "--data mnist: not found; give 'digits', an .npz file"
        in error.value.messages[0]
    )


def test_clutter_comes_from_the_digits_own_split(monkeypatch):
    """Pieces of other digits clutter each canvas; a training canvas must not hold a
    piece of a validation digit (that would leak them into training)."""
    from cbamgen.compare import data

    monkeypatch.setattr(data, "NOISE", 0.0)
    count = 40
    glyphs = np.ones((count, 16, 16)) * (np.arange(1, count + 1) / 64.0)[:, None, None]
    labels = np.arange(count) % 10
    train = np.arange(0, 20)  # the validation digits are 20 .. 39
    canvases = data._canvases(glyphs, labels, train, train, np.random.default_rng(0))
    seen = {round(v * 64) for v in np.unique(canvases) if v > 0}
    assert seen <= set(range(1, 21))  # glyph i has brightness (i + 1) / 64


def test_non_finite_images_are_refused_with_the_first_bad_index(tmp_path):
    x_train = np.zeros((3, 4, 4), np.float32)
    x_train[1, 2, 3] = np.nan
    x_train[2, 0, 0] = np.inf
    path = tmp_path / "nan.npz"
    np.savez(
        path,
        x_train=x_train,
        y_train=np.array([0, 1, 0]),
        x_val=np.zeros((2, 4, 4)),
        y_val=np.array([0, 1]),
    )
    with pytest.raises(InputError) as error:
        load_npz(path)
    assert error.value.messages == [
        f"{path}: x_train[1, 2, 3] is nan: every pixel must be a finite number (2 are "
        "not); fix or drop those images"
    ]


def image_folder(root, counts: dict[str, int]):
    from PIL import Image

    for name, count in counts.items():
        (root / name).mkdir(parents=True)
        for i in range(count):
            Image.new("RGB", (6, 6), (40 * i, 0, 0)).save(root / name / f"{i}.png")
    return root


def test_a_folder_too_small_to_hold_out_a_validation_image_is_refused(tmp_path):
    from cbamgen.compare.data import load_directory

    folder = image_folder(tmp_path / "images", {"a": 1, "b": 1})
    with pytest.raises(InputError) as error:
        load_directory(folder)
    assert error.value.messages == [
        f"{folder}: 2 images: 20% of them are held out for validation, which leaves "
        "none below 5 images; add images (for a validation accuracy worth comparing, "
        "at least 50 per class)"
    ]


def test_a_file_that_is_not_an_image_is_named(tmp_path):
    from cbamgen.compare.data import load_directory

    folder = image_folder(tmp_path / "images", {"a": 3, "b": 3})
    (folder / "b" / "broken.png").write_bytes(b"not a png at all")
    with pytest.raises(InputError) as error:
        load_directory(folder)
    first, last = error.value.messages
    assert first.startswith(
        f"{folder / 'b' / 'broken.png'}: not an image TensorFlow can read ("
    )
    assert last == (
        f"{folder}: 1 file(s) with an image suffix are not images: remove them, or "
        "convert them to PNG or JPEG"
    )


def test_reading_a_folder_prints_nothing_on_stdout(tmp_path, capfd):
    from cbamgen.compare.data import load_directory

    data = load_directory(image_folder(tmp_path / "images", {"a": 5, "b": 5}))
    assert len(data.x_train) + len(data.x_val) == 10
    assert capfd.readouterr().out == ""


def test_a_small_validation_split_is_a_warning():
    from cbamgen.compare.command import data_warnings
    from cbamgen.compare.data import Dataset

    x = np.zeros((4, 2, 2, 1), np.float32)
    small = Dataset("d", x, np.array([0, 1, 2, 0]), x[:2], np.array([0, 1]), 3, "f")
    assert data_warnings(small) == [
        "the validation split has no image of class 2 (of 3): those classes are not "
        "measured",
        "the validation split has fewer than 10 images of class 0, 1 (2 validation "
        "images in all, one image = 50.0 points of accuracy): differences between "
        "blocks will be mostly noise; use more data",
    ]
    enough = Dataset("d", x, np.array([0, 1, 0, 1]), x, np.repeat([0, 1], 10), 2, "f")
    assert data_warnings(enough) == []
