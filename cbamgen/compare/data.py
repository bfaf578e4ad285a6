"""The images a comparison trains on: the built-in cluttered-digits task, an ``.npz``
file, or a folder with one sub-folder per class.

Everything ends as :class:`Dataset`: float32 images in [0, 1] (batch, height, width,
channels) and int labels 0 .. classes - 1, already split into training and validation.
Only this module knows where images come from; it imports scikit-learn (digits) and
Keras (folders) only for the source asked for.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .inputs import InputError

DIGITS = "digits"
CANVAS = 32  # the digits task's image side, pixels
DIGIT_SCALE = 2  # the 8x8 digits are drawn at 16x16
CLUTTER_PIECES = 3
PIECE = 6  # side of a clutter piece cut from another (scaled) digit
TRAIN_COPIES = 3  # canvases per training digit (one is memorised: 100% train, 28% val)
VAL_COPIES = 2  # canvases per validation digit: 718 images, a steadier accuracy
NOISE = 0.1
VALIDATION_FRACTION = 0.2
IMAGE_SUFFIXES = {".bmp", ".gif", ".jpeg", ".jpg", ".png"}


@dataclass(frozen=True)
class Dataset:
    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    classes: int
    #: Changes whenever the images or labels could have changed (trials are keyed on it).
    fingerprint: str

    @property
    def input_shape(self) -> tuple[int, int, int]:
        return tuple(self.x_train.shape[1:])

    def limited(self, train: int | None, val: int | None) -> Dataset:
        """The first ``train`` / ``val`` examples (the splits are already shuffled)."""
        if train is None and val is None:
            return self
        return Dataset(
            self.name,
            self.x_train[:train],
            self.y_train[:train],
            self.x_val[:val],
            self.y_val[:val],
            self.classes,
            f"{self.fingerprint}:{train}:{val}",
        )


def load_data(source: str) -> Dataset:
    """``digits`` or a path to an ``.npz`` file or a class-per-folder directory."""
    if source == DIGITS:
        return digits_task()
    path = Path(source)
    if path.is_dir():
        return load_directory(path)
    if path.suffix == ".npz" and path.is_file():
        return load_npz(path)
    raise InputError(
        [
            f"--data {source}: not found; give 'digits', an .npz file with x_train, "
            "y_train, x_val, y_val, or a directory with one sub-folder of images per "
            "class"
        ]
    )


def digits_task(seed: int = 0) -> Dataset:
    """scikit-learn's 1,797 8x8 digits, each drawn at 16x16 at a random place on a
    32x32 canvas with pieces cut from other digits and Gaussian noise.

    The pieces look like strokes of digits, so a model must find the whole digit among
    them: a task where *where* to look matters. 20% of the digits (stratified) are the
    validation split. Each digit is drawn on several canvases (``TRAIN_COPIES``,
    ``VAL_COPIES``), each with its own place and clutter. Deterministic for a given
    seed.
    """
    from sklearn.datasets import load_digits

    digits = load_digits()
    rng = np.random.default_rng(seed)
    glyphs = np.kron(digits.images / 16.0, np.ones((DIGIT_SCALE, DIGIT_SCALE)))
    labels = digits.target.astype(np.int32)
    train, val = _stratified_split(labels, rng)
    # Clutter comes from the same split as the digit: no validation glyph is seen
    # in training, not even a piece of one.
    x_train, x_val = (
        _canvases(glyphs, labels, np.tile(which, copies), which, rng)
        for which, copies in ((train, TRAIN_COPIES), (val, VAL_COPIES))
    )
    train, val = np.tile(train, TRAIN_COPIES), np.tile(val, VAL_COPIES)
    return Dataset(
        DIGITS,
        x_train,
        labels[train],
        x_val,
        labels[val],
        10,
        f"digits-seed{seed}",  # compare keys trials on this module's code too
    )


def _canvases(
    glyphs: np.ndarray,
    labels: np.ndarray,
    which: np.ndarray,
    pool: np.ndarray,
    rng: np.random.Generator,
) -> np.ndarray:
    """A canvas per digit in ``which``, cluttered with pieces of other digits from
    ``pool`` (its own split)."""
    side = glyphs.shape[1]
    canvases = np.zeros((len(which), CANVAS, CANVAS))
    for canvas, i in zip(canvases, which, strict=True):
        for _ in range(CLUTTER_PIECES):
            other = glyphs[rng.choice(pool[labels[pool] != labels[i]])]
            top, left = rng.integers(0, side - PIECE + 1, size=2)
            _paste(canvas, other[top : top + PIECE, left : left + PIECE], rng)
        _paste(canvas, glyphs[i], rng)
    canvases += rng.normal(0.0, NOISE, canvases.shape)
    return np.clip(canvases, 0.0, 1.0).astype(np.float32)[..., None]


def _paste(canvas: np.ndarray, patch: np.ndarray, rng: np.random.Generator) -> None:
    """Draw ``patch`` at a random place; overlapping strokes keep the brighter pixel."""
    top, left = rng.integers(0, CANVAS - patch.shape[0] + 1, size=2)
    region = canvas[top : top + patch.shape[0], left : left + patch.shape[1]]
    np.maximum(region, patch, out=region)


def _stratified_split(
    labels: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    train, val = [], []
    for label in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == label))
        cut = int(round(len(members) * VALIDATION_FRACTION))
        val.extend(members[:cut])
        train.extend(members[cut:])
    return rng.permutation(train), rng.permutation(val)


def load_npz(path: Path) -> Dataset:
    """An ``.npz`` with ``x_train``, ``y_train``, ``x_val``, ``y_val``: images
    (N, H, W) or (N, H, W, C), integer labels 0 .. K - 1. Integer images are divided by
    255."""
    try:
        with np.load(path, allow_pickle=False) as arrays:
            missing = sorted({"x_train", "y_train", "x_val", "y_val"} - set(arrays))
            if missing:
                raise InputError(
                    [
                        f"{path}: missing array(s) {', '.join(missing)}; the file needs "
                        "x_train, y_train, x_val, y_val"
                    ]
                )
            parts = {
                name: arrays[name] for name in ("x_train", "y_train", "x_val", "y_val")
            }
    except (OSError, ValueError) as exc:
        raise InputError([f"{path}: not a readable .npz file ({exc})"]) from None
    x_train, x_val = (_images(path, name, parts[name]) for name in ("x_train", "x_val"))
    y_train, y_val = (_labels(path, name, parts[name]) for name in ("y_train", "y_val"))
    for x, y, split in ((x_train, y_train, "train"), (x_val, y_val, "val")):
        if len(x) != len(y):
            raise InputError(
                [f"{path}: x_{split} has {len(x)} images but y_{split} {len(y)} labels"]
            )
    if x_train.shape[1:] != x_val.shape[1:]:
        raise InputError(
            [
                f"{path}: x_train images are {x_train.shape[1:]} but x_val images "
                f"{x_val.shape[1:]}; both splits need the same image shape"
            ]
        )
    classes = _check_classes(str(path), y_train, y_val)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    return Dataset(path.name, x_train, y_train, x_val, y_val, classes, f"npz-{digest}")


def _images(path: Path, name: str, x: np.ndarray) -> np.ndarray:
    if np.issubdtype(x.dtype, np.inexact) and not np.all(np.isfinite(x)):
        index = tuple(int(i) for i in np.argwhere(~np.isfinite(x))[0])
        raise InputError(
            [
                f"{path}: {name}[{', '.join(map(str, index))}] is {x[index]}: every "
                f"pixel must be a finite number ({int(np.sum(~np.isfinite(x)))} are "
                "not); fix or drop those images"
            ]
        )
    if x.ndim == 3:
        x = x[..., None]
    if x.ndim != 4 or not (np.issubdtype(x.dtype, np.number) and x.size):
        raise InputError(
            [
                f"{path}: {name} must be a non-empty array of images (N, H, W) or "
                f"(N, H, W, C); it is {x.dtype} {x.shape}"
            ]
        )
    scale = 255.0 if np.issubdtype(x.dtype, np.integer) else 1.0
    return (x / scale).astype(np.float32)


def _labels(path: Path, name: str, y: np.ndarray) -> np.ndarray:
    if y.ndim == 2 and y.shape[1] == 1:  # (N, 1), as Keras datasets give them
        y = y[:, 0]
    if y.ndim != 1 or not np.issubdtype(y.dtype, np.integer):
        raise InputError(
            [
                f"{path}: {name} must be integer class labels, one per image; it is "
                f"{y.dtype} {y.shape}"
            ]
        )
    return y.astype(np.int32)


def _check_classes(where: str, y_train: np.ndarray, y_val: np.ndarray) -> int:
    labels = np.concatenate([y_train, y_val])
    if labels.min() < 0:
        raise InputError([f"{where}: labels must be 0 .. K - 1; found {labels.min()}"])
    found = np.unique(y_train)
    if len(found) < 2:
        raise InputError(
            [
                f"{where}: the training split has {len(found)} class(es); a "
                "classification needs at least two"
            ]
        )
    return int(labels.max()) + 1


def load_directory(path: Path) -> Dataset:
    """One sub-folder of images per class, read by Keras's
    ``image_dataset_from_directory`` (20% held out for validation, fixed seed)."""
    folders = sorted(p for p in path.iterdir() if p.is_dir())
    with_images = [f for f in folders if any(_images_in(f))]
    if len(with_images) < 2:
        found = ", ".join(f.name for f in with_images) or "none"
        raise InputError(
            [
                f"{path}: found {len(with_images)} class folder(s) with images "
                f"({found}); a comparison needs one sub-folder of images per class, "
                "at least two"
            ]
        )
    files = sorted(f for folder in with_images for f in _images_in(folder))
    held_out = int(VALIDATION_FRACTION * len(files))
    if held_out == 0:
        smallest = int(np.ceil(1 / VALIDATION_FRACTION))
        raise InputError(
            [
                f"{path}: {len(files)} images: {VALIDATION_FRACTION:.0%} of them are "
                f"held out for validation, which leaves none below {smallest} images; "
                "add images (for a validation accuracy worth comparing, at least "
                "50 per class)"
            ]
        )
    try:
        x_train, y_train, x_val, y_val = _read_folder(path, with_images)
    except Exception as exc:  # what TensorFlow or PIL raise for a file they cannot read
        raise InputError(_unreadable(path, files, exc)) from None
    classes = _check_classes(str(path), y_train, y_val)
    listing = sorted(
        (str(f.relative_to(path)), f.stat().st_size, f.stat().st_mtime_ns)
        for f in files
    )
    digest = hashlib.sha256(repr(listing).encode()).hexdigest()[:16]
    return Dataset(path.name, x_train, y_train, x_val, y_val, classes, f"dir-{digest}")


def _read_folder(path: Path, with_images: list[Path]):
    import keras

    # Keras prints "Found N files ... Using N files for training" on stdout, which
    # holds the command's results.
    with contextlib.redirect_stdout(io.StringIO()):
        train, val = keras.utils.image_dataset_from_directory(
            path,
            validation_split=VALIDATION_FRACTION,
            subset="both",
            seed=0,
            shuffle=True,
            batch_size=None,
            image_size=_first_image_size(with_images),
            color_mode="rgb",
            verbose=False,
        )
    return (*_to_numpy(train), *_to_numpy(val))


def _unreadable(path: Path, files: list[Path], exc: Exception) -> list[str]:
    """Which files TensorFlow cannot decode (as Keras reads them), once reading the
    folder has failed."""
    import tensorflow as tf

    bad = []
    for file in files:
        try:
            tf.io.decode_image(tf.io.read_file(str(file)), expand_animations=False)
        except Exception as error:  # tf.errors.InvalidArgumentError and the like
            reason = str(getattr(error, "message", error)).strip().splitlines()[0]
            bad.append(f"{file}: not an image TensorFlow can read ({reason})")
    if not bad:
        reason = " ".join(str(exc).strip().splitlines()[:2])
        return [f"{path}: cannot read the images: {type(exc).__name__}: {reason}"]
    more = f" (and {len(bad) - 5} more)" if len(bad) > 5 else ""
    return bad[:5] + [
        f"{path}: {len(bad)} file(s) with an image suffix are not images{more}: "
        "remove them, or convert them to PNG or JPEG"
    ]


def _images_in(folder: Path):
    return (f for f in folder.rglob("*") if f.suffix.lower() in IMAGE_SUFFIXES)


def _first_image_size(folders: list[Path]) -> tuple[int, int]:
    """Images are resized to the size of the first one (Keras needs one size)."""
    from PIL import Image

    with Image.open(next(_images_in(folders[0]))) as image:
        return image.height, image.width


def _to_numpy(dataset) -> tuple[np.ndarray, np.ndarray]:
    images, labels = [], []
    for x, y in dataset.as_numpy_iterator():
        images.append(x)
        labels.append(y)
    return (np.stack(images) / 255.0).astype(np.float32), np.array(labels, np.int32)
