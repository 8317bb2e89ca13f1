"""The feature cache: computed once, reused only when nothing it depends on changed, never taken from a
half-written or corrupt folder."""

import logging
import os
import re

import keras
import numpy as np
import pytest

from artnet.data.paintings import Painting, find_paintings
from artnet.data.way_in import WayIn, look
from artnet.model.network import apply_freeze_policy, build_model, split_at_training
from artnet.train import features as feature_cache
from artnet.train.features import load_or_build

from datasets import write_class_folders
from synthetic import painting

pytestmark = pytest.mark.slow

VIEWS = ("whole", "squashed")
SIZE = 64
WAY_IN = WayIn(SIZE)


@pytest.fixture(scope="module")
def trunk():
    keras.utils.set_random_seed(0)
    model = apply_freeze_policy(build_model(5, SIZE, None, "mobilenet_0.75", "style"), "head", "mobilenet_0.75")
    return split_at_training(model)[0]


@pytest.fixture
def paintings(tmp_path):
    return find_paintings(write_class_folders(tmp_path / "data", per_style=3)).paintings


class Lines(logging.Handler):
    """What the feature cache reports, line by line."""

    def __init__(self):
        super().__init__(logging.INFO)
        self.lines = []

    def emit(self, record):
        self.lines.append(record.getMessage())


def build(trunk, paintings, root):
    reported = Lines()
    logger = logging.getLogger(feature_cache.__name__)
    level = logger.level
    logger.addHandler(reported)
    logger.setLevel(logging.INFO)
    try:
        cached = load_or_build(trunk, paintings, VIEWS, WAY_IN, root, progress=False)
    finally:
        logger.removeHandler(reported)
        logger.setLevel(level)
    return cached, reported.lines


def values(cached):
    return np.array(cached.arrays[0])


def test_a_cache_is_computed_once_and_reused_with_the_same_values(trunk, paintings, tmp_path, monkeypatch):
    first, lines = build(trunk, paintings, tmp_path / "cache")
    assert lines[-1].startswith(f"Cached the features of {len(paintings)} paintings x 2 views in ")
    # The machine's speed, which the docs' times scale by.
    assert re.search(r" in \d+ s \(\d+\.\d s per 1,000 views\)\.$", lines[-1]), lines[-1]
    assert first.arrays[0].shape == (len(paintings), 2, trunk.output_shape[-1])
    # The corrupt JPEG of the generated data has zeros and its reason.
    assert [os.path.basename(path) for path in first.failures] == ["corrupt.jpg"]
    second, lines = build(trunk, paintings, tmp_path / "cache")
    assert lines == [f"Using the cached features in {second.folder}."]
    assert second.folder == first.folder and np.array_equal(values(second), values(first))
    # The same paintings named from another folder are the same paintings.
    elsewhere = [Painting(os.path.relpath(p.path, tmp_path), p.movement) for p in paintings]
    monkeypatch.chdir(tmp_path)
    third, _ = build(trunk, elsewhere, tmp_path / "cache")
    assert third.folder == first.folder and np.array_equal(third.rows(elsewhere), first.rows(paintings))
    # What the cache holds is what the trunk computes.
    row = first.rows(paintings[:1])[0]
    pixels = np.asarray(feature_cache.VIEWS["whole"](look(paintings[0].path, WAY_IN).model_copy, SIZE), np.float32)
    assert np.allclose(first.arrays[0][row, 0], trunk(pixels[np.newaxis])[0], atol=1e-5)


def test_a_changed_painting_makes_a_new_cache_and_the_stale_one_is_not_used(trunk, paintings, tmp_path):
    first, _ = build(trunk, paintings, tmp_path / "cache")
    changed = next(p for p in paintings if "corrupt" not in p.path)
    painting("noise", seed=99, size=(50, 40)).save(changed.path)
    os.utime(changed.path, ns=(os.stat(changed.path).st_atime_ns, os.stat(changed.path).st_mtime_ns + 10**9))
    second, lines = build(trunk, paintings, tmp_path / "cache")
    assert lines[-1].startswith("Cached the features of") and second.folder != first.folder
    row = second.rows([changed])[0]
    assert not np.array_equal(values(second)[row], values(first)[row])


def test_other_weights_or_views_make_a_new_cache(trunk, paintings, tmp_path):
    first, _ = build(trunk, paintings, tmp_path / "cache")
    other = keras.models.clone_model(trunk)  # the same architecture, freshly initialised
    assert load_or_build(other, paintings, VIEWS, WAY_IN, tmp_path / "cache", progress=False).folder != first.folder
    assert load_or_build(trunk, paintings, VIEWS[:1], WAY_IN, tmp_path / "cache", progress=False).folder != first.folder
    # Images prepared another way make other features.
    unencoded = WayIn(SIZE, jpeg_quality=None)
    assert load_or_build(trunk, paintings, VIEWS, unencoded, tmp_path / "cache", progress=False).folder != first.folder


def test_a_run_killed_while_computing_leaves_nothing_that_a_later_run_takes_for_complete(
    trunk, paintings, tmp_path, monkeypatch
):
    root = tmp_path / "cache"
    calls = []
    original = feature_cache.look

    def dies_midway(path, way_in, whole=False):
        calls.append(path)
        if len(calls) == 10:
            raise KeyboardInterrupt
        return original(path, way_in, whole)

    monkeypatch.setattr(feature_cache, "look", dies_midway)
    with pytest.raises(KeyboardInterrupt):
        build(trunk, paintings, root)
    assert os.listdir(root) == []
    monkeypatch.setattr(feature_cache, "look", original)
    # A SIGKILL leaves its half-written folder behind: it is never read, and the next run deletes it.
    complete, _ = build(trunk, paintings, root)
    key = os.path.basename(complete.folder)
    abandoned = root / f".{key}.999999999.partial"
    abandoned.mkdir()
    (abandoned / "features_0.npy").write_bytes(b"half")
    (root / key / feature_cache.META_FILE).unlink()
    rebuilt, lines = build(trunk, paintings, root)
    assert lines[0] == f"The feature cache in {rebuilt.folder} is unusable (no meta.json); computing it again."
    assert np.array_equal(values(rebuilt), values(complete))
    assert sorted(os.listdir(root)) == [key]


def test_a_corrupt_cache_is_computed_again_with_one_line_that_says_so(trunk, paintings, tmp_path):
    first, _ = build(trunk, paintings, tmp_path / "cache")
    expected = values(first)
    path = os.path.join(first.folder, "features_0.npy")
    with open(path, "r+b") as file:
        file.seek(-16, os.SEEK_END)
        file.write(b"\xff" * 16)
    second, lines = build(trunk, paintings, tmp_path / "cache")
    assert (
        lines[0]
        == f"The feature cache in {first.folder} is unusable (features_0.npy does not match its digest); computing it again."
    )
    assert np.array_equal(values(second), expected)
    os.truncate(path, 1000)
    third, lines = build(trunk, paintings, tmp_path / "cache")
    assert "is unusable" in lines[0] and np.array_equal(values(third), expected)


def test_a_cache_too_large_for_float32_is_kept_in_float16(trunk, paintings, tmp_path, monkeypatch):
    monkeypatch.setattr(feature_cache, "FLOAT32_LIMIT_BYTES", 1000)
    cached, _ = build(trunk, paintings, tmp_path / "cache")
    assert cached.arrays[0].dtype == np.float16 and isinstance(cached.arrays[0], np.memmap)


def test_without_a_trunk_each_row_holds_its_own_paintings_views_in_order(tmp_path):
    # Every painting of its own flat colour, so that each cached view shows whose it is.
    from PIL import Image

    paintings = []
    for index in range(12):
        path = tmp_path / f"{index}.png"
        Image.new("RGB", (90 + index, 70), (20 * index, 255 - 20 * index, 7 * index)).save(path)
        paintings.append(Painting(str(path), "Cubism"))
    # The pixels as given: not through JPEG, which moves a flat colour by a level or so.
    as_given = WayIn(16, jpeg_quality=None, find_painting=False)
    cached = load_or_build(
        None, paintings, ("whole", "flipped", "squashed", "centre"), as_given, tmp_path / "cache", progress=False
    )
    pixels = cached.arrays[0]
    assert pixels.dtype == np.uint8 and pixels.shape == (12, 4, 16, 16, 3)
    for index in range(12):
        assert (pixels[index, :, 8, 8] == (20 * index, 255 - 20 * index, 7 * index)).all(), f"painting {index}"
    rows = cached.rows(paintings[::-1][:3])
    assert rows.tolist() == [11, 10, 9]
    taken = cached.take(np.array([5, 2, 5]), np.array([0, 3, 1]))[0]
    assert (taken[:, 8, 8] == [(100, 155, 35), (40, 215, 14), (100, 155, 35)]).all()
