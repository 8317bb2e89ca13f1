"""Training data: find the paintings (Painter by Numbers CSV or one folder per class), split them by
painting, and feed them to Keras through tf.data.

Finding and splitting do not touch TensorFlow, so bad data folders are reported at once, before the
slow TensorFlow import.
"""

import collections
import csv
import os
import random
import threading
from dataclasses import dataclass, field

import numpy as np

from artnet.errors import UserError
from artnet.images import ImageError, five_crops, load_image, square_image
from artnet.styles import MOVEMENTS, movement_of

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".webp", ".gif", ".bmp", ".tif", ".tiff")
# Painter by Numbers as Kaggle ships it: the full table, or the one for the training images only.
PBN_TABLES = {"all_data_info.csv": "new_filename", "train_info.csv": "filename"}
PBN_IMAGE_FOLDERS = ("train", "test", ".")
# Every split needs at least one painting of every movement.
MIN_PAINTINGS_PER_MOVEMENT = 3


class DataError(UserError):
    """A data folder that cannot be trained on. The message is one line that says what to do."""


@dataclass(frozen=True)
class Painting:
    path: str
    movement: str


@dataclass
class DataSource:
    """The paintings found in a data folder, and what was left out and why."""

    layout: str
    paintings: list
    skipped: collections.Counter = field(default_factory=collections.Counter)
    unmapped_styles: collections.Counter = field(default_factory=collections.Counter)

    @property
    def labels(self):
        """The movements that have paintings, in the fixed order of artnet.styles.MOVEMENTS."""
        present = {painting.movement for painting in self.paintings}
        return [movement for movement in MOVEMENTS if movement in present]

    def counts(self):
        counter = collections.Counter(painting.movement for painting in self.paintings)
        return {movement: counter[movement] for movement in self.labels}


def find_paintings(data_dir):
    """The paintings in `data_dir`, in either layout. Raises DataError."""
    data_dir = os.fspath(data_dir)
    if not os.path.isdir(data_dir):
        raise DataError(f"There is no data folder at {data_dir!r}. Give the folder that holds the paintings.")
    tables = [name for name in PBN_TABLES if os.path.isfile(os.path.join(data_dir, name))]
    source = _painter_by_numbers(data_dir, tables[0]) if tables else _class_folders(data_dir)
    if not source.paintings:
        raise DataError(
            f"No usable paintings in {data_dir!r}. Expected Painter by Numbers (all_data_info.csv or "
            "train_info.csv beside train/ and test/) or one folder per movement or style (DIR/Cubism/*.jpg)."
        )
    if len(source.labels) < 2:
        raise DataError(f"{data_dir!r} only has paintings of {source.labels[0]}; at least two movements are needed.")
    return source


def _painter_by_numbers(data_dir, table):
    filename_column = PBN_TABLES[table]
    source = DataSource(layout=f"Painter by Numbers ({table})", paintings=[])
    with open(os.path.join(data_dir, table), newline="", encoding="utf-8") as file:
        reader = csv.DictReader(file)
        missing_columns = {filename_column, "style"} - set(reader.fieldnames or [])
        if missing_columns:
            raise DataError(f"{table} has no column {', '.join(sorted(missing_columns))}; is it the Kaggle file?")
        for row in reader:
            style = (row.get("style") or "").strip()
            movement = movement_of(style)
            if movement is None:
                source.skipped["unmapped style"] += 1
                source.unmapped_styles[style or "(no style)"] += 1
                continue
            path = _find_file(data_dir, row[filename_column])
            if path is None:
                source.skipped["missing file"] += 1
                continue
            source.paintings.append(Painting(path, movement))
    return source


def _find_file(data_dir, filename):
    for folder in PBN_IMAGE_FOLDERS:
        path = os.path.join(data_dir, folder, filename)
        if os.path.isfile(path):
            return os.path.normpath(path)
    return None


def _class_folders(data_dir):
    source = DataSource(layout="one folder per class", paintings=[])
    for name in sorted(os.listdir(data_dir)):
        folder = os.path.join(data_dir, name)
        if not os.path.isdir(folder) or name.startswith("."):
            continue
        images = [
            os.path.join(folder, file)
            for file in sorted(os.listdir(folder))
            if file.lower().endswith(IMAGE_EXTENSIONS) and os.path.isfile(os.path.join(folder, file))
        ]
        movement = movement_of(name)
        if movement is None:
            source.skipped["unmapped style"] += len(images)
            source.unmapped_styles[name] += len(images)
            continue
        source.paintings.extend(Painting(path, movement) for path in images)
    return source


def split_paintings(paintings, validation_fraction=0.15, test_fraction=0.15, seed=42):
    """Split by painting, stratified by movement and seeded: (train, validation, test) lists.

    Every movement gets at least one painting in each split. Raises DataError when a movement has too
    few paintings for that.
    """
    if not (0 < validation_fraction < 1 and 0 < test_fraction < 1 and validation_fraction + test_fraction < 1):
        raise DataError("The validation and test fractions must be between 0 and 1 and leave paintings to train on.")
    by_movement = collections.defaultdict(list)
    for painting in paintings:
        by_movement[painting.movement].append(painting)
    generator = random.Random(seed)
    train, validation, test = [], [], []
    for movement in MOVEMENTS:
        group = sorted(by_movement.get(movement, []), key=lambda painting: painting.path)
        if not group:
            continue
        if len(group) < MIN_PAINTINGS_PER_MOVEMENT:
            raise DataError(
                f"{movement} has only {len(group)} painting(s); each movement needs at least "
                f"{MIN_PAINTINGS_PER_MOVEMENT} to appear in train, validation and test. Add paintings of it."
            )
        generator.shuffle(group)
        validation_count = max(1, round(len(group) * validation_fraction))
        test_count = max(1, round(len(group) * test_fraction))
        test.extend(group[:test_count])
        validation.extend(group[test_count : test_count + validation_count])
        train.extend(group[test_count + validation_count :])
    return train, validation, test


class DecodeFailures:
    """Paintings that could not be decoded during training, counted once each (thread-safe)."""

    def __init__(self):
        self._lock = threading.Lock()
        self.paths = {}

    def add(self, path, reason):
        with self._lock:
            self.paths.setdefault(path, reason)

    def __len__(self):
        return len(self.paths)


def training_views(path, image_size):
    """The samples one painting gives for training: the whole painting padded and resized, then the
    five full-resolution crops. Decoded once. A (6, size, size, 3) uint8 array."""
    painting = load_image(path)
    views = [square_image(painting, image_size), *five_crops(painting, image_size)]
    return np.stack([np.asarray(view, dtype=np.uint8) for view in views])


def whole_view(path, image_size):
    """The whole painting padded and resized: what the app shows the model. (1, size, size, 3) uint8."""
    return np.asarray(square_image(load_image(path), image_size), dtype=np.uint8)[np.newaxis]


def tta_views(path, image_size):
    """Test-time augmentation: the whole painting and its five crops, each also flipped left-right."""
    views = training_views(path, image_size)
    return np.concatenate([views, views[:, :, ::-1]])


def make_dataset(paintings, labels, image_size, views, batch_size, failures, shuffle_seed=None, cache=None):
    """A tf.data pipeline of (pixels, one-hot label) batches.

    `views(path, size)` turns one painting into one or more samples (training_views, whole_view). It
    runs in parallel threads (Pillow releases the GIL while it decodes and resizes); a painting that
    fails to decode is counted in `failures` and skipped. `cache` is None, "memory" or a file path
    prefix: decoded samples are then reused from the second epoch on. Shuffling happens after the
    cache, so every epoch sees a new order.
    """
    import tensorflow as tf  # here, so that finding and splitting data never wait for TensorFlow

    label_index = {label: index for index, label in enumerate(labels)}
    paths = [painting.path for painting in paintings]
    indices = [label_index[painting.movement] for painting in paintings]

    def decode(path, label):
        path = path.numpy().decode("utf-8")
        try:
            samples = views(path, image_size)
        except (ImageError, OSError) as error:
            failures.add(path, str(error))
            samples = np.zeros((0, image_size, image_size, 3), np.uint8)
        return samples, np.full(len(samples), int(label), np.int32)

    def decode_in_python(path, label):
        samples, sample_labels = tf.py_function(decode, [path, label], [tf.uint8, tf.int32])
        samples.set_shape([None, image_size, image_size, 3])
        sample_labels.set_shape([None])
        return samples, sample_labels

    dataset = tf.data.Dataset.from_tensor_slices((paths, indices))
    if shuffle_seed is not None:
        # Shuffling the paintings first spreads the expensive decodes of large files across the epoch.
        dataset = dataset.shuffle(len(paths), seed=shuffle_seed, reshuffle_each_iteration=False)
    # Paintings decode in parallel, and each one's samples stay together: evaluation averages a painting's
    # views by position. (interleave would mix the samples of the paintings it decodes side by side, as
    # soon as the machine has enough cores for it to decode several.) Training order is shuffled anyway,
    # so decoding may finish out of order; evaluation keeps the order of `paintings`.
    dataset = dataset.map(
        decode_in_python, num_parallel_calls=tf.data.AUTOTUNE, deterministic=shuffle_seed is None
    ).unbatch()
    if cache == "memory":
        dataset = dataset.cache()
    elif cache:
        dataset = dataset.cache(cache)
    if shuffle_seed is not None:
        dataset = dataset.shuffle(4096, seed=shuffle_seed, reshuffle_each_iteration=True)
    one_hot = len(labels)
    dataset = dataset.map(
        lambda pixels, label: (tf.cast(pixels, tf.float32), tf.one_hot(label, one_hot)),
        num_parallel_calls=tf.data.AUTOTUNE,
    )
    return dataset.batch(batch_size).prefetch(tf.data.AUTOTUNE)
